/**
 * Horizontal (left-right) flipping, the paper's "Flip" transform: a defense when applied to
 * every test image, and the first half of the enhanced attacks' random layer when drawn per image.
 */
import * as tf from '@tensorflow/tfjs';
import { withPixels, type ImageTransform, type PixelTransform } from '../common/types.js';
import type { Rng } from '../common/rng.js';

/** Mirrors every image of an NHWC batch along its width axis. */
export function flipLeftRight(x: tf.Tensor4D): tf.Tensor4D {
  return tf.reverse(x, 2);
}

/** Flips each image of the batch independently with probability `p`; `flipped[i]` says which were flipped. */
export function randomFlipWithDraws(x: tf.Tensor4D, p: number, rng: Rng): { images: tf.Tensor4D; flipped: boolean[] } {
  checkProbability(p);
  const n = x.shape[0];
  const flipped = Array.from({ length: n }, () => rng.bool(p));
  const images = tf.tidy(() => {
    const choose = tf.tensor4d(flipped.map((f) => (f ? 1 : 0)), [n, 1, 1, 1], 'bool');
    return tf.where(choose, flipLeftRight(x), x) as tf.Tensor4D;
  });
  return { images, flipped };
}

/** The ImageTransform form of a per-image random flip with probability `p`. */
export function randomFlip(p: number): ImageTransform {
  checkProbability(p);
  return withPixels((x, rng) => randomFlipWithDraws(x, p, rng).images, randomFlipPixels(p));
}

/** Mirrors one image (row `row` of an NHWC buffer) along its width, in place. */
export function flipImageInPlace(images: Float32Array, row: number, [h, w, c]: readonly [number, number, number]): void {
  const base = row * h * w * c;
  for (let r = 0; r < h; r++) {
    let left = base + r * w * c;
    let right = left + (w - 1) * c;
    for (; left < right; left += c, right -= c) {
      for (let ch = 0; ch < c; ch++) {
        const t = images[left + ch];
        images[left + ch] = images[right + ch];
        images[right + ch] = t;
      }
    }
  }
}

/** randomFlip on a batch buffer: one draw per listed row, in order, as the tensor form draws. */
export function randomFlipPixels(p: number): PixelTransform {
  checkProbability(p);
  return (images, rows, shape, rng) => {
    const flipped = rows.map(() => rng.bool(p));
    rows.forEach((row, k) => { if (flipped[k]) flipImageInPlace(images, row, shape); });
  };
}

function checkProbability(p: number): void {
  if (!(Number.isFinite(p) && p >= 0 && p <= 1)) throw new RangeError(`flip probability must be in [0, 1], got ${p}`);
}
