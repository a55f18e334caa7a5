/**
 * A universal adversarial perturbation against a benign model, used as a BadNets-style trigger
 * (appendix E.2). The algorithm is iterative sign-gradient descent on one perturbation shared by
 * every image (a simple stand-in for Moosavi-Dezfooli et al.'s DeepFool-based procedure):
 * per batch, delta <- project(delta - step * sign(grad_delta mean CE(model(clip(x + delta)), target)))
 * for the targeted form (towards the attack's target label), or + step * sign(grad of CE on the true
 * labels) for the untargeted form. Projection is onto the L-inf or L2 ball of the given radius.
 * The result is stamped additively: x' = clip(x + delta, 0, 1) (see trigger.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../common/rng.js';
import { crossEntropy } from './pgd.js';

export type UapNorm = 'linf' | 'l2';

export interface UapOptions {
  norm: UapNorm;
  /** Radius on the [0, 1] pixel scale (L-inf: per pixel; L2: over the whole image). */
  radius: number;
  stepSize: number;
  /** Passes over the images. */
  epochs: number;
  batchSize: number;
  /** Targeted towards this label when given; untargeted (raise the loss of the true labels) otherwise. */
  target?: number;
  progress?: (epoch: number, epochs: number, fooling: number) => void;
  signal?: AbortSignal;
}

export interface UapResult {
  /** HWC on the [0, 1] scale. */
  delta: Float32Array;
  /** Per epoch: fraction of non-target images sent to the target (targeted) or misclassified (untargeted). */
  foolingRates: number[];
}

function project(delta: tf.Tensor3D, norm: UapNorm, radius: number): tf.Tensor3D {
  return tf.tidy(() => {
    if (norm === 'linf') return tf.clipByValue(delta, -radius, radius) as tf.Tensor3D;
    const length = tf.norm(delta);
    return tf.mul(delta, tf.minimum(1, tf.div(radius, tf.maximum(length, 1e-12)))) as tf.Tensor3D;
  });
}

export function checkUapOptions(o: UapOptions): void {
  if (o.norm !== 'linf' && o.norm !== 'l2') throw new RangeError(`UAP norm must be 'linf' or 'l2', got '${String(o.norm)}'`);
  if (!(Number.isFinite(o.radius) && o.radius > 0)) throw new RangeError(`UAP radius must be positive, got ${o.radius}`);
  if (!(Number.isFinite(o.stepSize) && o.stepSize > 0)) throw new RangeError(`UAP stepSize must be positive, got ${o.stepSize}`);
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new RangeError(`UAP epochs must be a positive integer, got ${o.epochs}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new RangeError(`UAP batchSize must be a positive integer, got ${o.batchSize}`);
}

/** Computes the perturbation on uint8 NHWC images with their true labels. */
export function universalPerturbation(model: tf.LayersModel, images: Uint8Array, labels: Uint8Array, shape: [number, number, number], o: UapOptions, rng: Rng): UapResult {
  checkUapOptions(o);
  const [h, w, c] = shape;
  const size = h * w * c;
  const n = labels.length;
  if (images.length !== n * size) throw new RangeError(`universalPerturbation: ${images.length} bytes for ${n} images of ${h}x${w}x${c}`);
  const targeted = o.target !== undefined;
  let delta = tf.zeros([h, w, c]) as tf.Tensor3D;
  const foolingRates: number[] = [];
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const order = rng.permutation(n);
    let fooled = 0;
    let counted = 0;
    for (let start = 0; start < n; start += o.batchSize) {
      if (o.signal?.aborted) {
        delta.dispose();
        throw new Error('UAP aborted');
      }
      const members = order.slice(start, start + o.batchSize);
      const batch = new Uint8Array(members.length * size);
      members.forEach((i, k) => batch.set(images.subarray(i * size, (i + 1) * size), k * size));
      const trueLabels = Int32Array.from(members, (i) => labels[i]);
      const next = tf.tidy(() => {
        const x = tf.div(tf.tensor4d(batch, [members.length, h, w, c], 'int32'), 255);
        const goal = tf.tensor1d(targeted ? new Int32Array(members.length).fill(o.target!) : trueLabels, 'int32');
        const loss = (d: tf.Tensor): tf.Scalar => crossEntropy(model.apply(tf.clipByValue(tf.add(x, d), 0, 1), { training: false }) as tf.Tensor2D, goal);
        const g = tf.grad(loss)(delta);
        const direction = targeted ? -1 : 1;
        return project(tf.add(delta, tf.mul(direction * o.stepSize, tf.sign(g))) as tf.Tensor3D, o.norm, o.radius);
      });
      delta.dispose();
      delta = next;
      const predicted = tf.tidy(() => {
        const x = tf.div(tf.tensor4d(batch, [members.length, h, w, c], 'int32'), 255);
        return tf.argMax(model.apply(tf.clipByValue(tf.add(x, delta), 0, 1), { training: false }) as tf.Tensor2D, 1).dataSync();
      });
      trueLabels.forEach((label, k) => {
        if (targeted && label === o.target) return;
        counted++;
        if (targeted ? predicted[k] === o.target : predicted[k] !== label) fooled++;
      });
    }
    const rate = counted > 0 ? fooled / counted : 0;
    foolingRates.push(rate);
    o.progress?.(epoch + 1, o.epochs, rate);
  }
  const result = Float32Array.from(delta.dataSync());
  delta.dispose();
  return { delta: result, foolingRates };
}
