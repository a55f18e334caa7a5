/**
 * Scores a classifier given as a batched logits function, so that the same code serves a plain
 * model, a pruned forward pass (Fine-Pruning) and a reconstruct-then-predict pipeline
 * (Auto-Encoder). Clean accuracy is over every image; ASR (eq. 3) over the images whose true
 * label is not the target, with the trigger stamped; beside it, the rate at which the same clean
 * non-target images go to the target (NOTES.md: ASR means little without that baseline).
 * A test-time transform, if any, is applied after stamping, as a defense sees the attacked image.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageTransform, LabelledImages } from '../common/types.js';
import type { Rng } from '../common/rng.js';

/** Logits [n, classes] for a float batch in [0, 1]; must not keep or dispose its input. */
export type LogitsFn = (x: tf.Tensor4D) => tf.Tensor2D;
/** Stamps the trigger on a float batch in [0, 1]. */
export type PoisonFn = (x: tf.Tensor4D) => tf.Tensor4D;

export interface ScoreOptions {
  batchSize: number;
  target: number;
  /** Omit for a clean-only evaluation (asr and targetRateClean are then null). */
  poison?: PoisonFn;
  transform?: ImageTransform;
  rng: Rng;
}

export interface Scores {
  cleanAccuracy: number;
  asr: number | null;
  targetRateClean: number;
  /** Images behind each rate, so that tables can show how much a number rests on. */
  count: number;
  nonTargetCount: number;
}

/** Float batch in [0, 1] from rows [start, end) of a uint8 split. */
export function batchOf(split: LabelledImages, start: number, end: number): tf.Tensor4D {
  const { height: h, width: w, channels: c } = split;
  const size = h * w * c;
  const pixels = new Float32Array((end - start) * size);
  const source = split.images.subarray(start * size, end * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = source[i] / 255;
  return tf.tensor4d(pixels, [end - start, h, w, c]);
}

/** The rows `indices` of a split, copied, in the given order. */
export function subsetOf(split: LabelledImages, indices: readonly number[]): LabelledImages {
  const size = split.height * split.width * split.channels;
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  indices.forEach((row, k) => {
    if (!Number.isInteger(row) || row < 0 || row >= split.count) throw new RangeError(`subsetOf: row ${row} is outside 0..${split.count - 1}`);
    images.set(split.images.subarray(row * size, (row + 1) * size), k * size);
    labels[k] = split.labels[row];
  });
  return { ...split, images, labels, count: indices.length };
}

/** Predicted classes of a batch, with the transform (if any) applied first. */
function predictClasses(logits: LogitsFn, x: tf.Tensor4D, transform: ImageTransform | undefined, rng: Rng): Int32Array {
  const classes = tf.tidy(() => {
    const input = transform ? transform(x, rng) : x;
    return tf.argMax(logits(input), 1);
  });
  const out = classes.dataSync() as Int32Array;
  classes.dispose();
  return out;
}

export function scoreClassifier(logits: LogitsFn, split: LabelledImages, options: ScoreOptions): Scores {
  const { batchSize, target, poison, transform } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(target) || target < 0) throw new RangeError(`target must be a non-negative integer class, got ${target}`);
  if (split.count === 0) throw new RangeError('scoreClassifier: the split is empty');
  // Separate streams, so that adding the poisoned pass never changes the clean pass's draws.
  const cleanRng = options.rng.fork('clean');
  const poisonRng = options.rng.fork('poisoned');
  let correct = 0;
  let nonTarget = 0;
  let cleanToTarget = 0;
  let poisonedToTarget = 0;
  for (let start = 0; start < split.count; start += batchSize) {
    const end = Math.min(split.count, start + batchSize);
    const x = batchOf(split, start, end);
    try {
      const clean = predictClasses(logits, x, transform, cleanRng);
      const attacked = poison ? predictFromPoisoned(logits, x, poison, transform, poisonRng) : null;
      for (let i = 0; i < clean.length; i++) {
        const label = split.labels[start + i];
        if (clean[i] === label) correct++;
        if (label === target) continue;
        nonTarget++;
        if (clean[i] === target) cleanToTarget++;
        if (attacked && attacked[i] === target) poisonedToTarget++;
      }
    } finally {
      x.dispose();
    }
  }
  const rate = (k: number) => (nonTarget === 0 ? 0 : k / nonTarget);
  return {
    cleanAccuracy: correct / split.count,
    asr: poison ? rate(poisonedToTarget) : null,
    targetRateClean: rate(cleanToTarget),
    count: split.count,
    nonTargetCount: nonTarget,
  };
}

function predictFromPoisoned(logits: LogitsFn, x: tf.Tensor4D, poison: PoisonFn, transform: ImageTransform | undefined, rng: Rng): Int32Array {
  const stamped = poison(x);
  try {
    return predictClasses(logits, stamped, transform, rng);
  } finally {
    stamped.dispose();
  }
}

/** A plain model's logits function (inference mode). */
export function modelLogits(model: tf.LayersModel): LogitsFn {
  return (x) => model.predict(x) as tf.Tensor2D;
}
