/**
 * The training batch source for a (possibly poisoned) training set, in the order appendix A asks:
 * 1. per epoch, a seeded shuffle;
 * 2. standard augmentation of the BENIGN image (zero-pad + random crop, then an optional flip);
 * 3. THEN the trigger stamped on the poisoned images, so it never moves during standard training;
 * 4. THEN, for the enhanced attacks, the random transform layer on the poisoned images, and on the
 *    benign ones too when asked (appendix C).
 * For the label-consistent attack the images of the poisoned indices are the adversarially
 * perturbed versions, substituted before any of this (see `substituteImages`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../common/rng.js';
import type { ImageTransform } from '../common/types.js';
import { stampInPlace, type Trigger } from './trigger.js';

export interface TrainingImages {
  /** uint8 NHWC, 0-255. */
  images: Uint8Array;
  /** Labels after poisoning. */
  labels: Uint8Array;
  /** 1 where the image is poisoned (gets the trigger), 0 elsewhere. */
  isPoisoned: Uint8Array;
  shape: [number, number, number];
}

export interface AugmentOptions {
  /** Zero padding before the random crop back to full size; 0 turns cropping off. */
  padding: number;
  /** Probability of a horizontal flip of the benign image before stamping. */
  flipProbability: number;
}

export interface BatchSourceOptions {
  batchSize: number;
  augment: AugmentOptions;
  /** The trigger stamped on poisoned images; none for a benign model. */
  trigger?: Trigger;
  /** The enhanced attacks' random layer, applied after stamping. */
  enhanceTransform?: ImageTransform;
  /** Apply `enhanceTransform` to the benign images as well (appendix C). */
  enhanceBenign?: boolean;
}

/** The training loop's batch (x float [0, 1] NHWC, y int32 labels). */
export interface Batch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

/** An epoch's batches with their count known up front, for progress reports. */
export interface BatchSequence extends Iterable<Batch> {
  readonly length: number;
}

/** Replaces the images at `indices` by `replacement` ([indices.length, H, W, C] uint8), in a copy. */
export function substituteImages(images: Uint8Array, imageSize: number, indices: ArrayLike<number>, replacement: Uint8Array): Uint8Array {
  if (replacement.length !== indices.length * imageSize) {
    throw new RangeError(`substituteImages: ${indices.length} indices need ${indices.length * imageSize} replacement bytes, got ${replacement.length}`);
  }
  const out = Uint8Array.from(images);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || (i + 1) * imageSize > images.length) throw new RangeError(`substituteImages: index ${i} is outside the training set`);
    out.set(replacement.subarray(k * imageSize, (k + 1) * imageSize), i * imageSize);
  }
  return out;
}

/**
 * Copies the selected images into a float [0, 1] batch buffer, each one padded by `padding` with
 * zeros, cropped back at a random offset and optionally mirrored: the benign augmentation.
 */
export function augmentInto(set: TrainingImages, order: ArrayLike<number>, augment: AugmentOptions, rng: Rng): Float32Array {
  const [h, w, c] = set.shape;
  const size = h * w * c;
  const out = new Float32Array(order.length * size);
  const p = augment.padding;
  for (let k = 0; k < order.length; k++) {
    const src = order[k] * size;
    // Crop offset in the padded image; the source pixel of output (r, q) is (r + dy - p, q + dx - p).
    const dy = p > 0 ? rng.int(0, 2 * p) - p : 0;
    const dx = p > 0 ? rng.int(0, 2 * p) - p : 0;
    const flip = augment.flipProbability > 0 && rng.bool(augment.flipProbability);
    const dst = k * size;
    for (let r = 0; r < h; r++) {
      const sr = r + dy;
      if (sr < 0 || sr >= h) continue;
      for (let q = 0; q < w; q++) {
        const cropped = q + dx;
        if (cropped < 0 || cropped >= w) continue;
        const oq = flip ? w - 1 - q : q;
        const from = src + (sr * w + cropped) * c;
        const to = dst + (r * w + oq) * c;
        for (let ch = 0; ch < c; ch++) out[to + ch] = set.images[from + ch] / 255;
      }
    }
  }
  return out;
}

