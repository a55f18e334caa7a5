/**
 * L-infinity projected gradient descent (Madry et al.) maximising a model's cross-entropy on the
 * given labels: the label-consistent attack's perturbation (Turner et al.; eps 8/255, step 1.5/255,
 * 100 steps by default) and the inner loop of adversarial training for its surrogate.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../common/rng.js';

export interface PgdOptions {
  /** L-infinity radius on the [0, 1] scale. */
  epsilon: number;
  /** Step size on the [0, 1] scale. */
  stepSize: number;
  steps: number;
  /** Start from a uniform point of the eps-ball instead of the image itself. */
  randomStart: boolean;
}

export function checkPgdOptions(o: PgdOptions): void {
  if (!(Number.isFinite(o.epsilon) && o.epsilon >= 0 && o.epsilon <= 1)) throw new RangeError(`PGD epsilon must be in [0, 1] (pixel scale / 255), got ${o.epsilon}`);
  if (!(Number.isFinite(o.stepSize) && o.stepSize > 0)) throw new RangeError(`PGD stepSize must be positive, got ${o.stepSize}`);
  if (!Number.isInteger(o.steps) || o.steps < 0) throw new RangeError(`PGD steps must be a non-negative integer, got ${o.steps}`);
}

/** Mean softmax cross-entropy of logits against integer labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]), logits) as tf.Scalar);
}

const logitsOf = (model: tf.LayersModel, x: tf.Tensor4D): tf.Tensor2D => model.apply(x, { training: false }) as tf.Tensor2D;

/** Surrogate loss on a batch, for reporting. */
export function lossOn(model: tf.LayersModel, x: tf.Tensor4D, labels: tf.Tensor1D): number {
  return tf.tidy(() => crossEntropy(logitsOf(model, x), labels).dataSync()[0]);
}

/** One batch of PGD: returns adversarial images within `epsilon` of `x` (L-inf) and in [0, 1]. */
export function pgd(model: tf.LayersModel, x: tf.Tensor4D, labels: tf.Tensor1D, o: PgdOptions, rng: Rng): tf.Tensor4D {
  checkPgdOptions(o);
  const lossOfInput = (input: tf.Tensor): tf.Scalar => crossEntropy(logitsOf(model, input as tf.Tensor4D), labels);
  const gradient = tf.grad(lossOfInput);
  let adv: tf.Tensor4D = tf.tidy(() => {
    if (!o.randomStart) return x.clone();
    const noise = tf.randomUniform(x.shape, -o.epsilon, o.epsilon, 'float32', rng.seed());
    return tf.clipByValue(tf.add(x, noise), 0, 1) as tf.Tensor4D;
  });
  for (let step = 0; step < o.steps; step++) {
    const next = tf.tidy(() => {
      const moved = tf.add(adv, tf.mul(o.stepSize, tf.sign(gradient(adv))));
      const projected = tf.minimum(tf.maximum(moved, tf.sub(x, o.epsilon)), tf.add(x, o.epsilon));
      return tf.clipByValue(projected, 0, 1) as tf.Tensor4D;
    });
    adv.dispose();
    adv = next;
  }
  return adv;
}

export interface PgdOnImagesOptions extends PgdOptions {
  batchSize: number;
  progress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * PGD on uint8 images (NHWC), batch by batch, returning uint8 images. Rounding to 0-255 keeps the
 * perturbation within epsilon: the clamp below removes the half-level rounding could add.
 */
export function pgdOnImages(model: tf.LayersModel, images: Uint8Array, labels: Uint8Array, shape: [number, number, number], o: PgdOnImagesOptions, rng: Rng): Uint8Array {
  const [h, w, c] = shape;
  const size = h * w * c;
  const n = labels.length;
  if (images.length !== n * size) throw new RangeError(`pgdOnImages: ${images.length} bytes for ${n} images of ${h}x${w}x${c}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new RangeError(`PGD batchSize must be a positive integer, got ${o.batchSize}`);
  const out = new Uint8Array(images.length);
  const radius = Math.floor(o.epsilon * 255 + 1e-6);
  for (let start = 0; start < n; start += o.batchSize) {
    if (o.signal?.aborted) throw new Error('PGD aborted');
    const end = Math.min(n, start + o.batchSize);
    const slice = images.subarray(start * size, end * size);
    const advData = tf.tidy(() => {
      const x = tf.div(tf.tensor4d(slice, [end - start, h, w, c], 'int32'), 255) as tf.Tensor4D;
      const y = tf.tensor1d(labels.subarray(start, end), 'int32');
      const adv = pgd(model, x, y, o, rng);
      return adv;
    });
    const values = advData.dataSync();
    advData.dispose();
    for (let i = 0; i < values.length; i++) {
      const original = slice[i];
      const rounded = Math.round(values[i] * 255);
      out[start * size + i] = Math.min(255, Math.max(0, Math.min(original + radius, Math.max(original - radius, rounded))));
    }
    o.progress?.(end, n);
  }
  return out;
}
