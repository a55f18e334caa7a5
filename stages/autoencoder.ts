/**
 * Stage kind 'autoencoder': one instance per replicate seed (training.seeds). Trains the Auto-Encoder defense on the clean
 * training images (optionally a seeded sample of them) and saves it in the tfjs format; the
 * 'evaluate' stage reconstructs test images with it before prediction. Checkpoints weights and
 * the Adam state every epoch and resumes after a kill. Its training time is the defense's cost
 * (Table 5), shared by every model of that seed.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { dataId } from './ids.js';
import { autoencoderId, readDefenses, writeJson } from './evaluate.js';
import { replicateSeeds } from './replicates.js';
import { Rng } from '../domain/common/rng.js';
import { readNpy, writeNpy } from '../domain/common/npy.js';
import { loadDataset } from '../domain/data/format.js';
import { loadWeightsInto, saveModel } from '../domain/models/io.js';
import { buildAutoencoder, reconstructionError, trainAutoencoder, type AutoencoderTraining } from '../domain/defenses/autoencoder.js';
import { takeIndices } from '../domain/data/subset.js';

export interface AutoencoderParams extends JsonObject {
  filters: number[];
  training: AutoencoderTraining & JsonObject;
  /** Clean training images used (seeded sample); null = all. */
  trainImages: number | null;
  evalBatchSize: number;
  seed: number;
}

function instances(params: JsonObject): StageInstance<AutoencoderParams>[] {
  const ae = readDefenses(params).autoencoder;
  if (!ae.enabled) return [];
  // One auto-encoder per seed whose models it defends (defenses.autoencoder.models.seeds), none for the others.
  const seeds = replicateSeeds(params).filter((seed) => ae.models.seeds == null || ae.models.seeds.includes(seed));
  return seeds.map((seed) => ({
    id: autoencoderId(seed),
    params: {
      filters: ae.filters as number[],
      training: { epochs: ae.epochs as number, batchSize: ae.batchSize as number, learningRate: ae.learningRate as number, loss: ae.loss as AutoencoderTraining['loss'] },
      trainImages: ae.trainImages as number | null,
      evalBatchSize: ae.evalBatchSize as number,
      seed,
    },
    deps: { data: dataId() },
    description: `Auto-Encoder defense trained on clean training images, seed ${seed}`,
  }));
}

interface CheckpointState {
  /** Last finished epoch (0-based). */
  epoch: number;
  losses: number[];
  elapsedMs: number;
  optimizerShapes: number[][];
}

const STATE = 'state.json';

async function saveCheckpoint(dir: string, model: tf.LayersModel, optimizer: tf.Optimizer, state: Omit<CheckpointState, 'optimizerShapes'>): Promise<void> {
  await saveModel(model, dir);
  // Positional: tfjs's Adam restores its slots in the order of the variables it trains.
  const weights = await optimizer.getWeights();
  for (const [i, w] of weights.entries()) await writeNpy(join(dir, `optimizer_${i}.npy`), (await w.tensor.data()) as Float32Array, w.tensor.shape);
  const full: CheckpointState = { ...state, optimizerShapes: weights.map((w) => w.tensor.shape) };
  await fs.writeFile(join(dir, STATE), JSON.stringify(full));
}

async function loadCheckpoint(dir: string, model: tf.LayersModel, optimizer: tf.Optimizer): Promise<CheckpointState | null> {
  let state: CheckpointState;
  try {
    state = JSON.parse(await fs.readFile(join(dir, STATE), 'utf8'));
  } catch {
    return null;
  }
  await loadWeightsInto(model, dir);
  const weights: { name: string; tensor: tf.Tensor }[] = [];
  for (let i = 0; i < state.optimizerShapes.length; i++) {
    const arr = await readNpy(join(dir, `optimizer_${i}.npy`));
    weights.push({ name: `slot_${i}`, tensor: tf.tensor(arr.data as Float32Array, arr.shape) });
  }
  await optimizer.setWeights(weights);
  tf.dispose(weights.map((w) => w.tensor));
  return state;
}

async function run(ctx: StageContext<AutoencoderParams>): Promise<void> {
  const p = ctx.params;
  const dataset = await loadDataset(ctx.inputs.data.dir);
  const train = p.trainImages === null || p.trainImages >= dataset.train.count ? dataset.train : takeIndices(dataset.train, new Rng(`autoencoder/images/${p.seed}`).sample(dataset.train.count, p.trainImages));
  const shape: [number, number, number] = [train.height, train.width, train.channels];
  const model = buildAutoencoder({ inputShape: shape, filters: p.filters, seed: p.seed });
  const optimizer = tf.train.adam(p.training.learningRate);
  const checkpoint = join(ctx.checkpointDir, 'autoencoder');
  try {
    const resumed = await loadCheckpoint(checkpoint, model, optimizer);
    const losses = resumed ? [...resumed.losses] : [];
    const firstEpoch = resumed ? resumed.epoch + 1 : 0;
    if (resumed) ctx.log(`resuming after epoch ${resumed.epoch + 1}`);
    const elapsedBefore = resumed?.elapsedMs ?? 0;
    const started = performance.now();
    await trainAutoencoder(model, train, p.training, new Rng(`autoencoder/train/${p.seed}`), async (r) => {
      losses.push(r.loss);
      ctx.progress({ message: `auto-encoder epoch ${r.epoch + 1}/${p.training.epochs}`, current: r.epoch + 1, total: p.training.epochs, unit: 'epoch', metrics: { loss: Math.round(r.loss * 1e5) / 1e5 } });
      await saveCheckpoint(checkpoint, model, optimizer, { epoch: r.epoch, losses, elapsedMs: elapsedBefore + performance.now() - started });
    }, firstEpoch, optimizer);
    const trainMs = elapsedBefore + performance.now() - started;
    const testLoss = reconstructionError(model, dataset.test, p.training.loss, p.evalBatchSize);
    await saveModel(model, ctx.outDir);
    await writeJson(join(ctx.outDir, 'training.json'), { losses, testLoss, trainImages: train.count, epochs: p.training.epochs, synthetic: dataset.synthetic });
    ctx.log(`auto-encoder: final training loss ${losses[losses.length - 1]?.toFixed(5)}, test reconstruction loss ${testLoss.toFixed(5)}, ${(trainMs / 1000).toFixed(1)} s`);
    // The training time is a measurement of this run: meta.json only (table 5 reads it there), not training.json.
    ctx.recordMeta({ defense: 'autoencoder', costKind: 'training', costMs: trainMs, testLoss, finalTrainingLoss: losses[losses.length - 1] ?? null, trainImages: train.count, backend: tf.getBackend() });
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

const autoencoderStage: StageKind<AutoencoderParams> = { kind: 'autoencoder', instances, run };
export default autoencoderStage;