/** Applies `transform` to the rows of `x` listed in `rows` only, leaving the others as they are. */
export function transformRows(x: tf.Tensor4D, rows: number[], transform: ImageTransform, rng: Rng): tf.Tensor4D {
  const n = x.shape[0];
  if (rows.length === 0) return x.clone();
  if (rows.length === n) return transform(x, rng);
  return tf.tidy(() => {
    const chosen = new Set(rows);
    const others = Array.from({ length: n }, (_, i) => i).filter((i) => !chosen.has(i));
    const transformed = transform(tf.gather(x, rows), rng);
    const stacked = tf.concat([tf.gather(x, others), transformed]);
    // Row i of the result is at position `where[i]` of [others..., rows...].
    const where = new Int32Array(n);
    others.forEach((row, k) => (where[row] = k));
    rows.forEach((row, k) => (where[row] = others.length + k));
    return tf.gather(stacked, where) as tf.Tensor4D;
  });
}

function checkOptions(set: TrainingImages, o: BatchSourceOptions): void {
  const [h, w, c] = set.shape;
  const n = set.labels.length;
  if (set.images.length !== n * h * w * c) throw new RangeError(`training images hold ${set.images.length} bytes, ${n} labels of ${h}x${w}x${c} need ${n * h * w * c}`);
  if (set.isPoisoned.length !== n) throw new RangeError(`isPoisoned has ${set.isPoisoned.length} entries for ${n} images`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${o.batchSize}`);
  if (!Number.isInteger(o.augment.padding) || o.augment.padding < 0 || o.augment.padding >= Math.min(h, w)) throw new RangeError(`augment padding must be an integer in 0..${Math.min(h, w) - 1}, got ${o.augment.padding}`);
  if (!(o.augment.flipProbability >= 0 && o.augment.flipProbability <= 1)) throw new RangeError(`augment flipProbability must be in [0, 1], got ${o.augment.flipProbability}`);
  if (set.isPoisoned.some((v) => v === 1) && !o.trigger) throw new RangeError('the training set has poisoned images but no trigger was given');
  if (o.trigger && o.trigger.shape.join('x') !== [h, w, c].join('x')) {
    throw new RangeError(`the trigger is for ${o.trigger.shape.join('x')} images, the training images are ${h}x${w}x${c}`);
  }
}

/**
 * The `batches(epoch, rng)` function of the training loop. Each batch's tensors belong to the
 * caller, who disposes them. The last batch may be smaller.
 */
export function poisonedBatches(set: TrainingImages, o: BatchSourceOptions): (epoch: number, rng: Rng) => BatchSequence {
  checkOptions(set, o);
  const [h, w, c] = set.shape;
  const length = Math.ceil(set.labels.length / o.batchSize);
  return (_epoch, rng) => ({ length, [Symbol.iterator]: () => batchesOfEpoch(rng) });
  function* batchesOfEpoch(rng: Rng): Iterator<Batch> {
    const order = rng.permutation(set.labels.length);
    for (let start = 0; start < order.length; start += o.batchSize) {
      const members = order.slice(start, start + o.batchSize);
      // Augmentation, stamping and (where it has a pixel form) the enhanced layer all work on one
      // float buffer in place, so a batch becomes a tensor once instead of once per operation.
      const pixels = augmentInto(set, members, o.augment, rng);
      const poisonedRows = members.flatMap((i, k) => (set.isPoisoned[i] ? [k] : []));
      if (o.trigger && poisonedRows.length > 0) stampInPlace(pixels, poisonedRows, [h, w, c], o.trigger);
      const enhancedRows = o.enhanceTransform ? (o.enhanceBenign ? members.map((_, k) => k) : poisonedRows) : [];
      const pixelForm = o.enhanceTransform?.pixels;
      if (pixelForm && enhancedRows.length > 0) pixelForm(pixels, enhancedRows, [h, w, c], rng);
      const x = tf.tidy(() => {
        const stamped = tf.tensor4d(pixels, [members.length, h, w, c]);
        if (!o.enhanceTransform || pixelForm) return stamped;
        return transformRows(stamped, enhancedRows, o.enhanceTransform, rng);
      });
      const y = tf.tensor1d(Int32Array.from(members, (i) => set.labels[i]), 'int32');
      yield { x, y };
    }
  }
}
