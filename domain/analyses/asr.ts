/**
 * ASR over a fixed set of non-target test images, for analyses that evaluate many triggers or
 * transforms on the same images (clean accuracy is not recomputed for every point).
 */
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages, ImageTransform } from '../common/types.js';
import type { Rng } from '../common/rng.js';
import { stamp, type Trigger } from '../attacks/trigger.js';
import { imageBatch } from '../common/pixels.js';
import { modelLogits, targetHits } from '../metrics/evaluate.js';
import { takeIndices } from '../data/subset.js';

/** The images whose true label is not the target (the denominator of eq. 3). */
export function nonTargetImages(split: LabelledImages, target: number): LabelledImages {
  const keep: number[] = [];
  split.labels.forEach((l, i) => {
    if (l !== target) keep.push(i);
  });
  if (keep.length === 0) throw new Error(`no test image has a label other than the target ${target}`);
  return takeIndices(split, keep);
}

export interface AsrOptions {
  batchSize: number;
  target: number;
  /** Applied after stamping (a defense or a simulated capture). */
  transform?: ImageTransform;
}

/** Percentage (0-100) of `images` (all non-target) predicted as the target once the trigger is stamped. */
export function asrOn(model: tf.LayersModel, images: LabelledImages, trigger: Trigger, o: AsrOptions, rng: Rng): number {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new RangeError(`asr batchSize must be a positive integer, got ${o.batchSize}`);
  if (images.labels.some((l) => l === o.target)) throw new Error(`asrOn: images must exclude the target class ${o.target}; use nonTargetImages`);
  const logits = modelLogits(model);
  let hits = 0;
  for (let start = 0; start < images.count; start += o.batchSize) {
    const end = Math.min(images.count, start + o.batchSize);
    const attacked = tf.tidy(() => stamp(imageBatch(images, start, end), trigger));
    hits += targetHits(logits, attacked, o.target, o.transform, rng);
    attacked.dispose();
  }
  return (100 * hits) / images.count;
}
