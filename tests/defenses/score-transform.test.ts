import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { evaluateLogits } from '../../domain/metrics/evaluate.js';
import { takeIndices } from '../../domain/data/subset.js';
import { parseTransformDefense, transformDefense, transformDefenseId, transformOverheadMs, defenseTransformFactories } from '../../domain/defenses/transform-defense.js';
import { composeTransforms } from '../../domain/transforms/compose.js';
import { addGaussianNoise } from '../../domain/transforms/noise.js';
import { colorJitter } from '../../domain/transforms/color-jitter.js';
import type { LabelledImages } from '../../domain/common/types.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** 1x2 images: pixel value v (0-255) in every position; label = index. */
function split(values: number[], labels: number[]): LabelledImages {
  return {
    images: Uint8Array.from(values.flatMap((v) => Array(6).fill(v))),
    labels: Uint8Array.from(labels),
    count: values.length,
    height: 1,
    width: 2,
    channels: 3,
  };
}

/** Predicts class 2 if the left pixel is bright, else class 0 if dark or class 1 otherwise. */
const logits = (x: tf.Tensor4D) =>
  tf.tidy(() => {
    const left = tf.reshape(tf.slice(x, [0, 0, 0, 0], [-1, 1, 1, 1]), [-1, 1]);
    return tf.concat([tf.sub(0.3, left), tf.sub(tf.mul(tf.sub(left, 0.5), tf.sub(0.7, left)), 0), tf.sub(left, 0.7)], 1) as tf.Tensor2D;
  });

describe('evaluateLogits', () => {
  it('counts clean accuracy over all images and ASR / target rate over non-target images', () => {
    // values 0 -> class 0, 128 -> class 1, 255 -> class 2
    const data = split([0, 128, 255, 128, 0], [0, 1, 2, 2, 1]);
    const brighten = (x: tf.Tensor4D) => tf.onesLike(x) as tf.Tensor4D;
    const s = evaluateLogits(logits, data, { batchSize: 2, target: 2, poison: brighten, rng: new Rng(1) });
    expect(s.cleanAccuracy).toBeCloseTo(3 / 5);
    expect(s.counts.nonTarget).toBe(3);
    expect(s.asr).toBe(1);
    expect(s.targetRateClean).toBe(0);
    const clean = evaluateLogits(logits, data, { batchSize: 3, target: 1, rng: new Rng(1) });
    expect(clean.asr).toBeNull();
    expect(clean.targetRateClean).toBeCloseTo(1 / 3);
    // The transform is applied to both passes: flipping the left/right-uniform images changes nothing here,
    // a darkening transform sends everything to class 0.
    const dark = evaluateLogits(logits, data, { batchSize: 2, target: 2, poison: brighten, transform: (x) => tf.zerosLike(x) as tf.Tensor4D, rng: new Rng(1) });
    expect(dark.asr).toBe(0);
    expect(dark.cleanAccuracy).toBeCloseTo(1 / 5);
    expect(() => evaluateLogits(logits, data, { batchSize: 0, target: 2, rng: new Rng(1) })).toThrow(/batchSize .* got 0/);
  });

  it('takeIndices copies the chosen rows', () => {
    const data = split([0, 128, 255], [0, 1, 2]);
    const sub = takeIndices(data, [2, 0]);
    expect(Array.from(sub.labels)).toEqual([2, 0]);
    expect(sub.images[0]).toBe(255);
    expect(() => takeIndices(data, [3])).toThrow(/index 3 outside 0..2/);
  });
});

