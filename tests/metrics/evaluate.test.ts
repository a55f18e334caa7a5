import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import type { LabelledImages } from '../../domain/common/types.js';
import { badNetsTrigger } from '../../domain/attacks/trigger.js';
import { evaluateModel } from '../../domain/metrics/evaluate.js';
import { flipLeftRight } from '../../domain/transforms/flip.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * A hand-wired 3-class model on 4x4x1 images: class 0 reads pixel (0,0), class 1 pixel (0,1),
 * class 2 (the target) ten times pixel (3,3). Argmax ties go to class 0.
 */
function wiredModel(): tf.LayersModel {
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 3, useBias: false })] });
  const kernel = new Float32Array(16 * 3);
  kernel[0 * 3 + 0] = 1;
  kernel[1 * 3 + 1] = 1;
  kernel[15 * 3 + 2] = 10;
  model.layers[1].setWeights([tf.tensor2d(kernel, [16, 3])]);
  return model;
}

/** One bright pixel per image, at `pixel`. */
function split(items: Array<{ label: number; pixel: number }>): LabelledImages {
  const images = new Uint8Array(items.length * 16);
  items.forEach((it, n) => (images[n * 16 + it.pixel] = 255));
  return { images, labels: Uint8Array.from(items.map((i) => i.label)), count: items.length, height: 4, width: 4, channels: 1 };
}

const data = split([
  { label: 0, pixel: 0 },
  { label: 0, pixel: 0 },
  { label: 1, pixel: 1 },
  { label: 1, pixel: 0 }, // misclassified as 0
  { label: 2, pixel: 15 }, // target class, excluded from ASR
  { label: 0, pixel: 15 }, // sent to the target without a trigger
]);
const trigger = badNetsTrigger({ imageShape: [4, 4, 1], value: 255, alpha: 1, layout: [[1]] });

describe('evaluateModel', () => {
  it('counts clean accuracy, ASR over non-target images and the clean target rate', () => {
    const r = evaluateModel(wiredModel(), data, { batchSize: 4, target: 2, trigger, rng: new Rng(0) });
    expect(r.cleanAccuracy).toBeCloseTo(4 / 6, 12);
    expect(r.asr).toBe(1);
    expect(r.targetRateClean).toBeCloseTo(1 / 5, 12);
    expect(r.counts).toEqual({ total: 6, nonTarget: 5, correct: 4, attackHits: 5, cleanTargetHits: 1 });
  });

  it('applies the test-time transform after stamping (Flip moves the one-pixel trigger away)', () => {
    const r = evaluateModel(wiredModel(), data, { batchSize: 4, target: 2, trigger, transform: (x) => flipLeftRight(x), rng: new Rng(0) });
    expect(r.asr).toBe(0);
    expect(r.cleanAccuracy).toBeCloseTo(3 / 6, 12);
    expect(r.targetRateClean).toBe(0);
  });

  it('takes a trigger override and reports no ASR without a trigger', () => {
    const elsewhere = badNetsTrigger({ imageShape: [4, 4, 1], value: 255, alpha: 1, layout: [[1]], bottomRight: [2, 2] });
    // Only the image that already lit pixel (3,3) still goes to the target.
    expect(evaluateModel(wiredModel(), data, { batchSize: 6, target: 2, trigger: elsewhere, rng: new Rng(0) }).asr).toBeCloseTo(1 / 5, 12);
    expect(evaluateModel(wiredModel(), data, { batchSize: 6, target: 2, rng: new Rng(0) }).asr).toBeNull();
  });

  it('keeps tensor count stable across batches', () => {
    const model = wiredModel();
    const opts = { batchSize: 2, target: 2, trigger, transform: (x: tf.Tensor4D) => flipLeftRight(x), rng: new Rng(0) };
    evaluateModel(model, data, opts);
    const before = tf.memory().numTensors;
    evaluateModel(model, data, opts);
    evaluateModel(model, data, opts);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names bad options', () => {
    expect(() => evaluateModel(wiredModel(), data, { batchSize: 0, target: 2, rng: new Rng(0) })).toThrow(/batchSize.*got 0/);
    expect(() => evaluateModel(wiredModel(), { ...data, count: 7 }, { batchSize: 2, target: 2, rng: new Rng(0) })).toThrow(/count 7/);
  });
});
