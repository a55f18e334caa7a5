/**
 * Neural Cleanse (Wang et al., S&P 2019), following the authors' released code
 * (github.com/bolunwang/backdoor) as the paper did (appendix B):
 * - per class, optimise a mask m (H x W) and pattern p (H x W x C), both through
 *   tanh(raw) / (2 - eps) + 0.5, so that x' = (1 - m) x + m p is classified as that class;
 *   loss = cross-entropy + cost * |m|_1, Adam;
 * - the cost starts at `initCost` and is adjusted every epoch: after `patience` epochs whose
 *   attack success is >= the threshold it is multiplied by `costMultiplier`, after `patience`
 *   epochs below it divided by costMultiplier^1.5; early stop once both moves have happened and
 *   the best norm has not improved for `earlyStopPatience` epochs;
 * - the reversed trigger of a class is the smallest-norm mask seen with success >= threshold;
 * - outlier detection: anomaly index |norm - median| / (1.4826 * MAD), flag classes below the
 *   median with index > 2;
 * - mitigation by unlearning: fine-tune on clean data where a fraction carries a flagged
 *   class's reversed trigger and keeps its TRUE label.
 */
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../common/types.js';
import type { Rng } from '../common/rng.js';
import { imageBatch } from '../common/pixels.js';
import { takeIndices } from '../data/subset.js';

export interface ReverseOptions {
  /** Optimisation epochs at most (the original: 1000). */
  epochs: number;
  /** Mini-batches per epoch (the original: 1000 samples / 32 = 31). */
  batchesPerEpoch: number;
  batchSize: number;
  learningRate: number;
  adamBeta1: number;
  adamBeta2: number;
  initCost: number;
  costMultiplier: number;
  patience: number;
  attackSuccessThreshold: number;
  earlyStop: boolean;
  /** Relative improvement that resets the early-stop counter (the original: 1.0, any improvement). */
  earlyStopThreshold: number;
  earlyStopPatience: number;
}

export interface ReversedTrigger {
  label: number;
  /** H x W in [0, 1]. */
  mask: Float32Array;
  /** H x W x C in [0, 1]. */
  pattern: Float32Array;
  /** L1 norm of the mask (sum over H x W). */
  l1Norm: number;
  /** Whether any epoch reached the success threshold; if not, the last mask is kept. */
  reachedThreshold: boolean;
  /** Attack success on the epoch the mask comes from. */
  attackSuccess: number;
  epochsRun: number;
  finalCost: number;
}

/** Keeps tanh away from +-1 so that atanh of the initial values stays finite (the original's epsilon). */
const TANH_EPSILON = 1e-7;

function squash(raw: tf.Tensor): tf.Tensor {
  return tf.add(tf.div(tf.tanh(raw), 2 - TANH_EPSILON), 0.5);
}

function unsquash(values: Float32Array): Float32Array {
  return values.map((v) => Math.atanh((v - 0.5) * (2 - TANH_EPSILON)));
}

function variableFrom(values: Float32Array, shape: [number, number, number]): tf.Variable {
  const initial = tf.tensor3d(values, shape);
  const v = tf.variable(initial);
  initial.dispose();
  return v;
}

/** x' = (1 - m) x + m p, with m broadcast over channels. */
export function applyReversedTrigger(x: tf.Tensor4D, mask: tf.Tensor, pattern: tf.Tensor): tf.Tensor4D {
  return tf.tidy(() => tf.add(tf.mul(tf.sub(1, mask), x), tf.mul(mask, pattern)) as tf.Tensor4D);
}

export function checkReverseOptions(o: ReverseOptions): void {
  const positiveInts: (keyof ReverseOptions)[] = ['epochs', 'batchesPerEpoch', 'batchSize', 'patience', 'earlyStopPatience'];
  for (const k of positiveInts) if (!(Number.isInteger(o[k]) && (o[k] as number) >= 1)) throw new RangeError(`neural cleanse: ${k} must be a positive integer, got ${o[k]}`);
  const positive: (keyof ReverseOptions)[] = ['learningRate', 'initCost', 'earlyStopThreshold'];
  for (const k of positive) if (!((o[k] as number) > 0)) throw new RangeError(`neural cleanse: ${k} must be > 0, got ${o[k]}`);
  if (!(o.costMultiplier > 1)) throw new RangeError(`neural cleanse: costMultiplier must be > 1, got ${o.costMultiplier}`);
  if (!(o.attackSuccessThreshold > 0 && o.attackSuccessThreshold <= 1)) throw new RangeError(`neural cleanse: attackSuccessThreshold must be in (0, 1], got ${o.attackSuccessThreshold}`);
  for (const k of ['adamBeta1', 'adamBeta2'] as const) if (!(o[k] >= 0 && o[k] < 1)) throw new RangeError(`neural cleanse: ${k} must be in [0, 1), got ${o[k]}`);
}

