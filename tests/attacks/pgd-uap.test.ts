import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { pgd, pgdOnImages, lossOn } from '../../domain/attacks/pgd.js';
import { universalPerturbation } from '../../domain/attacks/uap.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SHAPE: [number, number, number] = [6, 6, 3];
function tinyModel(seed: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: SHAPE, filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}
function images(n: number, seed: string): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n * 108 }, () => rng.int(0, 255));
}
/** Labels the model currently predicts, so that PGD has a loss to raise. */
function predicted(model: tf.LayersModel, x: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor2D, 1) as tf.Tensor1D);
}

describe('pgd', () => {
  const options = { epsilon: 8 / 255, stepSize: 1.5 / 255, steps: 10, randomStart: false };

  it('raises the surrogate loss and stays within eps and [0, 1]', () => {
    const model = tinyModel(1);
    const x = tf.div(tf.tensor4d(images(16, 'pgd'), [16, ...SHAPE], 'int32'), 255) as tf.Tensor4D;
    const y = predicted(model, x);
    const adv = pgd(model, x, y, options, new Rng(0));
    expect(lossOn(model, adv, y)).toBeGreaterThan(lossOn(model, x, y) + 0.05);
    expect(tf.max(tf.abs(tf.sub(adv, x))).dataSync()[0]).toBeLessThanOrEqual(8 / 255 + 1e-6);
    expect(tf.min(adv).dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(tf.max(adv).dataSync()[0]).toBeLessThanOrEqual(1);
  });

  it('random start also stays in the ball, and no tensors leak', () => {
    const model = tinyModel(2);
    const x = tf.div(tf.tensor4d(images(4, 'rs'), [4, ...SHAPE], 'int32'), 255) as tf.Tensor4D;
    const y = predicted(model, x);
    pgd(model, x, y, { ...options, randomStart: true }, new Rng(1)).dispose();
    const before = tf.memory().numTensors;
    const adv = pgd(model, x, y, { ...options, randomStart: true }, new Rng(1));
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(tf.max(tf.abs(tf.sub(adv, x))).dataSync()[0]).toBeLessThanOrEqual(8 / 255 + 1e-6);
  });

  it('on uint8 images, every pixel moves by at most 8 levels and the loss rises', () => {
    const model = tinyModel(3);
    const raw = images(10, 'u8');
    const x = tf.div(tf.tensor4d(raw, [10, ...SHAPE], 'int32'), 255) as tf.Tensor4D;
    const labels = Uint8Array.from(predicted(model, x).dataSync());
    const done: number[] = [];
    const out = pgdOnImages(model, raw, labels, SHAPE, { ...options, batchSize: 4, progress: (d) => done.push(d) }, new Rng(0));
    expect(done).toEqual([4, 8, 10]);
    expect(Math.max(...out.map((v, i) => Math.abs(v - raw[i])))).toBeLessThanOrEqual(8);
    const adv = tf.div(tf.tensor4d(out, [10, ...SHAPE], 'int32'), 255) as tf.Tensor4D;
    const y = tf.tensor1d(labels, 'int32');
    expect(lossOn(model, adv, y)).toBeGreaterThan(lossOn(model, x, y));
  });

  it('names bad options', () => {
    const model = tinyModel(1);
    const x = tf.zeros([1, ...SHAPE]) as tf.Tensor4D;
    expect(() => pgd(model, x, tf.tensor1d([0], 'int32'), { ...options, epsilon: 2 }, new Rng(0))).toThrow(/epsilon.*got 2/);
  });
});

describe('universalPerturbation', () => {
  it('targeted L-inf: one perturbation sends more images to the target, within the radius', () => {
    const model = tinyModel(4);
    const raw = images(40, 'uap');
    const labels = Uint8Array.from({ length: 40 }, (_, i) => i % 5);
    const target = 3;
    const rateWith = (delta: Float32Array): number => tf.tidy(() => {
      const x = tf.div(tf.tensor4d(raw, [40, ...SHAPE], 'int32'), 255);
      const pred = tf.argMax(model.predict(tf.clipByValue(tf.add(x, tf.tensor3d(delta, SHAPE)), 0, 1)) as tf.Tensor2D, 1).dataSync();
      return Array.from(pred).filter((p, i) => labels[i] !== target && p === target).length / 32;
    });
    const before = rateWith(new Float32Array(108));
    const r = universalPerturbation(model, raw, labels, SHAPE, { norm: 'linf', radius: 16 / 255, stepSize: 2 / 255, epochs: 4, batchSize: 10, target }, new Rng(0));
    expect(Math.max(...r.delta.map(Math.abs))).toBeLessThanOrEqual(16 / 255 + 1e-6);
    expect(r.foolingRates.length).toBe(4);
    expect(rateWith(r.delta)).toBeGreaterThan(before);
    // Each epoch's rate counts the 32 non-target images once (the 8 target-class images are left out).
    for (const rate of r.foolingRates) expect(Number.isInteger(Math.round(rate * 32 * 1e9) / 1e9), `rate ${rate} is k/32`).toBe(true);
    // An epoch's rate is read batch by batch as the perturbation moves; with one batch per epoch it is
    // exactly the rate of the final perturbation, counted here by hand.
    const whole = universalPerturbation(model, raw, labels, SHAPE, { norm: 'linf', radius: 16 / 255, stepSize: 2 / 255, epochs: 3, batchSize: 40, target }, new Rng(0));
    expect(whole.foolingRates[2]).toBe(rateWith(whole.delta));
    expect(rateWith(whole.delta)).toBeGreaterThan(before);
  });

  it('L2: the perturbation norm stays within the radius', () => {
    const model = tinyModel(5);
    const raw = images(20, 'l2');
    const labels = Uint8Array.from({ length: 20 }, (_, i) => i % 5);
    const r = universalPerturbation(model, raw, labels, SHAPE, { norm: 'l2', radius: 0.5, stepSize: 0.05, epochs: 3, batchSize: 10 }, new Rng(0));
    const norm = Math.sqrt(r.delta.reduce((s, v) => s + v * v, 0));
    expect(norm).toBeLessThanOrEqual(0.5 + 1e-5);
    expect(norm).toBeGreaterThan(0.1);
  });
});
