/**
 * Fine-Pruning (Liu et al., 2018) as the paper runs it (appendix B): rank the channels of the last
 * convolutional layer (VGG) or block (ResNet) by their mean activation on clean VALIDATION images,
 * prune (zero) them in increasing order, pick the prune fraction by grid search on the validation
 * half (the largest fraction whose clean accuracy stays within an allowed drop), and report on the
 * disjoint TEST half.
 *
 * No fine-tuning after pruning: the paper found that even one epoch of it reactivates the pruned
 * backdoor, so it removed that step; we follow the paper, not the original Fine-Pruning recipe.
 */
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../common/types.js';
import type { Rng } from '../common/rng.js';
import { imageBatch } from '../common/pixels.js';
import { evaluateLogits, type Evaluation, type PoisonFn } from '../metrics/evaluate.js';

/**
 * Access to one network for pruning. `features` returns the pruned layer's output (channels last);
 * `logitsWithMask` re-runs the network with that output multiplied channel-wise by `keep`
 * (1 = kept, 0 = pruned). Build it with `prunableNetwork` from a model and a hook runner.
 */
export interface PrunableNetwork {
  channels: number;
  features(x: tf.Tensor4D): tf.Tensor;
  logitsWithMask(x: tf.Tensor4D, keep: tf.Tensor1D): tf.Tensor2D;
}

import type { HookRunner } from '../models/graph.js';

export type { HookRunner };

/** Multiplies the last (channel) axis of `t` by `keep`, so a pruned channel becomes exactly zero. */
export function maskChannels(t: tf.Tensor, keep: tf.Tensor1D): tf.Tensor {
  const channels = t.shape[t.rank - 1];
  if (keep.shape[0] !== channels) throw new RangeError(`channel mask has ${keep.shape[0]} entries, the layer has ${channels} channels`);
  return tf.mul(t, keep);
}

export function prunableNetwork(model: tf.LayersModel, layerName: string, run: HookRunner): PrunableNetwork {
  const layer = model.getLayer(layerName);
  const shape = layer.outputShape as number[];
  const channels = shape[shape.length - 1];
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`layer '${layerName}' has no channel axis (output shape ${JSON.stringify(shape)})`);
  // A sub-model sharing the weights reads the layer's output without re-running the head.
  const upToLayer = tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor });
  return {
    channels,
    features: (x) => upToLayer.predict(x) as tf.Tensor,
    logitsWithMask: (x, keep) => run(model, x, { [layerName]: (t) => maskChannels(t, keep) }) as tf.Tensor2D,
  };
}

export interface ChannelRanking {
  /** Mean activation of every channel over the images and spatial positions. */
  meanActivation: number[];
  /** Channel indices in increasing order of mean activation: the pruning order. */
  order: number[];
}

export function rankChannels(net: PrunableNetwork, split: LabelledImages, batchSize: number): ChannelRanking {
  const sums = new Float64Array(net.channels);
  let positions = 0;
  for (let start = 0; start < split.count; start += batchSize) {
    const end = Math.min(split.count, start + batchSize);
    const batchSums = tf.tidy(() => {
      const x = imageBatch(split, start, end);
      const f = net.features(x);
      const flat = tf.reshape(f, [-1, net.channels]);
      positions += flat.shape[0];
      return tf.sum(flat, 0);
    });
    const values = batchSums.dataSync();
    batchSums.dispose();
    for (let c = 0; c < net.channels; c++) sums[c] += values[c];
  }
  const meanActivation = Array.from(sums, (s) => s / positions);
  // Ties broken by channel index so the order is reproducible.
  const order = meanActivation.map((_, c) => c).sort((a, b) => meanActivation[a] - meanActivation[b] || a - b);
  return { meanActivation, order };
}

/** Keep-mask with the first round(fraction * channels) channels of `order` pruned. */
export function pruneMask(order: readonly number[], fraction: number): { keep: Float32Array; pruned: number[] } {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`prune fraction must be in [0, 1], got ${fraction}`);
  const count = Math.round(fraction * order.length);
  const keep = new Float32Array(order.length).fill(1);
  const pruned = order.slice(0, count);
  for (const c of pruned) keep[c] = 0;
  return { keep, pruned };
}

export interface FinePruningOptions {
  /** Grid of fractions of channels to prune; 0 is added if missing (the unpruned baseline). */
  fractions: number[];
  /** Largest allowed drop of validation clean accuracy (absolute, e.g. 0.05 = 5 points). */
  maxAccuracyDrop: number;
  batchSize: number;
  target: number;
  poison: PoisonFn;
  rng: Rng;
}

export interface PruningPoint {
  fraction: number;
  prunedChannels: number;
  validation: Evaluation;
}

