/**
 * Section 5.3 (figure 5): vanilla saliency of benign, attacked and ShrinkPad-attacked images under
 * the standard and the enhanced version of an attack. One instance per (architecture, attack, seed).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { Rng } from '../domain/common/rng.js';
import { analysesParams, archSpecs, targetClass } from '../domain/analyses/params.js';
import { replicateSeeds } from './replicates.js';
import { loadTestData, sampleNonTarget } from '../domain/analyses/inputs.js';
import { saliencyStudy, VERSIONS } from '../domain/analyses/studies.js';
import { renderImageGrid, type GridImage } from '../domain/plots/image-grid.js';
import { factKey, type Facts } from '../domain/report/facts.js';
import { trainedIds } from './availability.js';
import { bothVariantsTrained, loadPoisoned, variantPairDeps, VARIANTS } from './artifacts.js';

export interface SaliencyStageParams extends JsonObject {
  arch: string;
  attack: string;
  /** Images the trigger shares are averaged over. */
  images: number;
  /** Of those, how many the grid shows per variant. */
  examples: number;
  shrinkSize: number;
  target: number;
  seed: number;
}

/** Sample standard deviation (n - 1); 0 for a single image. */
function sampleSd(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

export const saliencyId = (arch: string, attack: string, seed: number): string => `saliency/${arch}/${attack}/seed${seed}`;

export function instancesGiven(params: JsonObject, trained: Set<string>): StageInstance<SaliencyStageParams>[] {
  const a = analysesParams(params);
  const target = targetClass(params);
  // One instance per replicate seed, each on that seed's pair of models.
  return replicateSeeds(params).flatMap((seed) =>
    archSpecs(params).flatMap((spec) =>
      a.saliency.attacks
        .filter((attack) => bothVariantsTrained(trained, spec.arch, attack, seed))
        .map((attack) => ({
          id: saliencyId(spec.arch, attack, seed),
          params: { arch: spec.arch, attack, images: a.saliency.images, examples: a.saliency.examples, shrinkSize: a.saliency.shrinkSize, target, seed },
          deps: variantPairDeps(spec.arch, attack, seed),
          description: `saliency maps, ${spec.arch} ${attack} vs ${attack}+, seed ${seed}`,
        })),
    ),
  );
}

const kind: StageKind<SaliencyStageParams> = {
  kind: 'saliency',
  instances: (params: JsonObject) => instancesGiven(params, trainedIds(params)),
  async run(ctx: StageContext<SaliencyStageParams>): Promise<void> {
    const p = ctx.params;
    const data = await loadTestData(ctx.inputs.data.dir);
    // The same images for both variants, so that rows of the grid compare like with like.
    const images = sampleNonTarget(data.test, p.target, p.images, new Rng(p.seed).fork('saliency-images'));
    const facts: Facts = {};
    const summary: JsonObject = {};
    const rows: GridImage[][] = [];
    const rowLabels: string[] = [];
    for (const variant of VARIANTS) {
      const { model, trigger } = await loadPoisoned(ctx.inputs[variant]);
      const s = saliencyStudy(model, images, trigger, p.shrinkSize, new Rng(p.seed).fork(`saliency-shrinkpad`));
      model.dispose();
      for (const v of VERSIONS) {
        facts[factKey.saliencyTriggerMass(p.arch, p.attack, variant, v)] = s.triggerMass[v];
        facts[factKey.saliencyTriggerMassSd(p.arch, p.attack, variant, v)] = sampleSd(s.triggerShares[v]);
      }
      summary[variant] = { triggerMass: s.triggerMass, triggerShares: s.triggerShares, predictions: s.predictions };
      // The claim reads the mean over every image; the grid shows only the first few as examples.
      s.rows.slice(0, p.examples).forEach((r, i) => {
        rows.push(r);
        rowLabels.push(`${variant === 'enhanced' ? `${p.attack}+` : p.attack} #${i + 1}`);
      });
    }
    facts[factKey.saliencyImages(p.arch, p.attack)] = images.count;
    const grid = await renderImageGrid({
      rows,
      rowLabels,
      columnLabels: ['benign', 'saliency', 'attacked', 'saliency', `ShrinkPad-${p.shrinkSize}`, 'saliency'],
      cellScale: 4,
    });
    await fs.writeFile(join(ctx.outDir, 'grid.png'), grid.png);
    await fs.writeFile(join(ctx.outDir, 'result.json'), JSON.stringify({ arch: p.arch, attack: p.attack, images: images.count, shrinkSize: p.shrinkSize, ...summary }, null, 2) + '\n');
    await fs.writeFile(join(ctx.outDir, 'facts.json'), JSON.stringify(facts, null, 2) + '\n');
    ctx.recordMeta({ images: images.count, dataset: data.name, synthetic: data.synthetic });
  },
};

export default kind;
