/**
 * The Auto-Encoder defense (Liu et al., 2017; appendix B): a convolutional auto-encoder trained on
 * clean images reconstructs every test image before the classifier sees it, in the hope that the
 * trigger is not reconstructed. The paper used a public PyTorch CIFAR-10 auto-encoder trained with
 * Adam (100 epochs, lr 0.001, batch 16). Ours: encoder = [conv 3x3 + ReLU, max-pool 2] per width,
 * decoder = [upsample 2, conv 3x3 + ReLU] per width in reverse, then conv 3x3 to the image's
 * channels with a sigmoid, so outputs stay in [0, 1]. Conv/pool/upsample rather than transposed
 * convolutions so that every op has a gradient on the wasm backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageTransform, LabelledImages } from '../common/types.js';
import type { Rng } from '../common/rng.js';
import { imageBatch } from '../common/pixels.js';
import { takeIndices } from '../data/subset.js';

export interface AutoencoderArchitecture {
  inputShape: [number, number, number];
  /** Channels of each encoder stage; each stage halves the spatial size. */
  filters: number[];
  seed: number;
}

export type ReconstructionLoss = 'bce' | 'mse';

export interface AutoencoderTraining {
  epochs: number;
  batchSize: number;
  learningRate: number;
  loss: ReconstructionLoss;
}

export function buildAutoencoder(a: AutoencoderArchitecture): tf.LayersModel {
  const [h, w, c] = a.inputShape;
  if (a.filters.length === 0 || a.filters.some((f) => !Number.isInteger(f) || f < 1)) throw new RangeError(`autoencoder filters must be a non-empty list of positive integers, got ${JSON.stringify(a.filters)}`);
  const factor = 2 ** a.filters.length;
  if (h % factor !== 0 || w % factor !== 0) throw new RangeError(`autoencoder: ${a.filters.length} pooling stages need height and width divisible by ${factor}, got ${h}x${w}`);
  let seed = a.seed;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const input = tf.input({ shape: [h, w, c] });
  let x: tf.SymbolicTensor = input;
  a.filters.forEach((f, i) => {
    x = tf.layers.conv2d({ filters: f, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(), name: `enc_conv${i}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, name: `enc_pool${i}` }).apply(x) as tf.SymbolicTensor;
  });
  [...a.filters].reverse().forEach((f, i) => {
    x = tf.layers.upSampling2d({ size: [2, 2], name: `dec_up${i}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.conv2d({ filters: f, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(), name: `dec_conv${i}` }).apply(x) as tf.SymbolicTensor;
  });
  const output = tf.layers.conv2d({ filters: c, kernelSize: 3, padding: 'same', activation: 'sigmoid', kernelInitializer: init(), name: 'reconstruction' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'autoencoder' });
}

function reconstructionLoss(kind: ReconstructionLoss, target: tf.Tensor, output: tf.Tensor): tf.Scalar {
  if (kind === 'mse') return tf.losses.meanSquaredError(target, output) as tf.Scalar;
  // Binary cross-entropy on pixel intensities, as the reference implementation trains with.
  const eps = 1e-7;
  const p = tf.clipByValue(output, eps, 1 - eps);
  return tf.neg(tf.mean(tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p)))))) as tf.Scalar;
}

export function checkTraining(t: AutoencoderTraining): void {
  if (!(Number.isInteger(t.epochs) && t.epochs >= 1)) throw new RangeError(`autoencoder epochs must be a positive integer, got ${t.epochs}`);
  if (!(Number.isInteger(t.batchSize) && t.batchSize >= 1)) throw new RangeError(`autoencoder batchSize must be a positive integer, got ${t.batchSize}`);
  if (!(t.learningRate > 0)) throw new RangeError(`autoencoder learningRate must be > 0, got ${t.learningRate}`);
  if (t.loss !== 'bce' && t.loss !== 'mse') throw new RangeError(`autoencoder loss must be 'bce' or 'mse', got ${JSON.stringify(t.loss)}`);
}

/** Mean reconstruction loss over a split (no training). */
export function reconstructionError(model: tf.LayersModel, split: LabelledImages, kind: ReconstructionLoss, batchSize: number): number {
  let total = 0;
  for (let start = 0; start < split.count; start += batchSize) {
    const end = Math.min(split.count, start + batchSize);
    const value = tf.tidy(() => {
      const x = imageBatch(split, start, end);
      return reconstructionLoss(kind, x, model.predict(x) as tf.Tensor);
    });
    total += value.dataSync()[0] * (end - start);
    value.dispose();
  }
  return total / split.count;
}

export interface EpochReport {
  epoch: number;
  loss: number;
  seconds: number;
}

/**
 * Trains with Adam on batches in an Rng-drawn order per epoch; returns the mean training loss of
 * each epoch run. Each epoch's order comes from its own fork of `rng`, so a run resumed at
 * `firstEpoch` (with the weights and optimizer state saved by `onEpoch`) draws what an
 * uninterrupted one would have. `onEpoch` may be async (checkpointing, progress).
 */
export async function trainAutoencoder(
  model: tf.LayersModel,
  clean: LabelledImages,
  t: AutoencoderTraining,
  rng: Rng,
  onEpoch?: (report: EpochReport) => void | Promise<void>,
  firstEpoch = 0,
  optimizer: tf.Optimizer = tf.train.adam(t.learningRate),
): Promise<number[]> {
  checkTraining(t);
  const variables = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const losses: number[] = [];
  for (let epoch = firstEpoch; epoch < t.epochs; epoch++) {
    const started = performance.now();
    const order = rng.fork(`epoch${epoch}`).permutation(clean.count);
    let total = 0;
    for (let start = 0; start < clean.count; start += t.batchSize) {
      const batch = takeIndices(clean, order.slice(start, start + t.batchSize));
      const loss = optimizer.minimize(() => {
        const x = imageBatch(batch, 0, batch.count);
        return reconstructionLoss(t.loss, x, model.apply(x, { training: true }) as tf.Tensor);
      }, true, variables);
      if (loss) {
        total += loss.dataSync()[0] * batch.count;
        loss.dispose();
      }
    }
    const mean = total / clean.count;
    if (!Number.isFinite(mean)) throw new Error(`autoencoder: loss became ${mean} at epoch ${epoch + 1}; lower the learning rate`);
    losses.push(mean);
    await onEpoch?.({ epoch, loss: mean, seconds: (performance.now() - started) / 1000 });
  }
  return losses;
}

/** The defense as a test-time transform: every image replaced by its reconstruction. */
export function autoencoderTransform(model: tf.LayersModel): ImageTransform {
  return (x) => tf.tidy(() => tf.clipByValue(model.predict(x) as tf.Tensor4D, 0, 1) as tf.Tensor4D);
}
