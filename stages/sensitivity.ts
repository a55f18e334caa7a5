/**
 * Section 3.2 (figures 2-3): ASR of a standard BadNets model with the test-time trigger moved over
 * a grid of offsets and with its non-zero pixel value changed. One instance per (architecture, seed).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { analysesParams, archSpecs, targetClass, type ArchSpec } from '../domain/analyses/params.js';
import { replicateSeeds } from './replicates.js';
import { loadTestData, sampleNonTarget } from '../domain/analyses/inputs.js';
import { loadPoisoned } from './artifacts.js';
import { Rng } from '../domain/common/rng.js';
import { triggerSensitivity, ringMaximum, ringMean } from '../domain/analyses/sensitivity.js';
import { factKey, type Facts } from '../domain/report/facts.js';
import { trainedIds } from './availability.js';
import { dataId, trainId, modelPath } from './ids.js';

export interface SensitivityStageParams extends JsonObject {
  arch: string;
  attack: string;
  dx: number[];
  dy: number[];
  values: number[];
  /** Non-target test images per point (a seeded sample); null for all of them. */
  images: number | null;
  batchSize: number;
  target: number;
  seed: number;
}

export const sensitivityId = (arch: string, attack: string, seed: number): string => `sensitivity/${modelPath(trainId(arch, attack, 'standard', seed))}`;

export function instancesGiven(params: JsonObject, trained: Set<string>): StageInstance<SensitivityStageParams>[] {
  const a = analysesParams(params);
  const target = targetClass(params);
  const s = a.sensitivity;
  // One instance per replicate seed, each on that seed's model.
  return replicateSeeds(params).flatMap((seed) =>
    archSpecs(params)
      .filter((spec) => trained.has(trainId(spec.arch, s.attack, 'standard', seed)))
      .map((spec) => ({
        id: sensitivityId(spec.arch, s.attack, seed),
        params: { arch: spec.arch, attack: s.attack, dx: s.dx, dy: s.dy, values: s.values, images: s.images, batchSize: a.batchSize, target, seed },
        deps: { data: dataId(), model: trainId(spec.arch, s.attack, 'standard', seed) },
        description: `ASR vs trigger offset and pixel value, ${spec.arch} ${s.attack}, seed ${seed}`,
      })),
  );
}

const kind: StageKind<SensitivityStageParams> = {
  kind: 'sensitivity',
  instances: (params: JsonObject) => instancesGiven(params, trainedIds(params)),
  async run(ctx: StageContext<SensitivityStageParams>): Promise<void> {
    const p = ctx.params;
    const data = await loadTestData(ctx.inputs.data.dir);
    const { model, trigger } = await loadPoisoned(ctx.inputs.model);
    ctx.progress({ message: `${p.dx.length * p.dy.length} offsets, ${p.values.length} values` });
    // Every point of the grid is a full pass over these images: a seeded sample keeps CPU profiles affordable.
    const images = p.images === null ? data.test : sampleNonTarget(data.test, p.target, p.images, new Rng(p.seed).fork('sensitivity-images'));
    const r = triggerSensitivity(model, images, trigger, { dx: p.dx, dy: p.dy, values: p.values, batchSize: p.batchSize, target: p.target });
    model.dispose();
    const facts: Facts = { [factKey.sensitivityPlain(p.arch)]: r.plainAsr };
    const radii = [...new Set(r.grid.map((g) => Math.max(Math.abs(g.dx), Math.abs(g.dy))))];
    for (const radius of radii) {
      facts[factKey.sensitivityRing(p.arch, radius)] = ringMaximum(r.grid, radius)!;
      facts[factKey.sensitivityRingMean(p.arch, radius)] = ringMean(r.grid, radius)!;
    }
    for (const v of r.values) facts[factKey.sensitivityValue(p.arch, v.value)] = v.asr;
    facts[factKey.sensitivityTrainingValue(p.arch)] = r.originalValue;
    await fs.writeFile(join(ctx.outDir, 'result.json'), JSON.stringify({ arch: p.arch, attack: p.attack, ...r }, null, 2) + '\n');
    await fs.writeFile(join(ctx.outDir, 'facts.json'), JSON.stringify(facts, null, 2) + '\n');
    ctx.recordMeta({ plainAsr: r.plainAsr, images: r.images, skippedOffsets: r.skipped.length, dataset: data.name, synthetic: data.synthetic });
  },
};

export default kind;
