/**
 * Horizontal (left-right) flipping, the paper's "Flip" transform: a defense when applied to
 * every test image, and the first half of the enhanced attacks' random layer when drawn per image.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageTransform } from '../common/types.js';
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
  return (x, rng) => randomFlipWithDraws(x, p, rng).images;
}

function checkProbability(p: number): void {
  if (!(Number.isFinite(p) && p >= 0 && p <= 1)) throw new RangeError(`flip probability must be in [0, 1], got ${p}`);
}
