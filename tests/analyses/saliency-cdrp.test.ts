import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { vanillaSaliency, mapOf, massInside } from '../../domain/analyses/saliency.js';
import { learnGates, layerwiseCorrelation, pearson } from '../../domain/analyses/cdrp.js';
import { imageBatch } from '../../domain/common/pixels.js';
import { stamp } from '../../domain/attacks/trigger.js';
import { randomSplit, trigger, triggerDetector, tinyConvNet, chainHookRunner, SIDE } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('vanilla saliency', () => {
  it('has the input spatial shape, is non-negative, and sits on the trigger of a trigger detector', () => {
    const t = trigger();
    const model = triggerDetector(t, 40);
    const x = tf.tidy(() => stamp(imageBatch(randomSplit(3, 'sal'), 0, 3), t));
    const s = vanillaSaliency(model, x);
    x.dispose();
    expect([s.count, s.height, s.width]).toEqual([3, SIDE, SIDE]);
    expect(s.maps.length).toBe(3 * SIDE * SIDE);
    expect(s.maps.every((v) => v >= 0 && Number.isFinite(v))).toBe(true);
    const region = new Uint8Array(SIDE * SIDE).map((_, i) => (t.mask[3 * i] > 0 ? 1 : 0));
    // The target logit's weights are 40x larger inside the trigger box than anywhere else.
    for (let i = 0; i < 3; i++) expect(massInside(mapOf(s, i), region)).toBeGreaterThan(0.9);
  });

  it('leaks no tensors', () => {
    const { model } = tinyConvNet(3);
    const x = imageBatch(randomSplit(2, 'leak'), 0, 2);
    vanillaSaliency(model, x);
    const before = tf.memory().numTensors;
    vanillaSaliency(model, x);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('critical data routing paths', () => {
  it('learns gates in [0, 1] whose gated network keeps the original prediction, sparser with larger lambda', () => {
    const { model, gateLayers } = tinyConvNet(7);
    const x = imageBatch(randomSplit(3, 'cdrp'), 0, 3);
    const before = tf.memory().numTensors;
    const dense = learnGates(model, chainHookRunner, gateLayers, x, { lambda: 0.01, steps: 30, learningRate: 0.05 });
    const sparse = learnGates(model, chainHookRunner, gateLayers, x, { lambda: 1, steps: 30, learningRate: 0.05 });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    for (const g of [dense, sparse]) {
      expect(g.layers.map((l) => l.gates.length)).toEqual([3 * 4, 3 * 6]);
      for (const l of g.layers) expect(l.gates.every((v) => v >= 0 && v <= 1)).toBe(true);
    }
    expect(Array.from(dense.gatedPrediction)).toEqual(Array.from(dense.originalPrediction));
    const total = (g: typeof dense) => g.layers.reduce((s, l) => s + l.gates.reduce((a, b) => a + b, 0), 0);
    expect(total(sparse)).toBeLessThan(total(dense));
  });

  it('correlates two gate sets layer by layer, image by image, then averages over images', () => {
    // Hand-computed Pearson r per image: layer a: [.1,.2,.3] vs [.2,.4,.6] is 1, [.1,.2,.3] vs [.1,.3,.2] is 0.5;
    // layer b: [0,0,1] vs [1,0,0] is -0.5, [0,1,0] vs [0,1,0] is 1. Means 0.75 and 0.25.
    const gates = (a: number[], b: number[]) => ({
      count: 2,
      layers: [
        { name: 'a', channels: 3, gates: Float32Array.from(a) },
        { name: 'b', channels: 3, gates: Float32Array.from(b) },
      ],
    });
    const left = { ...gates([0.1, 0.2, 0.3, 0.1, 0.2, 0.3], [0, 0, 1, 0, 1, 0]), originalPrediction: new Int32Array(2), gatedPrediction: new Int32Array(2), finalLoss: 0 };
    const right = { ...gates([0.2, 0.4, 0.6, 0.1, 0.3, 0.2], [1, 0, 0, 0, 1, 0]), originalPrediction: new Int32Array(2), gatedPrediction: new Int32Array(2), finalLoss: 0 };
    const corr = layerwiseCorrelation(left, right);
    expect(corr.map((c) => [c.layer, c.index])).toEqual([['a', 0], ['b', 1]]);
    expect(corr[0].r).toBeCloseTo(0.75, 6);
    expect(corr[1].r).toBeCloseTo(0.25, 6);
    expect(() => layerwiseCorrelation(left, { ...right, count: 1 })).toThrow(/gate sets differ \(2 vs 1 images/);
  });

  it('computes Pearson correlation, with constant vectors defined', () => {
    expect(pearson(Float32Array.of(1, 2, 3), Float32Array.of(2, 4, 6))).toBeCloseTo(1, 6);
    expect(pearson(Float32Array.of(1, 2, 3), Float32Array.of(3, 2, 1))).toBeCloseTo(-1, 6);
    expect(pearson(Float32Array.of(1, 1), Float32Array.of(1, 1))).toBe(1);
    expect(pearson(Float32Array.of(1, 1), Float32Array.of(0, 2))).toBe(0);
  });

  it('rejects a negative lambda', () => {
    const { model, gateLayers } = tinyConvNet(1);
    const x = imageBatch(randomSplit(1, 'bad'), 0, 1);
    expect(() => learnGates(model, chainHookRunner, gateLayers, x, { lambda: -1, steps: 1, learningRate: 0.1 })).toThrow(/lambda must be >= 0, got -1/);
    x.dispose();
  });
});