export interface FinePruningResult {
  ranking: ChannelRanking;
  /** Validation curve, which alone drives the choice. */
  validationCurve: PruningPoint[];
  chosenFraction: number;
  chosenPruned: number[];
  /** Test-half numbers for every fraction, computed after the choice, for the curve figure. */
  testCurve: { fraction: number; test: Evaluation }[];
  /** Test-half numbers at the chosen fraction: the defense's result. */
  test: Evaluation;
  /** The defense's own cost (ranking + grid search on validation), as Table 5 counts it. */
  selectionMs: number;
  /** Including the test-half curve. */
  wallTimeMs: number;
}

function checkOptions(o: FinePruningOptions): number[] {
  if (!Array.isArray(o.fractions) || o.fractions.length === 0) throw new RangeError('fine-pruning: fractions must be a non-empty list');
  for (const f of o.fractions) if (!(typeof f === 'number' && f >= 0 && f <= 1)) throw new RangeError(`fine-pruning: fraction ${f} is outside [0, 1]`);
  if (!(o.maxAccuracyDrop >= 0 && o.maxAccuracyDrop <= 1)) throw new RangeError(`fine-pruning: maxAccuracyDrop must be in [0, 1], got ${o.maxAccuracyDrop}`);
  return [...new Set([0, ...o.fractions])].sort((a, b) => a - b);
}

function scorePruned(net: PrunableNetwork, split: LabelledImages, keep: Float32Array, o: FinePruningOptions, label: string): Evaluation {
  if (split.count === 0) throw new RangeError(`fine-pruning: the ${label} split is empty`);
  const mask = tf.tensor1d(keep);
  try {
    return evaluateLogits((x) => net.logitsWithMask(x, mask), split, { batchSize: o.batchSize, target: o.target, poison: o.poison, rng: o.rng.fork(label) });
  } finally {
    mask.dispose();
  }
}

/**
 * Selection on `validation` only: ranking, then the validation curve, then the choice. Takes no
 * test data, so the choice cannot depend on it.
 */
export function selectPruneFraction(net: PrunableNetwork, validation: LabelledImages, o: FinePruningOptions) {
  const grid = checkOptions(o);
  const ranking = rankChannels(net, validation, o.batchSize);
  const validationCurve: PruningPoint[] = grid.map((fraction) => {
    const { keep, pruned } = pruneMask(ranking.order, fraction);
    return { fraction, prunedChannels: pruned.length, validation: scorePruned(net, validation, keep, o, `validation/${fraction}`) };
  });
  const baseline = validationCurve[0].validation.cleanAccuracy;
  // A tiny tolerance keeps a fraction whose accuracy equals the bound despite float rounding.
  const admissible = validationCurve.filter((p) => p.validation.cleanAccuracy >= baseline - o.maxAccuracyDrop - 1e-12);
  const chosenFraction = admissible[admissible.length - 1].fraction;
  return { ranking, validationCurve, chosenFraction, chosenPruned: pruneMask(ranking.order, chosenFraction).pruned };
}

/**
 * The smallest fraction whose VALIDATION clean-accuracy loss (against the unpruned model, in
 * points) reaches `lossPoints`: where to read our curve to compare with a row that lost that much.
 * Chosen on validation like the defense itself; `reached` is false when even the largest fraction
 * loses less (then that largest fraction is returned).
 */
export function fractionAtLoss(validationCurve: PruningPoint[], lossPoints: number): { point: PruningPoint; validationLoss: number; reached: boolean } {
  if (validationCurve.length === 0) throw new RangeError('fine-pruning: empty validation curve');
  if (!(Number.isFinite(lossPoints) && lossPoints >= 0)) throw new RangeError(`fine-pruning: target loss must be a non-negative number of points, got ${lossPoints}`);
  const sorted = [...validationCurve].sort((a, b) => a.fraction - b.fraction);
  const base = sorted[0].validation.cleanAccuracy;
  const loss = (p: PruningPoint) => 100 * (base - p.validation.cleanAccuracy);
  const hit = sorted.find((p) => loss(p) >= lossPoints - 1e-9);
  const point = hit ?? sorted[sorted.length - 1];
  return { point, validationLoss: loss(point), reached: hit !== undefined };
}

/** The whole defense: selection on the validation half, then every fraction scored on the test half. */
export function finePrune(net: PrunableNetwork, halves: { validation: LabelledImages; test: LabelledImages }, o: FinePruningOptions): FinePruningResult {
  const start = performance.now();
  const selection = selectPruneFraction(net, halves.validation, o);
  const selectionMs = performance.now() - start;
  const testCurve = selection.validationCurve.map(({ fraction }) => ({
    fraction,
    test: scorePruned(net, halves.test, pruneMask(selection.ranking.order, fraction).keep, o, `test/${fraction}`),
  }));
  const chosen = testCurve.find((p) => p.fraction === selection.chosenFraction);
  if (!chosen) throw new Error(`fine-pruning: chosen fraction ${selection.chosenFraction} missing from the test curve`);
  return { ...selection, testCurve, test: chosen.test, selectionMs, wallTimeMs: performance.now() - start };
}
