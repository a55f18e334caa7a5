/**
 * Batched inference on uint8 NHWC images: converts each batch to float [0, 1]
 * at the model boundary, optionally passes it through a test-time transform
 * (a defense, a trigger stamp), and runs the model in inference mode. Only one
 * batch of tensors is alive at a time.
 */
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../common/types.js';
import { imageBatch } from '../common/pixels.js';

export type ImageSet = Omit<LabelledImages, 'labels'>;

/** Applied to each float batch before the model; must return a new tensor of the same shape. */
export type BatchTransform = (x: tf.Tensor4D) => tf.Tensor4D;

export interface Logits {
  /** Row-major [count, classes]. */
  values: Float32Array;
  classes: number;
}

export function predictLogits(model: tf.LayersModel, data: ImageSet, batchSize: number, transform?: BatchTransform): Logits {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer >= 1, got ${batchSize}`);
  const size = data.height * data.width * data.channels;
  if (data.images.length !== data.count * size) {
    throw new RangeError(`images hold ${data.images.length} bytes, expected ${data.count} x ${data.height}x${data.width}x${data.channels}`);
  }
  let values = new Float32Array(0);
  let classes = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const end = Math.min(start + batchSize, data.count);
    const out = tf.tidy(() => {
      const x = imageBatch(data, start, end);
      const input = transform ? transform(x) : x;
      return model.predict(input) as tf.Tensor2D;
    });
    const batch = out.dataSync() as Float32Array;
    if (start === 0) {
      classes = out.shape[1];
      values = new Float32Array(data.count * classes);
    }
    out.dispose();
    values.set(batch, start * classes);
  }
  return { values, classes };
}

/** Index of the largest logit per row. */
export function argmaxRows(logits: Logits): Int32Array {
  const { values, classes } = logits;
  const out = new Int32Array(values.length / classes);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[i * classes + c] > values[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

export function predictLabels(model: tf.LayersModel, data: ImageSet, batchSize: number, transform?: BatchTransform): Int32Array {
  return argmaxRows(predictLogits(model, data, batchSize, transform));
}

/** Fraction of `predicted` equal to `labels`. */
export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predicted.length !== labels.length) throw new RangeError(`${predicted.length} predictions for ${labels.length} labels`);
  if (labels.length === 0) throw new RangeError('accuracy of an empty set is undefined');
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) right += 1;
  return right / labels.length;
}