describe('transform defenses', () => {
  it('parses specs, names them, and rejects bad ones clearly', () => {
    expect(transformDefenseId(parseTransformDefense({ type: 'shrinkpad', size: 4 }))).toBe('shrinkpad-4');
    expect(transformDefenseId(parseTransformDefense({ type: 'noise', std: 10 }))).toBe('noise-10');
    expect(transformDefenseId(parseTransformDefense({ type: 'color-jitter', hue: 0.1 }))).toBe('jitter-hue-0.1');
    expect(transformDefenseId(parseTransformDefense({ type: 'none' }))).toBe('none');
    expect(() => parseTransformDefense({ type: 'blur' })).toThrow(/unknown transform defense 'blur' \(allowed: none, flip/);
    expect(() => parseTransformDefense({ type: 'shrinkpad', size: 0 })).toThrow(/size must be an integer >= 1, got 0/);
    expect(() => parseTransformDefense({ type: 'flip', p: 1 })).toThrow(/unknown field\(s\) p/);
    expect(() => parseTransformDefense({ type: 'color-jitter' })).toThrow(/needs at least one of/);
  });

  it('builds the transforms: none is null, flip mirrors, shrinkpad zero-pads, outputs stay in range', () => {
    expect(transformDefense({ type: 'none' })).toBeNull();
    const x = tf.tensor4d([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [1, 1, 2, 3]);
    const flipped = transformDefense({ type: 'flip' })!(x, new Rng(1));
    expect(Array.from(flipped.dataSync())).toEqual(Array.from(tf.tensor([0.4, 0.5, 0.6, 0.1, 0.2, 0.3]).dataSync()));
    const img = tf.ones([2, 8, 8, 3]) as tf.Tensor4D;
    const sp = transformDefense({ type: 'shrinkpad', size: 2 })!(img, new Rng(2));
    const zeros = tf.sum(tf.equal(sp, 0)).dataSync()[0];
    expect(zeros).toBe(2 * (64 - 36) * 3);
    for (const spec of [{ type: 'noise', std: 20 }, { type: 'color-jitter', brightness: 0.4 }] as const) {
      const y = transformDefense(spec)!(img, new Rng(3));
      expect(y.min().dataSync()[0]).toBeGreaterThanOrEqual(0);
      expect(y.max().dataSync()[0]).toBeLessThanOrEqual(1);
    }
  });

  it('registers noise and color-jitter for transform lists in params', () => {
    // Coloured, non-grey pixels away from 0 and 1, so that noise is not clipped and a hue shift shows.
    const img = tf.tidy(() => tf.concat([tf.fill([4, 8, 8, 1], 0.7), tf.fill([4, 8, 8, 1], 0.4), tf.fill([4, 8, 8, 1], 0.2)], 3)) as tf.Tensor4D;
    const listed = (spec: { type: string; [k: string]: unknown }) => composeTransforms([spec as never], defenseTransformFactories)(img, new Rng(4));
    // Each list entry is the registered transform itself: the same output as calling it directly with the same draws.
    const noisy = listed({ type: 'noise', std: 5 });
    expect(Array.from(noisy.dataSync())).toEqual(Array.from(addGaussianNoise(img, { std: 5 }, new Rng(4)).dataSync()));
    const jittered = listed({ type: 'color-jitter', hue: 0.2 });
    expect(Array.from(jittered.dataSync())).toEqual(Array.from(colorJitter({ hue: 0.2 })(img, new Rng(4)).dataSync()));
    // And they change the image as named: noise of std 5/255 around it, a hue shift that keeps each
    // pixel's max and min channel (HSV value and saturation) but moves the colour.
    const diff = tf.sub(noisy, img);
    const std = Math.sqrt(tf.mean(tf.square(diff)).dataSync()[0]);
    expect(Math.abs(tf.mean(diff).dataSync()[0])).toBeLessThan(0.1 * (5 / 255));
    expect(std / (5 / 255)).toBeGreaterThan(0.9);
    expect(std / (5 / 255)).toBeLessThan(1.1);
    const maxOf = (t: tf.Tensor4D) => Array.from(tf.max(t, 3).dataSync());
    const minOf = (t: tf.Tensor4D) => Array.from(tf.min(t, 3).dataSync());
    maxOf(jittered).forEach((v, i) => expect(v).toBeCloseTo(maxOf(img)[i], 5));
    minOf(jittered).forEach((v, i) => expect(v).toBeCloseTo(minOf(img)[i], 5));
    expect(tf.max(tf.abs(tf.sub(jittered, img))).dataSync()[0]).toBeGreaterThan(0.02);
    expect(() => composeTransforms([{ type: 'noise', sigma: 5 }], defenseTransformFactories)).toThrow(/unknown option\(s\) sigma/);
  });

  it('measures a per-image overhead, zero for no transform', () => {
    const img = tf.fill([4, 8, 8, 3], 0.5) as tf.Tensor4D;
    expect(transformOverheadMs(null, img, new Rng(5), { repeats: 2 })).toBe(0);
    const ms = transformOverheadMs(transformDefense({ type: 'shrinkpad', size: 3 }), img, new Rng(5), { repeats: 2 });
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(1000);
    const before = tf.memory().numTensors;
    transformOverheadMs(transformDefense({ type: 'color-jitter', hue: 0.2 }), img, new Rng(6), { repeats: 2 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
