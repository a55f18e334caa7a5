import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { finePrune, maskChannels, pruneMask, prunableNetwork, rankChannels, type PrunableNetwork } from '../../domain/defenses/fine-pruning.js';
import { constantSplit, noiseSplit, sequentialHooks, tinyConvNet } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const poison = (x: tf.Tensor4D) => tf.tidy(() => tf.clipByValue(tf.add(x, 0.01), 0, 1) as tf.Tensor4D);

describe('fine-pruning', () => {
  it('a pruned channel is exactly zero and the logits are those of the zeroed layer', () => {
    const model = tinyConvNet(6, 3, 1);
    const net = prunableNetwork(model, 'features', sequentialHooks);
    const x = tf.randomUniform([2, 6, 6, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const keep = tf.tensor1d([1, 0, 1, 0]);
    const feats = net.features(x);
    const masked = maskChannels(feats, keep);
    const [, , , c1] = tf.split(masked, 4, 3);
    expect(tf.max(tf.abs(c1)).dataSync()[0]).toBe(0);
    const [, , , c0] = tf.split(feats, 4, 3);
    expect(tf.max(c0).dataSync()[0]).toBeGreaterThan(0);
    const manual = model.layers[2].apply(model.layers[1].apply(masked)) as tf.Tensor;
    const hooked = net.logitsWithMask(x, keep);
    expect(tf.max(tf.abs(tf.sub(manual, hooked))).dataSync()[0]).toBeLessThan(1e-6);
    const unpruned = net.logitsWithMask(x, tf.ones([4]) as tf.Tensor1D);
    expect(tf.max(tf.abs(tf.sub(unpruned, model.predict(x) as tf.Tensor))).dataSync()[0]).toBeLessThan(1e-6);
    expect(() => maskChannels(feats, tf.ones([3]) as tf.Tensor1D)).toThrow(/3 entries, the layer has 4 channels/);
  });

  it('ranks channels by mean activation, lowest first, and prunes that prefix', () => {
    const model = tinyConvNet(6, 3, 3);
    const net = prunableNetwork(model, 'features', sequentialHooks);
    const split = noiseSplit(10, 6, 3, new Rng(4));
    const ranking = rankChannels(net, split, 4);
    const x = tf.tensor4d(Float32Array.from(split.images, (v) => v / 255), [10, 6, 6, 3]);
    const expected = Array.from(tf.mean(net.features(x), [0, 1, 2]).dataSync());
    ranking.meanActivation.forEach((m, c) => expect(m).toBeCloseTo(expected[c], 5));
    for (let i = 1; i < 4; i++) expect(ranking.meanActivation[ranking.order[i]]).toBeGreaterThanOrEqual(ranking.meanActivation[ranking.order[i - 1]]);
    const { keep, pruned } = pruneMask(ranking.order, 0.5);
    expect(pruned).toEqual(ranking.order.slice(0, 2));
    expect(Array.from(keep).filter((k) => k === 0)).toHaveLength(2);
    expect(() => pruneMask(ranking.order, 1.5)).toThrow(/\[0, 1\], got 1.5/);
  });

  it('selects on the validation half only, and scores the test half only after the choice', () => {
    const model = tinyConvNet(6, 3, 5);
    const inner = prunableNetwork(model, 'features', sequentialHooks);
    // Validation images are dark (51), test images bright (204): each call reveals which half it saw.
    const seen: { call: 'features' | 'logits'; half: 'validation' | 'test' }[] = [];
    const halfOf = (x: tf.Tensor4D) => {
      const m = tf.tidy(() => tf.mean(x).dataSync()[0]);
      return m < 0.5 ? 'validation' : 'test';
    };
    const spy: PrunableNetwork = {
      channels: inner.channels,
      features: (x) => (seen.push({ call: 'features', half: halfOf(x) }), inner.features(x)),
      logitsWithMask: (x, keep) => (seen.push({ call: 'logits', half: halfOf(x) }), inner.logitsWithMask(x, keep)),
    };
    const validation = constantSplit(8, 6, 51, [0, 1, 2]);
    const test = constantSplit(8, 6, 204, [0, 1, 2]);
    const result = finePrune(spy, { validation, test }, { fractions: [0.25, 0.5, 1], maxAccuracyDrop: 0.1, batchSize: 4, target: 1, poison, rng: new Rng(6) });
    expect(seen.filter((s) => s.call === 'features').every((s) => s.half === 'validation')).toBe(true);
    const lastValidation = seen.map((s) => s.half).lastIndexOf('validation');
    const firstTest = seen.map((s) => s.half).indexOf('test');
    expect(firstTest).toBeGreaterThan(lastValidation);
    expect(seen.filter((s) => s.half === 'test').length).toBeGreaterThan(0);
    expect(result.validationCurve.map((p) => p.fraction)).toEqual([0, 0.25, 0.5, 1]);
    expect(result.testCurve.map((p) => p.fraction)).toEqual([0, 0.25, 0.5, 1]);
    // The rule, recomputed from the validation curve the result reports.
    const base = result.validationCurve[0].validation.cleanAccuracy;
    const ok = result.validationCurve.filter((p) => p.validation.cleanAccuracy >= base - 0.1);
    expect(result.chosenFraction).toBe(ok[ok.length - 1].fraction);
    expect(result.test).toEqual(result.testCurve.find((p) => p.fraction === result.chosenFraction)!.test);
    expect(result.test.counts.total).toBe(8);
  });

  it('with no allowed drop keeps the baseline unless pruning is harmless, with all allowed prunes everything', () => {
    const model = tinyConvNet(6, 3, 7);
    const net = prunableNetwork(model, 'features', sequentialHooks);
    const rng = new Rng(8);
    const halves = { validation: noiseSplit(12, 6, 3, rng), test: noiseSplit(12, 6, 3, rng) };
    const all = finePrune(net, halves, { fractions: [0.5, 1], maxAccuracyDrop: 1, batchSize: 5, target: 0, poison, rng: new Rng(9) });
    expect(all.chosenFraction).toBe(1);
    expect(all.chosenPruned).toHaveLength(4);
    const strict = finePrune(net, halves, { fractions: [0.5, 1], maxAccuracyDrop: 0, batchSize: 5, target: 0, poison, rng: new Rng(9) });
    for (const p of strict.validationCurve) {
      if (p.fraction > strict.chosenFraction) continue;
      expect(p.validation.cleanAccuracy).toBeGreaterThanOrEqual(strict.validationCurve[0].validation.cleanAccuracy);
    }
    expect(() => finePrune(net, halves, { fractions: [2], maxAccuracyDrop: 0, batchSize: 5, target: 0, poison, rng: new Rng(9) })).toThrow(/fraction 2 is outside/);
  });

  it('does not leak tensors across runs', () => {
    const model = tinyConvNet(6, 3, 10);
    const net = prunableNetwork(model, 'features', sequentialHooks);
    const rng = new Rng(11);
    const halves = { validation: noiseSplit(6, 6, 3, rng), test: noiseSplit(6, 6, 3, rng) };
    const go = () => finePrune(net, halves, { fractions: [0.5], maxAccuracyDrop: 0.2, batchSize: 4, target: 0, poison, rng: new Rng(12) });
    go();
    const before = tf.memory().numTensors;
    go();
    go();
    expect(tf.memory().numTensors).toBe(before);
  });
});
