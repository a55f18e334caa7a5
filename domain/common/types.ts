/**
 * Conventions shared by every domain module (see ARCHITECTURE.md):
 * - images on disk are uint8 NHWC, 0-255; models see float32 NHWC in [0, 1];
 * - models are tf.LayersModel with input [null, H, W, C] in [0, 1] and output logits (no softmax);
 * - every random draw comes from a seeded `Rng`, never Math.random.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from './rng.js';

/** A labelled split held in memory as on disk: uint8 pixels NHWC and uint8 labels. */
export interface LabelledImages {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/**
 * A batched image-to-image transform on float images in [0, 1] (test-time defenses,
 * the enhanced attacks' random layer, camera simulation). It must return a new tensor
 * (never its input), keep values in [0, 1], and draw any randomness from `rng`.
 */
export type ImageTransform = ((x: tf.Tensor4D, rng: Rng) => tf.Tensor4D) & {
  /**
   * The same transform on a float NHWC batch buffer, in place, for the training batches, where a
   * tensor per image and per operation cost more than the arithmetic. It must draw the same random
   * numbers in the same order as the tensor form and give the same pixels up to float rounding.
   */
  pixels?: PixelTransform;
};

/** An in-place transform of the listed rows (images) of a float [0, 1] NHWC batch buffer. */
export type PixelTransform = (images: Float32Array, rows: readonly number[], shape: readonly [number, number, number], rng: Rng) => void;

/** Gives a tensor transform its in-place pixel form (see ImageTransform.pixels). */
export function withPixels(transform: (x: tf.Tensor4D, rng: Rng) => tf.Tensor4D, pixels: PixelTransform): ImageTransform {
  return Object.assign(transform, { pixels });
}
