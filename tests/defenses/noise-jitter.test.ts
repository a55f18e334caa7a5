import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { addGaussianNoise, gaussianNoise } from '../../domain/transforms/noise.js';
import { colorJitter, colorJitterWithDraws, drawJitter, rgbToHsv, hsvToRgb, JITTER_KINDS } from '../../domain/transforms/color-jitter.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function randomImages(n: number, size: number, rng: Rng): tf.Tensor4D {
  return tf.tensor4d(Array.from({ length: n * size * size * 3 }, () => rng.uniform()), [n, size, size, 3]);
}

describe('gaussian noise', () => {
  it('has the requested std (0-255 scale) and zero mean on a mid-gray image', () => {
    const x = tf.fill([8, 16, 16, 3], 0.5) as tf.Tensor4D;
    const y = addGaussianNoise(x, { std: 10 }, new Rng(1));
    const diff = tf.sub(y, x);
    const mean = diff.mean().dataSync()[0] * 255;
    const std = Math.sqrt(tf.moments(diff).variance.dataSync()[0]) * 255;
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(std).toBeGreaterThan(9.7);
    expect(std).toBeLessThan(10.3);
    tf.dispose([x, y, diff]);
  });

  it('clips to [0, 1], is reproducible from the seed, and std 0 is the identity', () => {
    const x = randomImages(4, 8, new Rng(2));
    const a = addGaussianNoise(x, { std: 40 }, new Rng(3));
    const b = addGaussianNoise(x, { std: 40 }, new Rng(3));
    expect(a.min().dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(a.max().dataSync()[0]).toBeLessThanOrEqual(1);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const same = addGaussianNoise(x, { std: 0 }, new Rng(4));
    expect(tf.max(tf.abs(tf.sub(same, x))).dataSync()[0]).toBe(0);
    tf.dispose([x, a, b, same]);
  });

  it('rejects a negative std by name', () => {
    expect(() => gaussianNoise({ std: -1 })).toThrow(/noise std .* got -1/);
  });
});

describe('color jitter', () => {
  it('draws factors within torchvision ranges and a full random order per image', () => {
    const draws = drawJitter(400, { brightness: 0.3, contrast: 0.2, saturation: 1.5, hue: 0.1 }, new Rng(5));
    const seenFirst = new Set<string>();
    for (const d of draws) {
      expect([...d.order].sort()).toEqual([...JITTER_KINDS].sort());
      seenFirst.add(d.order[0]);
      expect(d.factors.brightness!).toBeGreaterThanOrEqual(0.7);
      expect(d.factors.brightness!).toBeLessThanOrEqual(1.3);
      expect(d.factors.contrast!).toBeGreaterThanOrEqual(0.8);
      expect(d.factors.contrast!).toBeLessThanOrEqual(1.2);
      expect(d.factors.saturation!).toBeGreaterThanOrEqual(0);
      expect(d.factors.saturation!).toBeLessThanOrEqual(2.5);
      expect(Math.abs(d.factors.hue!)).toBeLessThanOrEqual(0.1);
    }
    expect(seenFirst.size).toBe(4);
    const spread = draws.map((d) => d.factors.brightness!);
    expect(Math.min(...spread)).toBeLessThan(0.75);
    expect(Math.max(...spread)).toBeGreaterThan(1.25);
  });

  it('a disabled kind draws nothing and leaves pixels unchanged', () => {
    const x = randomImages(3, 6, new Rng(6));
    const draws = drawJitter(3, { hue: 0 }, new Rng(7));
    expect(draws.every((d) => Object.keys(d.factors).length === 0)).toBe(true);
    const y = colorJitterWithDraws(x, draws);
    expect(tf.max(tf.abs(tf.sub(y, x))).dataSync()[0]).toBe(0);
    tf.dispose([x, y]);
  });

  it('hue shift 0 (and a full RGB->HSV->RGB round trip) is the identity', () => {
    const x = randomImages(3, 6, new Rng(8));
    const draws = [0, 1, 2].map(() => ({ order: [...JITTER_KINDS], factors: { hue: 0 } }));
    const y = colorJitterWithDraws(x, draws);
    expect(tf.max(tf.abs(tf.sub(y, x))).dataSync()[0]).toBeLessThan(1e-5);
    const [h, s, v] = rgbToHsv(x);
    const back = hsvToRgb(h, s, v);
    expect(tf.max(tf.abs(tf.sub(back, x))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, y, h, s, v, back]);
  });

  it('matches hand-computed pixels for each adjustment', () => {
    // One pixel pair: pure red and mid gray, so grayscale mean and hue are easy by hand.
    const x = tf.tensor4d([1, 0, 0, 0.5, 0.5, 0.5], [1, 1, 2, 3]);
    const only = (kind: (typeof JITTER_KINDS)[number], f: number) => colorJitterWithDraws(x, [{ order: [...JITTER_KINDS], factors: { [kind]: f } }]);
    expect(Array.from(only('brightness', 1.5).dataSync())).toEqual([1, 0, 0, 0.75, 0.75, 0.75]);
    const grayRed = 0.2989;
    const mean = (grayRed + 0.5 * (0.2989 + 0.587 + 0.114)) / 2;
    const contrast = Array.from(only('contrast', 0.5).dataSync());
    const expectedContrast = [1, 0, 0, 0.5, 0.5, 0.5].map((v) => 0.5 * v + 0.5 * mean);
    contrast.forEach((v, i) => expect(v).toBeCloseTo(expectedContrast[i], 5));
    const sat = Array.from(only('saturation', 0).dataSync());
    [grayRed, grayRed, grayRed].forEach((v, i) => expect(sat[i]).toBeCloseTo(v, 5));
    // A third of a turn sends red to green; gray has no hue and stays.
    const hue = Array.from(only('hue', 1 / 3).dataSync());
    [0, 1, 0, 0.5, 0.5, 0.5].forEach((v, i) => expect(hue[i]).toBeCloseTo(v, 5));
    x.dispose();
  });

  it('applies the adjustments of every image in its own order', () => {
    const x = randomImages(2, 4, new Rng(13));
    const factors = { brightness: 1.6, contrast: 0.3 };
    const bc = { order: ['brightness', 'contrast', 'saturation', 'hue'] as typeof JITTER_KINDS[number][], factors };
    const cb = { order: ['contrast', 'brightness', 'saturation', 'hue'] as typeof JITTER_KINDS[number][], factors };
    const mixed = colorJitterWithDraws(x, [bc, cb]);
    const only = (img: tf.Tensor4D, kind: typeof JITTER_KINDS[number], f: number) => colorJitterWithDraws(img, [{ order: [...JITTER_KINDS], factors: { [kind]: f } }]);
    const [x0, x1] = tf.split(x, 2, 0) as tf.Tensor4D[];
    const want0 = only(only(x0, 'brightness', 1.6), 'contrast', 0.3);
    const want1 = only(only(x1, 'contrast', 0.3), 'brightness', 1.6);
    const [got0, got1] = tf.split(mixed, 2, 0);
    expect(tf.max(tf.abs(tf.sub(got0, want0))).dataSync()[0]).toBeLessThan(1e-6);
    expect(tf.max(tf.abs(tf.sub(got1, want1))).dataSync()[0]).toBeLessThan(1e-6);
    expect(tf.max(tf.abs(tf.sub(want0, only(only(x0, 'contrast', 0.3), 'brightness', 1.6)))).dataSync()[0]).toBeGreaterThan(1e-3);
  });

  it('keeps outputs in [0, 1] and the batch shape, reproducibly', () => {
    const x = randomImages(5, 8, new Rng(9));
    const t = colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.4 });
    const a = t(x, new Rng(10));
    const b = t(x, new Rng(10));
    expect(a.shape).toEqual(x.shape);
    expect(a.min().dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(a.max().dataSync()[0]).toBeLessThanOrEqual(1);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(tf.max(tf.abs(tf.sub(a, x))).dataSync()[0]).toBeGreaterThan(0.01);
    tf.dispose([x, a, b]);
  });

  it('rejects bad options with the value and the allowed range', () => {
    expect(() => colorJitter({ hue: 0.7 })).toThrow(/hue must be a number in \[0, 0.5\], got 0.7/);
    expect(() => colorJitter({ gamma: 1 } as never)).toThrow(/unknown option 'gamma'/);
  });

  it('does not leak tensors across batches', () => {
    const t = colorJitter({ brightness: 0.2, hue: 0.2 });
    const n = gaussianNoise({ std: 5 });
    const x = randomImages(2, 4, new Rng(11));
    const rng = new Rng(12);
    const run = () => tf.dispose([t(x, rng), n(x, rng)]);
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
