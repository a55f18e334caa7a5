import { describe, expect, it } from 'vitest';
import type { JsonObject, StageInstance, StageKind } from '../../engine/stage.js';
import { effectiveParams, parseParamsFile, readJsonFile } from '../../engine/params.js';
import { replicateSeeds } from '../../stages/replicates.js';
import trainStage from '../../stages/train.js';
import lcPoisonStage from '../../stages/lc-poison.js';
import uapStage from '../../stages/uap.js';
import autoencoderStage from '../../stages/autoencoder.js';
import evaluateStage from '../../stages/evaluate.js';
import finePruningStage from '../../stages/fine-pruning.js';
import neuralCleanseStage from '../../stages/neural-cleanse.js';
import sensitivityStage from '../../stages/sensitivity.js';
import saliencyStage from '../../stages/saliency.js';
import cdrpStage from '../../stages/cdrp.js';
import physicalStage from '../../stages/physical.js';

const file = parseParamsFile(readJsonFile('params.json', 'params.json'), 'params.json');
const smoke = (seeds: unknown): JsonObject => effectiveParams(file, { profile: 'smoke', overrides: [`training.seeds=${JSON.stringify(seeds)}`] }).params;

/** Every per-model stage kind: each must expand once per replicate seed. */
const PER_SEED: Record<string, StageKind> = {
  train: trainStage as unknown as StageKind,
  'lc-poison': lcPoisonStage as unknown as StageKind,
  uap: uapStage as unknown as StageKind,
  autoencoder: autoencoderStage as unknown as StageKind,
  evaluate: evaluateStage as unknown as StageKind,
  'fine-pruning': finePruningStage as unknown as StageKind,
  'neural-cleanse': neuralCleanseStage as unknown as StageKind,
  sensitivity: sensitivityStage as unknown as StageKind,
  saliency: saliencyStage as unknown as StageKind,
  cdrp: cdrpStage as unknown as StageKind,
  physical: physicalStage as unknown as StageKind,
};

const byId = (list: StageInstance[]) => new Map(list.map((i) => [i.id, i]));

describe('replicate seeds (training.seeds)', () => {
  it('reads the seeds in order and refuses duplicates and non-integers, naming the bad value', () => {
    expect(replicateSeeds(smoke([2, 0, 1]))).toEqual([2, 0, 1]);
    expect(() => replicateSeeds(smoke([0, 1, 0]))).toThrow(/seed 0 twice/);
    expect(() => replicateSeeds(smoke([0, 1.5]))).toThrow(/1\.5 is not a non-negative integer seed/);
    expect(() => replicateSeeds(smoke(['a']))).toThrow(/"a" is not a non-negative integer seed/);
    expect(() => replicateSeeds(smoke([]))).toThrow(/non-empty list/);
  });

  for (const [kind, stage] of Object.entries(PER_SEED)) {
    it(`${kind}: adding seed 1 adds only seed-1 instances and leaves seed 0's untouched`, () => {
      const one = byId(stage.instances(smoke([0])) as StageInstance[]);
      const two = byId(stage.instances(smoke([0, 1])) as StageInstance[]);
      expect(one.size).toBeGreaterThan(0);
      // Seed 0's instances are the same ids with the same params and deps: their cache stays valid.
      for (const [id, inst] of one) {
        expect(two.get(id)?.params, id).toEqual(inst.params);
        expect(two.get(id)?.deps, id).toEqual(inst.deps);
      }
      const added = [...two.values()].filter((i) => !one.has(i.id));
      // One replica of every seed-0 instance, for seed 1: same count, ids with seed1 in place of seed0.
      expect(added.map((i) => i.id).sort()).toEqual([...one.keys()].map((id) => id.replace(/seed0\b/, 'seed1')).sort());
      for (const inst of added) {
        expect(inst.id).toMatch(/seed1\b/);
        const p = inst.params as JsonObject;
        expect(p.model ? (p.model as JsonObject).seed : p.seed, inst.id).toBe(1);
        // The model-based defenses draw their randomness from the model's seed, not a global one.
        if (kind === 'fine-pruning' || kind === 'neural-cleanse') expect(p.seed, inst.id).toBe(1);
        // Its upstream is seed 1's (or the shared data).
        for (const dep of Object.values(inst.deps ?? {})) expect(dep === 'data' || /seed1\b/.test(dep), `${inst.id} <- ${dep}`).toBe(true);
      }
    });
  }
});
