/**
 * Stage kind 'lc-poison': the label-consistent attack's poisoned images. Picks the target-class
 * images to poison (the same seeded choice as the train stage), and perturbs them with L-inf PGD
 * against a surrogate: the benign model of the same architecture ('standard', an upstream train
 * instance) or a model adversarially trained here, Madry-style ('adversarial', as Turner et al.).
 * Outputs indices.npy (int32), perturbed_images.npy (uint8 NHWC) and lc.json; meta records the
 * surrogate. PGD runs in chunks whose results are kept in the checkpoint directory, so a killed
 * run resumes where it stopped.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Json, JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { dataId, trainId } from './ids.js';
import { replicateSeeds } from './replicates.js';
import { lcPoisonId, poisonSeed, readPlan, recipeFor, splitCurve, throttledProgress, usedAttacks, widthFor, writeCurve, type TrainStageParams } from './train.js';
import { Rng } from '../domain/common/rng.js';
import { readNpy, writeNpy } from '../domain/common/npy.js';
import { gatherPixels } from '../domain/common/pixels.js';
import { loadDataset } from '../domain/data/format.js';
import { buildModel } from '../domain/models/zoo.js';
import { loadModel, saveModel } from '../domain/models/io.js';
import { train } from '../domain/training/loop.js';
import { choosePoisoned } from '../domain/attacks/poison.js';
import { poisonedBatches } from '../domain/attacks/batches.js';
import { adversarialBatches } from '../domain/attacks/adversarial.js';
import { pgdOnImages, lossOn } from '../domain/attacks/pgd.js';
import { pgdOptionsFrom, type ConsistentAttackDefinition } from '../domain/attacks/config.js';

export interface LcPoisonParams extends JsonObject {
  arch: string;
  width: number | null;
  attack: string;
  seed: number;
  target: number;
  definition: ConsistentAttackDefinition & JsonObject;
  /** The surrogate's training recipe (adversarial surrogate only). */
  recipe: TrainStageParams['recipe'] | null;
  augment: TrainStageParams['augment'] | null;
}

/** Images per PGD chunk between two checkpoints. */
const CHUNK_BATCHES = 4;

function instances(params: JsonObject): StageInstance<LcPoisonParams>[] {
  const plan = readPlan(params);
  const out: StageInstance<LcPoisonParams>[] = [];
  for (const arch of plan.models.architectures) {
    for (const [attack, definition] of usedAttacks(plan, 'consistent', arch)) {
      const def = definition as ConsistentAttackDefinition & JsonObject;
      for (const seed of replicateSeeds(params)) {
        const adversarial = def.surrogate === 'adversarial';
        const recipe = adversarial ? recipeFor(plan, arch) : null;
        if (recipe && def.adversarialTraining.epochs !== null) {
          recipe.epochs = def.adversarialTraining.epochs;
          recipe.milestones = recipe.milestones.filter((m) => m < def.adversarialTraining.epochs!);
        }
        out.push({
          id: lcPoisonId(arch, attack, seed),
          params: { arch, width: widthFor(plan, arch), attack, seed, target: plan.attacks.target, definition: def, recipe, augment: adversarial ? plan.training.augment : null },
          deps: adversarial ? { data: dataId() } : { data: dataId(), surrogate: trainId(arch, 'benign', 'standard', seed) },
          description: `label-consistent PGD images for ${attack} on ${arch} (${def.surrogate} surrogate), seed ${seed}`,
        });
      }
    }
  }
  return out;
}

async function adversarialSurrogate(ctx: StageContext<LcPoisonParams>, shape: [number, number, number], numClasses: number, trainImages: Uint8Array, labels: Uint8Array): Promise<tf.LayersModel> {
  const p = ctx.params;
  const recipe = p.recipe!;
  const model = buildModel(p.arch, { numClasses, inputShape: shape, seed: p.seed, ...(p.width !== null ? { width: p.width } : {}) });
  const base = poisonedBatches({ images: trainImages, labels, isPoisoned: new Uint8Array(labels.length), shape }, { batchSize: recipe.batchSize, augment: p.augment! });
  const adv = p.definition.adversarialTraining;
  const result = await train(model, {
    ...recipe,
    seed: p.seed,
    batches: adversarialBatches(base, model, pgdOptionsFrom(adv)),
    checkpointDir: join(ctx.checkpointDir, 'surrogate'),
    progress: throttledProgress(ctx as unknown as StageContext<JsonObject>, 'adversarial surrogate'),
    signal: ctx.signal,
  });
  await fs.mkdir(join(ctx.outDir, 'surrogate'), { recursive: true });
  await saveModel(model, join(ctx.outDir, 'surrogate'));
  // Results to the artifact, wall-clock timings to meta.json, as the train stage does.
  const { results, timings } = splitCurve(result.curve);
  await writeCurve(join(ctx.outDir, 'surrogate'), results);
  ctx.recordMeta({ surrogateEpochTimings: timings as unknown as Json[] });
  return model;
}

