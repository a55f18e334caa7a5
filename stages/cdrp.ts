/**
 * Appendix G (figure 6): critical data routing paths of benign, attacked and ShrinkPad-attacked
 * images under the standard and enhanced version of an attack, and their layer-wise gate
 * correlations. One instance per (architecture, seed).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { Rng } from '../domain/common/rng.js';
import { analysesParams, archSpecs, targetClass } from '../domain/analyses/params.js';
import { replicateSeeds } from './replicates.js';
import { loadTestData, sampleNonTarget } from '../domain/analyses/inputs.js';
import { cdrpStudy } from '../domain/analyses/studies.js';
import { applyWithHooks } from '../domain/models/graph.js';
import { gateLayers } from '../domain/models/metadata.js';
import { factKey, CDRP_PAIRS, type Facts } from '../domain/report/facts.js';
import { trainedIds } from './availability.js';
import { bothVariantsTrained, loadPoisoned, variantPairDeps, VARIANTS } from './artifacts.js';

export interface CdrpStageParams extends JsonObject {
  arch: string;
  attack: string;
  images: number;
  lambda: number;
  steps: number;
  learningRate: number;
  shrinkSize: number;
  batchSize: number;
  target: number;
  seed: number;
}

export const cdrpId = (arch: string, attack: string, seed: number): string => `cdrp/${arch}/${attack}/seed${seed}`;

export function instancesGiven(params: JsonObject, trained: Set<string>): StageInstance<CdrpStageParams>[] {
  const a = analysesParams(params);
  const target = targetClass(params);
  const c = a.cdrp;
  // One instance per replicate seed, each on that seed's pair of models.
  return replicateSeeds(params).flatMap((seed) =>
    archSpecs(params)
      .filter((spec) => bothVariantsTrained(trained, spec.arch, c.attack, seed))
      .map((spec) => ({
        id: cdrpId(spec.arch, c.attack, seed),
        params: { arch: spec.arch, attack: c.attack, images: c.images, lambda: c.lambda, steps: c.steps, learningRate: c.learningRate, shrinkSize: c.shrinkSize, batchSize: c.batchSize, target, seed },
        deps: variantPairDeps(spec.arch, c.attack, seed),
        description: `CDRP gate correlations, ${spec.arch} ${c.attack} vs ${c.attack}+, seed ${seed}`,
      })),
  );
}

const kind: StageKind<CdrpStageParams> = {
  kind: 'cdrp',
  instances: (params: JsonObject) => instancesGiven(params, trainedIds(params)),
  async run(ctx: StageContext<CdrpStageParams>): Promise<void> {
    const p = ctx.params;
    const data = await loadTestData(ctx.inputs.data.dir);
    const images = sampleNonTarget(data.test, p.target, p.images, new Rng(p.seed).fork('cdrp-images'));
    const facts: Facts = {};
    const result: JsonObject = {};
    for (const [vi, variant] of VARIANTS.entries()) {
      const { model, trigger } = await loadPoisoned(ctx.inputs[variant]);
      const layers = gateLayers(model);
      const study = cdrpStudy(model, applyWithHooks, layers, images, trigger, p.shrinkSize, p.target, { lambda: p.lambda, steps: p.steps, learningRate: p.learningRate, batchSize: p.batchSize }, new Rng(p.seed).fork('cdrp-shrinkpad'), (done, total) =>
        ctx.progress({ message: `${variant}: gates`, current: vi * total + done, total: 2 * total, unit: 'img' }),
      );
      model.dispose();
      for (const pair of CDRP_PAIRS) {
        const rs = study.correlations[pair].map((c) => c.r);
        facts[factKey.cdrpMean(p.arch, p.attack, variant, pair)] = rs.reduce((s, r) => s + r, 0) / rs.length;
      }
      result[variant] = study as unknown as JsonObject;
    }
    await fs.writeFile(join(ctx.outDir, 'result.json'), JSON.stringify({ arch: p.arch, attack: p.attack, lambda: p.lambda, steps: p.steps, ...result }, null, 2) + '\n');
    await fs.writeFile(join(ctx.outDir, 'facts.json'), JSON.stringify(facts, null, 2) + '\n');
    ctx.recordMeta({ images: images.count, lambda: p.lambda, dataset: data.name, synthetic: data.synthetic });
  },
};

export default kind;
