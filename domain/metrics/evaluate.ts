/**
 * Clean accuracy and attack success rate (eq. 3) of a classifier on a labelled split, batched.
 * - cleanAccuracy: all images, no trigger;
 * - asr: images whose true label is not the target, trigger stamped, fraction predicted as target;
 * - targetRateClean: the same non-target images without the trigger, fraction predicted as target:
 *   the baseline an ASR must be read against (NOTES.md).
 * An optional test-time transform (a defense) is applied to every input, AFTER stamping.
 *
 * The classifier is a batched logits function, so that the same scorer serves a plain model
 * (evaluateModel), a pruned forward pass (Fine-Pruning) and a reconstruct-then-predict pipeline.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../common/rng.js';
import type { ImageTransform, LabelledImages } from '../common/types.js';
import { imageBatch } from '../common/pixels.js';
import { stamp, type Trigger } from '../attacks/trigger.js';

/** Logits [n, classes] for a float batch in [0, 1]; must not keep or dispose its input. */
export type LogitsFn = (x: tf.Tensor4D) => tf.Tensor2D;
/** Stamps the trigger on a float batch in [0, 1], image by image. */
export type PoisonFn = (x: tf.Tensor4D) => tf.Tensor4D;

interface CommonOptions {
  batchSize: number;
  target: number;
  /** Test-time transform applied to every input after stamping (a defense). */
  transform?: ImageTransform;
  /** Randomness of the transform. */
  rng: Rng;
}

export interface EvaluateOptions extends CommonOptions {
  /** The trigger to stamp for the ASR; without one, asr is null. */
  trigger?: Trigger;
}

export interface LogitsEvaluateOptions extends CommonOptions {
  /** Poisons the non-target images for the ASR; without it, asr is null. */
  poison?: PoisonFn;
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

/** Argmax predictions of a classifier on a float batch. */
export function predictClasses(logits: LogitsFn, x: tf.Tensor4D): Int32Array {
  return tf.tidy(() => tf.argMax(logits(x), 1).dataSync() as Int32Array);
}

/** A plain model's logits function (inference mode). */
export function modelLogits(model: tf.LayersModel): LogitsFn {
  return (x) => model.predict(x) as tf.Tensor2D;
}

function maybeTransform(x: tf.Tensor4D, transform: ImageTransform | undefined, rng: Rng): tf.Tensor4D {
  return transform ? transform(x, rng) : x.clone();
}

/**
 * How many images of an (already poisoned) float batch the classifier sends to `target`, after the
 * test-time transform if any: the numerator of the ASR, shared by every ASR in the project.
 */
export function targetHits(logits: LogitsFn, x: tf.Tensor4D, target: number, transform: ImageTransform | undefined, rng: Rng): number {
  const input = maybeTransform(x, transform, rng);
  try {
    return predictClasses(logits, input).reduce((n, p) => n + (p === target ? 1 : 0), 0);
  } finally {
    input.dispose();
  }
}

/** evaluateLogits for a plain model, with the trigger stamped for the ASR. */
export function evaluateModel(model: tf.LayersModel, split: LabelledImages, o: EvaluateOptions): Evaluation {
  const { trigger, ...rest } = o;
  return evaluateLogits(modelLogits(model), split, { ...rest, ...(trigger ? { poison: (x: tf.Tensor4D) => stamp(x, trigger) } : {}) });
}

export function evaluateLogits(logits: LogitsFn, split: LabelledImages, o: LogitsEvaluateOptions): Evaluation {
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
    const cleanPred = predictClasses(logits, cleanInput);
    cleanInput.dispose();
    labels.forEach((label, k) => {
      if (cleanPred[k] === label) correct++;
    });
    for (const k of rows) if (cleanPred[k] === o.target) cleanTargetHits++;
    nonTarget += rows.length;
    if (o.poison && rows.length > 0) {
      const poison = o.poison;
      const attacked = tf.tidy(() => poison(tf.gather(clean, rows)));
      attackHits += targetHits(logits, attacked, o.target, o.transform, o.rng);
      attacked.dispose();
    }
    clean.dispose();
  }
  return {
    cleanAccuracy: split.count > 0 ? correct / split.count : 0,
    asr: o.poison ? (nonTarget > 0 ? attackHits / nonTarget : 0) : null,
    targetRateClean: nonTarget > 0 ? cleanTargetHits / nonTarget : 0,
    counts: { total: split.count, nonTarget, correct, attackHits, cleanTargetHits },
  };
}

/**
 * Several evaluations of one model under draws of a random transform, pooled: counts are summed and
 * the rates recomputed from the sums, which equals the mean of the per-draw rates (every draw sees
 * the same images, so the denominators are equal).
 */
export function meanOverDraws(draws: Evaluation[]): Evaluation {
  if (draws.length === 0) throw new RangeError('meanOverDraws: no draws');
  if (draws.length === 1) return draws[0];
  const sum = (f: (c: Evaluation['counts']) => number) => draws.reduce((s, d) => s + f(d.counts), 0);
  const counts = { total: sum((c) => c.total), nonTarget: sum((c) => c.nonTarget), correct: sum((c) => c.correct), attackHits: sum((c) => c.attackHits), cleanTargetHits: sum((c) => c.cleanTargetHits) };
  const hasAsr = draws.every((d) => d.asr !== null);
  return {
    cleanAccuracy: counts.correct / counts.total,
    asr: hasAsr ? (counts.nonTarget > 0 ? counts.attackHits / counts.nonTarget : 0) : null,
    targetRateClean: counts.nonTarget > 0 ? counts.cleanTargetHits / counts.nonTarget : 0,
    counts,
  };
}
