/**
 * The one conversion from stored uint8 NHWC pixels (0-255) to the float32 [0, 1] tensors models
 * see, and the one way to copy chosen images (rows) out of such an array. Every area converts at the model boundary through here, so that training, evaluation,
 * defenses and analyses feed a model exactly the same numbers for the same image.
 */
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from './types.js';

/** Image geometry of a uint8 NHWC array. */
export type ImageShape = Pick<LabelledImages, 'height' | 'width' | 'channels'>;

/** Copies the pixels of `indices` out of `images` (uint8 NHWC), in that order. */
export function gatherPixels(images: Uint8Array, shape: ImageShape, indices: ArrayLike<number>): Uint8Array {
  const size = shape.height * shape.width * shape.channels;
  const out = new Uint8Array(indices.length * size);
  for (let i = 0; i < indices.length; i++) {
    const idx = indices[i];
    if (!Number.isInteger(idx) || idx < 0 || (idx + 1) * size > images.length) {
      throw new RangeError(`image index ${idx} out of range 0..${images.length / size - 1}`);
    }
    out.set(images.subarray(idx * size, (idx + 1) * size), i * size);
  }
  return out;
}

/** uint8 NHWC pixels (0-255) to a float32 tensor in [0, 1]. */
export function toFloatImages(pixels: Uint8Array, shape: ImageShape): tf.Tensor4D {
  const size = shape.height * shape.width * shape.channels;
  if (pixels.length % size !== 0) throw new RangeError(`${pixels.length} bytes is not a whole number of ${shape.height}x${shape.width}x${shape.channels} images`);
  const values = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) values[i] = pixels[i] / 255;
  return tf.tensor4d(values, [pixels.length / size, shape.height, shape.width, shape.channels]);
}

/** The images [start, end) of a split as a float [0, 1] tensor. */
export function imageBatch(split: Omit<LabelledImages, 'labels'>, start: number, end: number): tf.Tensor4D {
  const size = split.height * split.width * split.channels;
  return toFloatImages(split.images.subarray(start * size, end * size), split);
}