async function run(ctx: StageContext<LcPoisonParams>): Promise<void> {
  const p = ctx.params;
  const def = p.definition;
  const dataset = await loadDataset(ctx.inputs.data.dir);
  const split = dataset.train;
  const shape: [number, number, number] = [split.height, split.width, split.channels];
  const size = shape[0] * shape[1] * shape[2];
  const selection = choosePoisoned(split.labels, { mode: 'target-class', ratio: def.ratio, target: p.target, seed: poisonSeed(p.attack, p.seed) });
  const n = selection.indices.length;
  const chosen = gatherPixels(split.images, split, selection.indices);
  const labels = new Uint8Array(n).fill(p.target);

  const surrogate = def.surrogate === 'adversarial'
    ? await adversarialSurrogate(ctx, shape, dataset.classNames.length, split.images, split.labels)
    : await loadModel(ctx.inputs.surrogate.dir);

  const options = pgdOptionsFrom(def.pgd);
  const chunk = def.pgd.batchSize * CHUNK_BATCHES;
  const perturbed = new Uint8Array(n * size);
  const started = Date.now();
  // Chunks a killed earlier attempt finished: a measurement of this run (meta.json), not a result.
  let resumedChunks = 0;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const file = join(ctx.checkpointDir, `pgd-${start}-${end}.npy`);
    const cached = await readNpy(file).catch(() => null);
    if (cached && cached.data.length === (end - start) * size) {
      perturbed.set(cached.data as Uint8Array, start * size);
      resumedChunks += 1;
      continue;
    }
    const out = pgdOnImages(surrogate, chosen.subarray(start * size, end * size), labels.subarray(start, end), shape, {
      ...options,
      batchSize: def.pgd.batchSize,
      signal: ctx.signal,
      progress: (done) => ctx.progress({ message: 'PGD on target-class images', current: start + done, total: n, unit: 'img' }),
    }, new Rng(`lc-pgd/${p.seed}/${start}`));
    await writeNpy(file, out, [end - start, ...shape]);
    perturbed.set(out, start * size);
  }

  // Surrogate loss on the target label before and after, on up to one batch: a sanity record.
  const probe = Math.min(n, def.pgd.batchSize);
  const [lossBefore, lossAfter] = tf.tidy(() => {
    const y = tf.tensor1d(labels.subarray(0, probe), 'int32');
    const asFloat = (bytes: Uint8Array) => tf.div(tf.tensor4d(bytes.subarray(0, probe * size), [probe, ...shape], 'int32'), 255) as tf.Tensor4D;
    return probe > 0 ? [lossOn(surrogate, asFloat(chosen), y), lossOn(surrogate, asFloat(perturbed), y)] : [0, 0];
  });
  let maxChange = 0;
  for (let i = 0; i < perturbed.length; i++) maxChange = Math.max(maxChange, Math.abs(perturbed[i] - chosen[i]));

  await writeNpy(join(ctx.outDir, 'indices.npy'), selection.indices, [n]);
  await writeNpy(join(ctx.outDir, 'perturbed_images.npy'), perturbed, [n, ...shape]);
  const summary: JsonObject = {
    surrogate: def.surrogate,
    surrogateArch: p.arch,
    poisoned: n,
    pgd: { ...def.pgd },
    surrogateLossBefore: lossBefore,
    surrogateLossAfter: lossAfter,
    maxPixelChange255: maxChange,
  };
  await fs.writeFile(join(ctx.outDir, 'lc.json'), JSON.stringify(summary, null, 2) + '\n');
  ctx.log(`${n} target-class images perturbed against the ${def.surrogate} surrogate: loss ${lossBefore.toFixed(3)} -> ${lossAfter.toFixed(3)}, max change ${maxChange}/255`);
  // The duration is a measurement of this run, not a result: meta.json only, so lc.json stays reproducible.
  ctx.recordMeta({ ...summary, seconds: (Date.now() - started) / 1000, resumedChunks });
  surrogate.dispose();
}

const lcPoisonStage: StageKind<LcPoisonParams> = { kind: 'lc-poison', instances, run };
export default lcPoisonStage;
