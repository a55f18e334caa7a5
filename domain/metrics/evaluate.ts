/**
 * Clean accuracy and attack success rate (eq. 3) of a model on a labelled split, batched.
 * - cleanAccuracy: all images, no trigger;
 * - asr: images whose true label is not the target, trigger stamped, fraction predicted as target;
 * - targetRateClean: the same non-target images without the trigger, fraction predicted as target:
 *   the baseline an ASR must be read against (NOTES.md).
 * An optional test-time transform (a defense) is applied to every input, AFTER stamping.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../common/rng.js';
import type { ImageTransform, LabelledImages } from '../common/types.js';
import { stamp, type Trigger } from '../attacks/trigger.js';

export interface EvaluateOptions {
  batchSize: number;
  target: number;
  /** The trigger to stamp for the ASR; without one, asr is null. */
  trigger?: Trigger;
  /** Test-time transform applied to every input after stamping (a defense). */
  transform?: ImageTransform;
  /** Randomness of the transform. */
  rng: Rng;
}

export interface Evaluation {
  cleanAccuracy: number;
  asr: number | null;
  targetRateClean: number;
  counts: {
    total: number;
    nonTarget: number;
    correct: number;
    /** Triggered non-target images predicted as the target. */
    attackHits: number;
    /** Clean non-target images predicted as the target. */
    cleanTargetHits: number;
  };
}

/** Argmax predictions of a model on a float batch. */
export function predictLabels(model: tf.LayersModel, x: tf.Tensor4D): Int32Array {
  return tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor2D, 1).dataSync() as Int32Array);
}

/** The images [start, end) of a split as a float [0, 1] tensor. */
export function imageBatch(split: LabelledImages, start: number, end: number): tf.Tensor4D {
  const size = split.height * split.width * split.channels;
  return tf.tidy(() => tf.div(tf.tensor4d(split.images.subarray(start * size, end * size), [end - start, split.height, split.width, split.channels], 'int32'), 255) as tf.Tensor4D);
}

function maybeTransform(x: tf.Tensor4D, transform: ImageTransform | undefined, rng: Rng): tf.Tensor4D {
  return transform ? transform(x, rng) : x.clone();
}

export function evaluateModel(model: tf.LayersModel, split: LabelledImages, o: EvaluateOptions): Evaluation {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new RangeError(`evaluate batchSize must be a positive integer, got ${o.batchSize}`);
  if (!Number.isInteger(o.target) || o.target < 0) throw new RangeError(`evaluate target must be a class index, got ${o.target}`);
  const size = split.height * split.width * split.channels;
  if (split.images.length !== split.count * size || split.labels.length !== split.count) {
    throw new RangeError(`split holds ${split.images.length} bytes and ${split.labels.length} labels, count ${split.count} of ${split.height}x${split.width}x${split.channels}`);
  }
  let correct = 0, nonTarget = 0, attackHits = 0, cleanTargetHits = 0;
  for (let start = 0; start < split.count; start += o.batchSize) {
    const end = Math.min(split.count, start + o.batchSize);
    const labels = split.labels.subarray(start, end);
    const rows = Array.from(labels.keys()).filter((k) => labels[k] !== o.target);
    const clean = imageBatch(split, start, end);
    const cleanInput = maybeTransform(clean, o.transform, o.rng);
    const cleanPred = predictLabels(model, cleanInput);
    cleanInput.dispose();
    labels.forEach((label, k) => {
      if (cleanPred[k] === label) correct++;
    });
    for (const k of rows) if (cleanPred[k] === o.target) cleanTargetHits++;
    nonTarget += rows.length;
    if (o.trigger && rows.length > 0) {
      const attacked = tf.tidy(() => stamp(tf.gather(clean, rows), o.trigger!));
      const attackedInput = maybeTransform(attacked, o.transform, o.rng);
      const attackPred = predictLabels(model, attackedInput);
      attacked.dispose();
      attackedInput.dispose();
      attackHits += attackPred.reduce((n, p) => n + (p === o.target ? 1 : 0), 0);
    }
    clean.dispose();
  }
  return {
    cleanAccuracy: split.count > 0 ? correct / split.count : 0,
    asr: o.trigger ? (nonTarget > 0 ? attackHits / nonTarget : 0) : null,
    targetRateClean: nonTarget > 0 ? cleanTargetHits / nonTarget : 0,
    counts: { total: split.count, nonTarget, correct, attackHits, cleanTargetHits },
  };
}
