import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { detectBackdoor, madOutliers, unlearn, type ReverseOptions } from '../../domain/defenses/neural-cleanse.js';
import { evaluateLogits, modelLogits } from '../../domain/metrics/evaluate.js';
import { buildClassifier, CLASSES, makeSplit, poisonSplit, SIZE, stampPatch, TARGET, trainClassifier } from './synthetic-backdoor.js';

const reverse: ReverseOptions = {
  epochs: 20, batchesPerEpoch: 2, batchSize: 16, learningRate: 0.1, adamBeta1: 0.5, adamBeta2: 0.9,
  initCost: 1e-3, costMultiplier: 1.5, patience: 3, attackSuccessThreshold: 0.99,
  earlyStop: true, earlyStopThreshold: 1, earlyStopPatience: 9,
};

let model: tf.Sequential;
const clean = makeSplit(120, new Rng('nc-clean'));
const test = makeSplit(120, new Rng('nc-test'));

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = buildClassifier(7);
  const train = poisonSplit(makeSplit(360, new Rng('nc-train')), 0.2, new Rng('nc-poison'));
  await trainClassifier(model, train, 5, new Rng('nc-order'));
  // A few seconds on an idle machine; the margin is for a machine shared with other test runs.
}, 300_000);

describe('MAD outlier test', () => {
  it('computes the anomaly index with the consistency constant and flags only small outliers', () => {
    const r = madOutliers([10, 50, 52, 48, 55, 200], { consistencyConstant: 1.4826, threshold: 2 });
    expect(r.median).toBe(51);
    // |deviations| = 41, 1, 1, 3, 4, 149 -> median 3.5
    expect(r.mad).toBeCloseTo(1.4826 * 3.5, 10);
    expect(r.anomalyIndex[0]).toBeCloseTo(41 / (1.4826 * 3.5), 10);
    expect(r.flagged).toEqual([0]);
    expect(madOutliers([5, 5, 5], { consistencyConstant: 1.4826, threshold: 2 }).flagged).toEqual([]);
    expect(() => madOutliers([1, 2], { consistencyConstant: 1.4826, threshold: 2 })).toThrow(/at least 3 classes, got 2/);
  });
});

describe('Neural Cleanse on a small backdoored model', () => {
  it('the backdoor is there to find', () => {
    const s = evaluateLogits(modelLogits(model), test, { batchSize: 60, target: TARGET, poison: stampPatch, rng: new Rng(1) });
    expect(s.cleanAccuracy).toBeGreaterThan(0.9);
    expect(s.asr).toBeGreaterThan(0.9);
  });

  it('flags the target label, whose reversed mask is the smallest and sits at the trigger', () => {
    const logits = (x: tf.Tensor4D) => model.apply(x) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const result = detectBackdoor(logits, clean, CLASSES, reverse, { consistencyConstant: 1.4826, threshold: 2 }, new Rng(2));
    expect(tf.memory().numTensors).toBe(before);
    const norms = result.anomaly.norms;
    expect(result.anomaly.flagged).toContain(TARGET);
    expect(Math.min(...norms)).toBe(norms[TARGET]);
    expect(result.anomaly.anomalyIndex[TARGET]).toBeGreaterThan(2);
    const t = result.triggers[TARGET];
    expect(t.reachedThreshold).toBe(true);
    // The target's mask is densest where the trigger is (bottom-right 3x3) than elsewhere.
    let inBox = 0;
    for (let r = SIZE - 3; r < SIZE; r++) for (let q = SIZE - 3; q < SIZE; q++) inBox += t.mask[r * SIZE + q];
    const densityInBox = inBox / 9;
    const densityElsewhere = (t.l1Norm - inBox) / (SIZE * SIZE - 9);
    expect(densityInBox).toBeGreaterThan(2 * densityElsewhere);

    // Unlearning with the reversed trigger removes most of the backdoor and keeps clean accuracy.
    const mitigated = buildClassifier(7);
    mitigated.setWeights(model.getWeights());
    const tensorsBeforeUnlearning = tf.memory().numTensors;
    unlearn(mitigated, clean, result.anomaly.flagged.map((l) => result.triggers[l]), { epochs: 4, batchSize: 24, learningRate: 0.005, stampFraction: 0.2, optimizer: 'adam', numClasses: CLASSES }, new Rng(3));
    expect(tf.memory().numTensors).toBe(tensorsBeforeUnlearning);
    const after = evaluateLogits(modelLogits(mitigated), test, { batchSize: 60, target: TARGET, poison: stampPatch, rng: new Rng(4) });
    expect(after.asr).toBeLessThan(0.5);
    expect(after.cleanAccuracy).toBeGreaterThan(0.85);
  });
});
