/**
 * Section 5.4 as a SIMULATION: ASR of the standard and enhanced version of an attack when attacked
 * test images go through a simulated camera capture, and example captures. One instance per
 * (architecture, seed).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { Rng } from '../domain/common/rng.js';
import { analysesParams, archSpecs, targetClass } from '../domain/analyses/params.js';
import { replicateSeeds } from './replicates.js';
import { loadTestData, loadTrigger, sampleNonTarget } from '../domain/analyses/inputs.js';
import { simulatedCaptureAsr, exampleCaptures } from '../domain/analyses/physical.js';
import { cameraTransform, type CameraOptions } from '../domain/transforms/camera.js';
import { renderImageGrid, type GridImage } from '../domain/plots/image-grid.js';
import { factKey, type Facts } from '../domain/report/facts.js';
import { trainedIds } from './availability.js';
import { bothVariantsTrained, loadPoisoned, variantPairDeps, VARIANTS } from './artifacts.js';

export interface PhysicalStageParams extends JsonObject {
  arch: string;
  attack: string;
  captures: number;
  examples: number;
  camera: JsonObject;
  batchSize: number;
  target: number;
  seed: number;
}

export const physicalId = (arch: string, attack: string, seed: number): string => `physical/${arch}/${attack}/seed${seed}`;

export function instancesGiven(params: JsonObject, trained: Set<string>): StageInstance<PhysicalStageParams>[] {
  const a = analysesParams(params);
  const target = targetClass(params);
  const ph = a.physical;
  // One instance per replicate seed, each on that seed's pair of models.
  return replicateSeeds(params).flatMap((seed) =>
    archSpecs(params)
      .filter((spec) => bothVariantsTrained(trained, spec.arch, ph.attack, seed))
      .map((spec) => ({
        id: physicalId(spec.arch, ph.attack, seed),
        params: { arch: spec.arch, attack: ph.attack, captures: ph.captures, examples: ph.examples, camera: ph.camera as unknown as JsonObject, batchSize: a.batchSize, target, seed },
        deps: variantPairDeps(spec.arch, ph.attack, seed),
        description: `simulated camera capture, ${spec.arch} ${ph.attack} vs ${ph.attack}+, seed ${seed}`,
      })),
  );
}

const kind: StageKind<PhysicalStageParams> = {
  kind: 'physical',
  instances: (params: JsonObject) => instancesGiven(params, trainedIds(params)),
  async run(ctx: StageContext<PhysicalStageParams>): Promise<void> {
    const p = ctx.params;
    const data = await loadTestData(ctx.inputs.data.dir);
    const camera = cameraTransform(p.camera as unknown as CameraOptions);
    const facts: Facts = {};
    const results: JsonObject = {};
    for (const variant of VARIANTS) {
      const { model, trigger } = await loadPoisoned(ctx.inputs[variant]);
      ctx.progress({ message: `${variant}: ${p.captures} simulated captures` });
      // The same capture draws for both models: the comparison is between models, not draws.
      const r = simulatedCaptureAsr(model, data.test, trigger, camera, { batchSize: p.batchSize, target: p.target, captures: p.captures }, new Rng(p.seed).fork('camera'));
      model.dispose();
      facts[factKey.physicalAsr(p.arch, p.attack, variant)] = r.capturedAsr;
      facts[`physical/${p.arch}/${p.attack}/${variant}/digitalAsr`] = r.digitalAsr;
      results[variant] = r as unknown as JsonObject;
    }
    // Example captures of the standard attack's trigger (the two variants share the BadNets trigger).
    const trigger = await loadTrigger(ctx.inputs.standard.dir);
    const examples = sampleNonTarget(data.test, p.target, p.examples, new Rng(p.seed).fork('camera-examples'));
    const shots = Array.from({ length: examples.count }, (_, i) => exampleCaptures(examples, i, trigger, camera, p.captures, new Rng(p.seed).fork(`example${i}`)));
    const { height: h, width: w } = examples;
    const rows: GridImage[][] = shots.map((s) => s.map((rgb) => ({ rgb, height: h, width: w })));
    const grid = await renderImageGrid({
      rows,
      rowLabels: shots.map((_, i) => `image ${i + 1}`),
      columnLabels: ['attacked (digital)', ...Array.from({ length: p.captures }, (_, k) => `capture ${k + 1}`)],
      title: 'Simulated camera captures (not photographs)',
      cellScale: 4,
    });
    await fs.writeFile(join(ctx.outDir, 'grid.png'), grid.png);
    await fs.writeFile(join(ctx.outDir, 'result.json'), JSON.stringify({ arch: p.arch, attack: p.attack, camera: p.camera, simulated: true, ...results }, null, 2) + '\n');
    await fs.writeFile(join(ctx.outDir, 'facts.json'), JSON.stringify(facts, null, 2) + '\n');
    ctx.recordMeta({ simulated: true, dataset: data.name, synthetic: data.synthetic });
  },
};

export default kind;
