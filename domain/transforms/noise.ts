/**
 * Additive Gaussian noise (appendix D): a non-spatial test-time transform that changes the
 * trigger's appearance but not its location. The std is given on the paper's 0-255 pixel scale
 * and converted here, at the boundary, to the models' [0, 1] scale.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageTransform } from '../common/types.js';
import type { Rng } from '../common/rng.js';

/** Pixel range of the images on disk; params state noise std on this scale. */
const PIXEL_MAX = 255;

export interface GaussianNoiseOptions {
  /** Standard deviation on the 0-255 scale (the paper uses 5, 10, 15, 20). */
  std: number;
}

/** Adds zero-mean Gaussian noise to every pixel and channel independently, then clips to [0, 1]. */
export function addGaussianNoise(x: tf.Tensor4D, options: GaussianNoiseOptions, rng: Rng): tf.Tensor4D {
  checkStd(options.std);
  // tfjs draws normals in JS from this numeric seed on every backend, so the noise is reproducible.
  const seed = rng.seed();
  return tf.tidy(() => {
    const noise = tf.randomNormal(x.shape, 0, options.std / PIXEL_MAX, 'float32', seed);
    return tf.clipByValue(tf.add(x, noise), 0, 1) as tf.Tensor4D;
  });
}

/** The ImageTransform form, for the transform registry and the defense grid. */
export function gaussianNoise(options: GaussianNoiseOptions): ImageTransform {
  checkStd(options.std);
  return (x, rng) => addGaussianNoise(x, options, rng);
}

function checkStd(std: number): void {
  if (!(Number.isFinite(std) && std >= 0)) throw new RangeError(`noise std must be a finite number >= 0 on the 0-255 scale, got ${std}`);
}