/** Optimises the reversed trigger for one label on clean images. `logits` must be differentiable. */
export function reverseTrigger(
  logits: (x: tf.Tensor4D) => tf.Tensor2D,
  clean: LabelledImages,
  label: number,
  numClasses: number,
  o: ReverseOptions,
  rng: Rng,
): ReversedTrigger {
  checkReverseOptions(o);
  if (!Number.isInteger(label) || label < 0 || label >= numClasses) throw new RangeError(`neural cleanse: label ${label} outside 0..${numClasses - 1}`);
  const { height: h, width: w, channels: c } = clean;
  const maskRaw = variableFrom(unsquash(Float32Array.from({ length: h * w }, () => rng.uniform())), [h, w, 1]);
  const patternRaw = variableFrom(unsquash(Float32Array.from({ length: h * w * c }, () => rng.uniform())), [h, w, c]);
  const optimizer = tf.train.adam(o.learningRate, o.adamBeta1, o.adamBeta2);
  const targetOneHot = tf.tidy(() => tf.oneHot(tf.fill([o.batchSize], label, 'int32'), numClasses));
  const snapshot = () => tf.tidy(() => ({ mask: squash(maskRaw).dataSync() as Float32Array, pattern: squash(patternRaw).dataSync() as Float32Array }));

  let cost = o.initCost;
  let best: { mask: Float32Array; pattern: Float32Array; norm: number; success: number } | null = null;
  let last = { success: 0, norm: Infinity };
  let upCounter = 0, downCounter = 0, costSetCounter = 0, earlyStopCounter = 0;
  let upFlag = false, downFlag = false;
  let earlyStopBest = Infinity;
  let epochsRun = 0;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      epochsRun = epoch + 1;
      let successSum = 0, normSum = 0;
      for (let b = 0; b < o.batchesPerEpoch; b++) {
        const rows = Array.from({ length: o.batchSize }, () => rng.int(0, clean.count - 1));
        const batch = takeIndices(clean, rows);
        const x = imageBatch(batch, 0, batch.count);
        const stepCost = cost;
        let success = 0;
        let norm = 0;
        const loss = optimizer.minimize(() => {
          const mask = squash(maskRaw);
          const pattern = squash(patternRaw);
          const out = logits(applyReversedTrigger(x, mask, pattern));
          const ce = tf.losses.softmaxCrossEntropy(targetOneHot, out);
          const l1 = tf.sum(tf.abs(mask));
          // Read the batch's success and norm from the same forward pass the step uses.
          success = tf.mean(tf.cast(tf.equal(tf.argMax(out, 1), label), 'float32')).dataSync()[0];
          norm = l1.dataSync()[0];
          return tf.add(ce, tf.mul(l1, stepCost)) as tf.Scalar;
        }, true, [maskRaw, patternRaw]);
        loss?.dispose();
        x.dispose();
        successSum += success;
        normSum += norm;
      }
      const success = successSum / o.batchesPerEpoch;
      const norm = normSum / o.batchesPerEpoch;
      last = { success, norm };
      if (success >= o.attackSuccessThreshold && norm < (best?.norm ?? Infinity)) best = { ...snapshot(), norm, success };

      if (o.earlyStop) {
        if (best !== null) earlyStopCounter = best.norm >= o.earlyStopThreshold * earlyStopBest ? earlyStopCounter + 1 : 0;
        earlyStopBest = Math.min(best?.norm ?? Infinity, earlyStopBest);
        if (upFlag && downFlag && earlyStopCounter >= o.earlyStopPatience) break;
      }
      if (cost === 0 && success >= o.attackSuccessThreshold) {
        costSetCounter++;
        if (costSetCounter >= o.patience) {
          cost = o.initCost;
          upCounter = 0; downCounter = 0; upFlag = false; downFlag = false;
        }
      } else costSetCounter = 0;
      if (success >= o.attackSuccessThreshold) { upCounter++; downCounter = 0; } else { upCounter = 0; downCounter++; }
      if (upCounter >= o.patience) { upCounter = 0; cost *= o.costMultiplier; upFlag = true; }
      else if (downCounter >= o.patience) { downCounter = 0; cost /= o.costMultiplier ** 1.5; downFlag = true; }
    }
    const chosen = best ?? { ...snapshot(), norm: last.norm, success: last.success };
    // The reported norm is recomputed from the kept mask, not the batch average it was chosen by.
    const l1Norm = chosen.mask.reduce((s, v) => s + Math.abs(v), 0);
    return { label, mask: chosen.mask, pattern: chosen.pattern, l1Norm, reachedThreshold: best !== null, attackSuccess: chosen.success, epochsRun, finalCost: cost };
  } finally {
    tf.dispose([maskRaw, patternRaw, targetOneHot]);
    optimizer.dispose();
  }
}

export interface AnomalyOptions {
  /** MAD consistency constant for normally distributed norms (1.4826). */
  consistencyConstant: number;
  /** Flag threshold on the anomaly index (2). */
  threshold: number;
}

