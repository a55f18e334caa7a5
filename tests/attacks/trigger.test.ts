import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { badNetsTrigger, blendedTrigger, fourCornerTrigger, perturbationTrigger, stamp, moveTrigger, withPixelValue } from '../../domain/attacks/trigger.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const H = 6, W = 6, C = 2;
const shape: [number, number, number] = [H, W, C];
/** A batch of 2 images whose pixel (r, c, ch) is (r * W + c) / 100 + ch / 1000 + image / 2000. */
function ramp(): tf.Tensor4D {
  const data: number[] = [];
  for (let n = 0; n < 2; n++) for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) for (let ch = 0; ch < C; ch++) data.push((r * W + c) / 100 + ch / 1000 + n / 2000);
  return tf.tensor4d(data, [2, H, W, C]);
}
const px = (x: number[][][][], n: number, r: number, c: number, ch: number): number => x[n][r][c][ch];
const orig = (n: number, r: number, c: number, ch: number): number => (r * W + c) / 100 + ch / 1000 + n / 2000;

describe('stamp', () => {
  it('BadNets: checkerboard of 0 and the value at the bottom-right, lambda 1, rest untouched', () => {
    const t = badNetsTrigger({ imageShape: shape, value: 128, alpha: 1 });
    const out = stamp(ramp(), t).arraySync() as number[][][][];
    for (let n = 0; n < 2; n++) for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) for (let ch = 0; ch < C; ch++) {
      const inBox = r >= 3 && c >= 3;
      const on = inBox && (r - 3 + c - 3) % 2 === 0;
      const want = inBox ? (on ? 128 / 255 : 0) : orig(n, r, c, ch);
      expect(px(out, n, r, c, ch)).toBeCloseTo(want, 6);
    }
    expect(t.description).toMatchObject({ kind: 'badnets', bottomRight: [5, 5], size: [3, 3], values: [0, 128], alpha: 1 });
  });

  it('Blended: 0.8 x + 0.2 t inside the box', () => {
    const t = blendedTrigger({ imageShape: shape, value: 255, alpha: 0.2 });
    const out = stamp(ramp(), t).arraySync() as number[][][][];
    // (5,5) is an "on" cell, (5,4) a black one, (2,2) outside.
    expect(px(out, 1, 5, 5, 1)).toBeCloseTo(0.8 * orig(1, 5, 5, 1) + 0.2, 6);
    expect(px(out, 0, 5, 4, 0)).toBeCloseTo(0.8 * orig(0, 5, 4, 0), 6);
    expect(px(out, 0, 2, 2, 0)).toBeCloseTo(orig(0, 2, 2, 0), 6);
  });

  it('label-consistent: four mirrored corners, symmetric under left-right flip', () => {
    const layout = [[1, 1], [0, 1]];
    const t = fourCornerTrigger({ imageShape: [4, 4, 1], value: 255, alpha: 1, layout });
    const out = stamp(tf.fill([1, 4, 4, 1], 0.5) as tf.Tensor4D, t);
    const rows = out.reshape([4, 4]).arraySync() as number[][];
    // Bottom-right [[1,1],[0,1]]; the others are its mirror images.
    expect(rows).toEqual([
      [1, 0, 0, 1],
      [1, 1, 1, 1],
      [1, 1, 1, 1],
      [1, 0, 0, 1],
    ]);
    expect(Array.from(tf.reverse(out, 2).dataSync())).toEqual(Array.from(out.dataSync()));
    expect(t.description).toMatchObject({ kind: 'consistent', bottomRight: [3, 3], size: [4, 4] });
  });

  it('perturbation trigger adds delta and clips to [0, 1]', () => {
    const delta = new Float32Array(H * W * C).fill(0.1);
    delta[0] = -0.3;
    const t = perturbationTrigger(delta, shape, { norm: 'linf' });
    const x = ramp();
    const out = stamp(x, t).arraySync() as number[][][][];
    expect(px(out, 0, 0, 0, 0)).toBe(0);
    expect(px(out, 1, 2, 3, 1)).toBeCloseTo(orig(1, 2, 3, 1) + 0.1, 6);
    const bright = stamp(tf.ones([1, H, W, C]) as tf.Tensor4D, t);
    expect(bright.max().dataSync()[0]).toBe(1);
    expect(() => perturbationTrigger(new Float32Array(3), shape)).toThrow(/3 values.*needs 72/);
  });

  it('rejects a trigger for another image size', () => {
    const t = badNetsTrigger({ imageShape: [8, 8, 3], value: 255, alpha: 1 });
    expect(() => stamp(ramp(), t)).toThrow(/8x8x3.*6x6x2/);
  });

  it('does not leak tensors', () => {
    const t = badNetsTrigger({ imageShape: shape, value: 255, alpha: 1 });
    const x = ramp();
    stamp(x, t).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) stamp(x, t).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('moveTrigger and withPixelValue', () => {
  it('moving up-left by (2, 1) shifts the box and keeps the appearance', () => {
    const t = badNetsTrigger({ imageShape: shape, value: 255, alpha: 1 });
    const moved = moveTrigger(t, -2, -1);
    expect(moved.description.bottomRight).toEqual([4, 3]);
    const out = stamp(tf.fill([1, H, W, C], 0.5) as tf.Tensor4D, moved).arraySync() as number[][][][];
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) {
      const inBox = r >= 2 && r <= 4 && c >= 1 && c <= 3;
      const want = inBox ? ((r - 2 + c - 1) % 2 === 0 ? 1 : 0) : 0.5;
      expect(px(out, 0, r, c, 1)).toBeCloseTo(want, 6);
    }
    expect(() => moveTrigger(t, 1, 0)).toThrow(/does not fit in a 6x6 image/);
  });

  it('changing the pixel value changes only the non-zero cells, and survives a round trip through 0', () => {
    const t = badNetsTrigger({ imageShape: shape, value: 128, alpha: 1 });
    const zero = withPixelValue(t, 0);
    expect(Math.max(...zero.pattern)).toBe(0);
    const back = withPixelValue(zero, 200);
    const i = (5 * W + 5) * C;
    expect(back.pattern[i]).toBeCloseTo(200 / 255, 6);
    expect(back.pattern[(5 * W + 4) * C]).toBe(0);
    expect(Array.from(back.mask)).toEqual(Array.from(t.mask));
    expect(back.description.values).toEqual([0, 200]);
    expect(() => withPixelValue(t, 300)).toThrow(/0\.\.255, got 300/);
  });
});
