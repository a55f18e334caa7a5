/**
 * Seeded mini-batches from uint8 NHWC images, converted at the model
 * boundary to float32 in [0, 1]. Attack code composes these pieces: draw the
 * epoch's index batches, gather and augment/poison the uint8 pixels, then
 * convert.
 */
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../common/types.js';
import type { Rng } from '../common/rng.js';
import { gatherPixels, toFloatImages } from '../common/pixels.js';

export interface Batch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

/** An epoch's batches with their number known up front (for progress reports). */
export interface BatchSequence extends Iterable<Batch> {
  readonly length: number;
}


/** A shuffled epoch: `count` indices in batches of `batchSize` (the last may be smaller unless dropLast). */
export function batchIndices(count: number, batchSize: number, rng: Rng, dropLast = false): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer >= 1, got ${batchSize}`);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be an integer >= 0, got ${count}`);
  const order = rng.permutation(count);
  const out: number[][] = [];
  for (let start = 0; start < count; start += batchSize) {
    const batch = order.slice(start, start + batchSize);
    if (dropLast && batch.length < batchSize) break;
    out.push(batch);
  }
  return out;
}

/** Plain (unaugmented) shuffled batches of a labelled split, for benign training and tests. */
export function shuffledBatches(data: LabelledImages, batchSize: number, rng: Rng, dropLast = false): BatchSequence {
  // Tensors are created lazily so that only one batch is alive at a time.
  const plan = batchIndices(data.count, batchSize, rng, dropLast);
  return {
    length: plan.length,
    *[Symbol.iterator](): Iterator<Batch> {
      for (const indices of plan) {
        const x = toFloatImages(gatherPixels(data.images, data, indices), data);
        const y = tf.tensor1d(Int32Array.from(indices, (i) => data.labels[i]), 'int32');
        yield { x, y };
      }
    },
  };
}