export interface AnomalyReport {
  norms: number[];
  median: number;
  mad: number;
  /** |norm - median| / mad per class. */
  anomalyIndex: number[];
  /** Classes with a norm below the median and an anomaly index above the threshold. */
  flagged: number[];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function madOutliers(norms: number[], o: AnomalyOptions): AnomalyReport {
  if (norms.length < 3) throw new RangeError(`MAD outlier detection needs at least 3 classes, got ${norms.length}`);
  const med = median(norms);
  const mad = o.consistencyConstant * median(norms.map((n) => Math.abs(n - med)));
  // All norms equal (mad 0): nothing stands out, rather than dividing by zero.
  const anomalyIndex = norms.map((n) => (mad === 0 ? 0 : Math.abs(n - med) / mad));
  const flagged = norms.map((n, label) => ({ n, label })).filter(({ n, label }) => n < med && anomalyIndex[label] > o.threshold).map(({ label }) => label);
  return { norms, median: med, mad, anomalyIndex, flagged };
}

export interface UnlearnOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Share of each batch stamped with a reversed trigger, keeping the true label (the original: 0.2). */
  stampFraction: number;
  optimizer: 'adam' | 'sgd';
  numClasses: number;
}

/**
 * Fine-tunes `model` in place on `clean`, stamping a random `stampFraction` of the images of every
 * epoch with one of `triggers` (drawn per image) and keeping their true labels, so the model
 * unlearns the trigger-to-target shortcut. Runs the model in inference mode (batch-norm statistics
 * frozen): a small clean set would otherwise skew the trained model's running statistics.
 * Returns the mean loss per epoch.
 */
export function unlearn(model: tf.LayersModel, clean: LabelledImages, triggers: ReversedTrigger[], o: UnlearnOptions, rng: Rng): number[] {
  if (triggers.length === 0) throw new RangeError('unlearn: no reversed trigger given (no class was flagged?)');
  if (!(o.stampFraction >= 0 && o.stampFraction <= 1)) throw new RangeError(`unlearn: stampFraction must be in [0, 1], got ${o.stampFraction}`);
  if (!(Number.isInteger(o.epochs) && o.epochs >= 1)) throw new RangeError(`unlearn: epochs must be a positive integer, got ${o.epochs}`);
  const { height: h, width: w, channels: c } = clean;
  // Row k < triggers.length is trigger k; the last row is "no trigger" (an all-zero mask).
  const masks = tf.tidy(() => tf.concat([...triggers.map((t) => tf.tensor4d(t.mask, [1, h, w, 1])), tf.zeros([1, h, w, 1])]));
  const patterns = tf.tidy(() => tf.concat([...triggers.map((t) => tf.tensor4d(t.pattern, [1, h, w, c])), tf.zeros([1, h, w, c])]));
  const none = triggers.length;
  const optimizer = o.optimizer === 'adam' ? tf.train.adam(o.learningRate) : tf.train.sgd(o.learningRate);
  const variables = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const order = rng.permutation(clean.count);
      let total = 0;
      for (let start = 0; start < clean.count; start += o.batchSize) {
        const rows = order.slice(start, start + o.batchSize);
        const batch = takeIndices(clean, rows);
        const which = rows.map(() => (rng.bool(o.stampFraction) ? rng.int(0, triggers.length - 1) : none));
        const loss = optimizer.minimize(() => {
          const index = tf.tensor1d(which, 'int32');
          const x = applyReversedTrigger(imageBatch(batch, 0, batch.count), tf.gather(masks, index), tf.gather(patterns, index));
          const labels = tf.oneHot(tf.tensor1d(Array.from(batch.labels), 'int32'), o.numClasses);
          const out = model.apply(x, { training: false }) as tf.Tensor2D;
          return tf.losses.softmaxCrossEntropy(labels, out) as tf.Scalar;
        }, true, variables);
        if (loss) {
          total += loss.dataSync()[0] * rows.length;
          loss.dispose();
        }
      }
      const mean = total / clean.count;
      if (!Number.isFinite(mean)) throw new Error(`unlearn: loss became ${mean} at epoch ${epoch + 1}; lower the learning rate`);
      losses.push(mean);
    }
    return losses;
  } finally {
    tf.dispose([masks, patterns]);
    optimizer.dispose();
  }
}

export interface NeuralCleanseResult {
  triggers: ReversedTrigger[];
  anomaly: AnomalyReport;
  /** Optimisation time over all classes (the detection cost of Table 5). */
  reverseMs: number;
}

/** Reverses a trigger for every class (in label order, each with its own forked stream) and runs the MAD test. */
export function detectBackdoor(
  logits: (x: tf.Tensor4D) => tf.Tensor2D,
  clean: LabelledImages,
  numClasses: number,
  reverse: ReverseOptions,
  anomaly: AnomalyOptions,
  rng: Rng,
  onClass?: (label: number, t: ReversedTrigger) => void,
): NeuralCleanseResult {
  const start = performance.now();
  const triggers: ReversedTrigger[] = [];
  for (let label = 0; label < numClasses; label++) {
    const t = reverseTrigger(logits, clean, label, numClasses, reverse, rng.fork(`class${label}`));
    triggers.push(t);
    onClass?.(label, t);
  }
  const reverseMs = performance.now() - start;
  return { triggers, anomaly: madOutliers(triggers.map((t) => t.l1Norm), anomaly), reverseMs };
}
