import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../engine/stage.js';
import { effectiveParams, parseParamsFile, readJsonFile } from '../../engine/params.js';
import trainStage, { readPlan, runsFor, withShrinkPadMax, type TrainStageParams } from '../../stages/train.js';
import evaluateStage from '../../stages/evaluate.js';
import { instancesGiven as figureInstances } from '../../stages/figure.js';
import { trainedIds, evaluatedIds } from '../../stages/availability.js';
import { isSMaxTrainId, sMaxTrainId, trainId } from '../../stages/ids.js';

const file = parseParamsFile(readJsonFile('params.json', 'params.json'), 'params.json');
const paramsOf = (profile: string, patch: (p: JsonObject) => void = () => undefined): JsonObject => {
  const p = structuredClone(effectiveParams(file, { profile, overrides: [] }).params);
  patch(p);
  return p;
};
const ablationOf = (p: JsonObject) => (p.analyses as JsonObject).ablation as unknown as { attacks: string[]; sMax: number; sMaxList: number[]; sMaxDefense: number };

describe('figure 13: s_max ablation models', () => {
  it('trains one enhanced model per non-default s_max, with the ShrinkPad maximum set to it', () => {
    const params = paramsOf('smoke', (p) => (ablationOf(p).sMaxList = [0, 2, 4]));
    const byId = new Map(trainStage.instances(params).map((i) => [i.id, i.params as TrainStageParams]));
    const two = byId.get(sMaxTrainId('small-cnn', 'badnets', 2, 0));
    expect(two?.variant).toBe('enhanced');
    expect(two?.enhanced?.transforms).toEqual([{ type: 'flip', p: 0.5 }, { type: 'shrinkpad', maxSize: 2 }]);
    // s_max 0 means no ShrinkPad at all during training.
    expect(byId.get(sMaxTrainId('small-cnn', 'badnets', 0, 0))?.enhanced?.transforms).toEqual([{ type: 'flip', p: 0.5 }]);
    // The default s_max is the ordinary enhanced model, not a second copy.
    expect(byId.has(sMaxTrainId('small-cnn', 'badnets', 4, 0))).toBe(false);
    expect(byId.get(trainId('small-cnn', 'badnets', 'enhanced', 0))?.enhanced?.transforms).toEqual([{ type: 'flip', p: 0.5 }, { type: 'shrinkpad', maxSize: 4 }]);
  });

  it('evaluates ablation models only without defense and under ShrinkPad-sMaxDefense', () => {
    const params = paramsOf('smoke');
    const model = sMaxTrainId('small-cnn', 'badnets', 2, 0);
    const evaluations = evaluateStage.instances(params).map((i) => i.id).filter((id) => id.startsWith(`evaluate/${model.slice('train/'.length)}/`));
    expect(evaluations.sort()).toEqual([`evaluate/small-cnn/badnets/enhanced-smax2/seed0/none`, `evaluate/small-cnn/badnets/enhanced-smax2/seed0/shrinkpad-4`]);
  });

  it('gives figure 13 a point for every s_max, under both defenses', () => {
    const params = paramsOf('smoke');
    const [fig13] = figureInstances({ ...params, report: { ...(params.report as JsonObject), figures: ['fig13'] } }, { trained: trainedIds(params), evaluated: evaluatedIds(params) });
    const points = Object.keys(fig13.deps ?? {}).filter((k) => k.startsWith('ev:')).sort();
    // Dependency names carry the replicate seed (ev:<seed>:...), one point per seed.
    expect(points).toEqual(['ev:0:small-cnn:badnets:enhanced:2:none', 'ev:0:small-cnn:badnets:enhanced:2:shrinkpad-4', 'ev:0:small-cnn:badnets:enhanced:4:none', 'ev:0:small-cnn:badnets:enhanced:4:shrinkpad-4']);
  });

  it('quick and paper profiles expand every (attack, s_max) pair', () => {
    for (const profile of ['quick', 'paper']) {
      const params = paramsOf(profile);
      const a = ablationOf(params);
      const plan = readPlan(params);
      // An attack's s_max variants are trained wherever its ordinary enhanced model is.
      const enhancedPairs = plan.models.architectures.flatMap((arch) => a.attacks.filter((attack) => runsFor(plan, arch).some((r) => r.attack === attack && r.variants.includes('enhanced'))));
      expect(enhancedPairs.length).toBeGreaterThan(0);
      const ids = trainStage.instances(params).map((i) => i.id).filter(isSMaxTrainId);
      expect(ids.length).toBe(enhancedPairs.length * a.sMaxList.filter((k) => k !== a.sMax).length);
    }
  });

  it('rejects an ablation attack that is not trained, and transforms without a ShrinkPad', () => {
    const params = paramsOf('smoke', (p) => (ablationOf(p).attacks = ['blended']));
    expect(() => trainStage.instances(params)).toThrow(/analyses\.ablation\.attacks names attack 'blended'.*trained: badnets, consistent, uap/);
    expect(() => withShrinkPadMax([{ type: 'flip', p: 0.5 }], 2)).toThrow(/no 'shrinkpad' transform/);
  });
});
