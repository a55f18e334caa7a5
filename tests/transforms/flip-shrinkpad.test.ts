import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { flipLeftRight, randomFlip, randomFlipWithDraws } from '../../domain/transforms/flip.js';
import { shrinkPad, shrinkPadAt, shrinkPadWithDraws, randomShrinkPad, drawShrinkPad, drawOffsets } from '../../domain/transforms/shrinkpad.js';
import { composeTransforms, registerTransform } from '../../domain/transforms/compose.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A 1-image, 1-channel batch from rows of numbers. */
const image = (rows: number[][]): tf.Tensor4D => tf.tensor4d(rows.flat(), [1, rows.length, rows[0].length, 1]);
const rowsOf = (x: tf.Tensor4D, i = 0): number[][] => (x.slice([i, 0, 0, 0], [1, -1, -1, 1]).reshape([x.shape[1], x.shape[2]]).arraySync() as number[][]);

describe('flipLeftRight', () => {
  it('mirrors each row', () => {
    const x = image([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]);
    expect(rowsOf(flipLeftRight(x))).toEqual([[0.3, 0.2, 0.1], [0.6, 0.5, 0.4]].map((r) => r.map((v) => Math.fround(v))));
  });

  it('twice is the identity', () => {
    const x = tf.randomUniform([3, 5, 4, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    expect(Array.from(flipLeftRight(flipLeftRight(x)).dataSync())).toEqual(Array.from(x.dataSync()));
  });

  it('random flip flips exactly the drawn images, and both states appear', () => {
    const x = tf.randomUniform([64, 4, 4, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const { images, flipped } = randomFlipWithDraws(x, 0.5, new Rng(1));
    expect(flipped.some((f) => f)).toBe(true);
    expect(flipped.some((f) => !f)).toBe(true);
    const mirrored = flipLeftRight(x);
    flipped.forEach((f, i) => {
      const got = images.slice([i, 0, 0, 0], [1, -1, -1, -1]).dataSync();
      const want = (f ? mirrored : x).slice([i, 0, 0, 0], [1, -1, -1, -1]).dataSync();
      expect(Array.from(got)).toEqual(Array.from(want));
    });
  });

  it('rejects a probability outside [0, 1]', () => {
    expect(() => randomFlip(1.5)).toThrow(/\[0, 1\].*1\.5/);
  });
});

describe('shrinkPad', () => {
  it('4x4 -> 2x2 with half-pixel centres averages 2x2 blocks, then pads at the given offset', () => {
    const x = image([
      [0.0, 0.2, 0.4, 0.4],
      [0.2, 0.2, 0.8, 0.0],
      [1.0, 1.0, 0.0, 0.0],
      [1.0, 0.6, 0.0, 0.4],
    ]);
    const out = rowsOf(shrinkPadAt(x, 2, [{ top: 1, left: 0 }]));
    const want = [
      [0, 0, 0, 0],
      [0.15, 0.4, 0, 0],
      [0.9, 0.1, 0, 0],
      [0, 0, 0, 0],
    ];
    out.forEach((row, r) => row.forEach((v, c) => expect(v).toBeCloseTo(want[r][c], 6)));
  });

  it('4x4 -> 3x3 on a column ramp samples at (j + 0.5) * 4/3 - 0.5, like torchvision', () => {
    const ramp = image(Array.from({ length: 4 }, () => [0, 0.1, 0.2, 0.3]));
    const out = rowsOf(shrinkPadAt(ramp, 1, [{ top: 0, left: 1 }]));
    // Source columns 1/6, 1.5 and 17/6; the ramp is linear, so values are 0.1 * source column.
    const shrunkRow = [0.1 / 6, 0.15, 0.1 * 17 / 6];
    for (let r = 0; r < 3; r++) {
      expect(out[r][0]).toBe(0);
      shrunkRow.forEach((v, c) => expect(out[r][c + 1]).toBeCloseTo(v, 6));
    }
    expect(out[3]).toEqual([0, 0, 0, 0]);
  });

  it('size 0 is the identity and returns a new tensor', () => {
    const x = tf.randomUniform([2, 6, 6, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const y = shrinkPad(x, 0, new Rng(0));
    expect(y).not.toBe(x);
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
  });

  it('the zero border is exactly the drawn size, split as top/left offsets', () => {
    // Strictly positive images, so every zero comes from the padding.
    const x = tf.randomUniform([40, 12, 12, 3], 0.05, 1, 'float32', 9) as tf.Tensor4D;
    const draws = drawShrinkPad(40, 4, new Rng(11));
    const out = shrinkPadWithDraws(x, draws).arraySync() as number[][][][];
    draws.forEach((d, i) => {
      const zeroRows = out[i].map((row) => row.every((px) => px.every((v) => v === 0)));
      const zeroCols = Array.from({ length: 12 }, (_, c) => out[i].every((row) => row[c].every((v) => v === 0)));
      expect(zeroRows.filter(Boolean).length).toBe(d.size);
      expect(zeroCols.filter(Boolean).length).toBe(d.size);
      expect(zeroRows.slice(0, d.top).every(Boolean)).toBe(true);
      expect(zeroCols.slice(0, d.left).every(Boolean)).toBe(true);
      expect(zeroRows[d.top]).toBe(false);
      expect(zeroCols[d.left]).toBe(false);
    });
  });

  it('rejects bad sizes and offsets with the bad value', () => {
    const x = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    expect(() => shrinkPad(x, 4, new Rng(0))).toThrow(/0\.\.3.*got 4/);
    expect(() => shrinkPadAt(x, 2, [{ top: 3, left: 0 }])).toThrow(/top offset.*0\.\.2, got 3/);
    expect(() => randomShrinkPad(-1)).toThrow(/got -1/);
  });
});

describe('enhanced random layer (flip then shrinkpad)', () => {
  it('produces every shrink size and both flip states over many draws, and keeps range', () => {
    const rng = new Rng('draws');
    const sizes = new Set<number>();
    const tops = new Set<number>();
    for (let k = 0; k < 10; k++) for (const d of drawShrinkPad(50, 4, rng)) {
      sizes.add(d.size);
      tops.add(d.top);
    }
    expect([...sizes].sort()).toEqual([0, 1, 2, 3, 4]);
    expect([...tops].sort()).toEqual([0, 1, 2, 3, 4]);

    const transform = composeTransforms([{ type: 'flip', p: 0.5 }, { type: 'shrinkpad', maxSize: 4 }]);
    const x = tf.randomUniform([32, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const extremes = tf.concat([x, tf.ones([4, 8, 8, 3]), tf.zeros([4, 8, 8, 3])]) as tf.Tensor4D;
    const y = transform(extremes, new Rng(4));
    expect(y.shape).toEqual(extremes.shape);
    expect(y.min().dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(y.max().dataSync()[0]).toBeLessThanOrEqual(1);
  });

  it('same seed, same output; different seed, different output', () => {
    const transform = composeTransforms([{ type: 'flip' }, { type: 'shrinkpad', maxSize: 3 }]);
    const x = tf.randomUniform([8, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const a = transform(x, new Rng(1)).dataSync();
    const b = transform(x, new Rng(1)).dataSync();
    const c = transform(x, new Rng(2)).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('does not leak tensors across batches', () => {
    const transform = composeTransforms([{ type: 'flip', p: 0.5 }, { type: 'shrinkpad', maxSize: 4 }]);
    const x = tf.randomUniform([16, 8, 8, 3]) as tf.Tensor4D;
    const rng = new Rng(0);
    transform(x, rng).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) transform(x, rng).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** Chi-square critical values at p = 0.001 for 1..8 degrees of freedom. */
const CHI2_CRITICAL_0_001 = [10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12];

/**
 * Every value of lo..hi was drawn, and the counts are roughly uniform: the chi-square statistic
 * against equal counts stays under its p = 0.001 critical value. The draws are seeded, so this is
 * a fixed check, not a flaky one; a draw pinned to one value, or one that never reaches an end of
 * the range, is far over it.
 */
function expectUniform(values: number[], lo: number, hi: number, what: string): void {
  const k = hi - lo + 1;
  const counts = new Array<number>(k).fill(0);
  const outside = values.filter((v) => !(Number.isInteger(v) && v >= lo && v <= hi));
  expect(outside, `${what}: values outside ${lo}..${hi}`).toEqual([]);
  for (const v of values) counts[v - lo] += 1;
  expect(counts.every((c) => c > 0), `${what}: every value of ${lo}..${hi} drawn (counts ${counts.join(', ')})`).toBe(true);
  if (k === 1) return;
  const expected = values.length / k;
  expect(expected, `${what}: enough draws for the test`).toBeGreaterThanOrEqual(20);
  const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  expect(chi2, `${what}: counts ${counts.join(', ')} are not roughly uniform`).toBeLessThan(CHI2_CRITICAL_0_001[k - 2]);
}

/** Size and offsets of each image's ones block, read back from a transformed batch of all-ones images. */
function drawsSeenIn(y: tf.Tensor4D): Array<{ size: number; top: number; left: number }> {
  const [n, h, w] = y.shape;
  const data = y.dataSync();
  return Array.from({ length: n }, (_, i) => {
    const at = (r: number, c: number) => data[((i * h + r) * w + c) * y.shape[3]];
    const rows = Array.from({ length: h }, (_, r) => Array.from({ length: w }, (_, c) => at(r, c)).some((v) => v > 0));
    const cols = Array.from({ length: w }, (_, c) => Array.from({ length: h }, (_, r) => at(r, c)).some((v) => v > 0));
    return { size: rows.filter((r) => !r).length, top: rows.indexOf(true), left: cols.indexOf(true) };
  });
}

describe('the random draws (distribution over many seeded draws)', () => {
  it("ShrinkPad's offsets: every top and left in 0..s appears, with roughly equal counts", () => {
    for (const s of [1, 3, 4]) {
      const offsets = drawOffsets(3000, s, new Rng(`offsets-${s}`));
      expectUniform(offsets.map((o) => o.left), 0, s, `left offset, s = ${s}`);
      expectUniform(offsets.map((o) => o.top), 0, s, `top offset, s = ${s}`);
    }
  });

  it('the ShrinkPad defense places each shrunk image at those offsets (read back from the images)', () => {
    const seen = drawsSeenIn(shrinkPad(tf.ones([600, 8, 8, 1]) as tf.Tensor4D, 3, new Rng('defense-draws')));
    expect(seen.every((d) => d.size === 3)).toBe(true);
    expectUniform(seen.map((d) => d.left), 0, 3, 'defense left offset');
    expectUniform(seen.map((d) => d.top), 0, 3, 'defense top offset');
  });

  it("the enhanced attack's sizes are uniform in 0..s_max, and each size's offsets uniform in 0..size", () => {
    const draws = drawShrinkPad(12000, 4, new Rng('enhanced-draws'));
    expectUniform(draws.map((d) => d.size), 0, 4, 'shrink size');
    for (let s = 1; s <= 4; s++) {
      const ofSize = draws.filter((d) => d.size === s);
      expectUniform(ofSize.map((d) => d.left), 0, s, `left offset given size ${s}`);
      expectUniform(ofSize.map((d) => d.top), 0, s, `top offset given size ${s}`);
    }
    expect(draws.filter((d) => d.size === 0).every((d) => d.top === 0 && d.left === 0)).toBe(true);
  });

  it("the enhanced attack's transform list applies those draws (read back from the images)", () => {
    const transform = composeTransforms([{ type: 'shrinkpad', maxSize: 3 }]);
    const seen = drawsSeenIn(transform(tf.ones([1600, 8, 8, 1]) as tf.Tensor4D, new Rng('enhanced-images')));
    expectUniform(seen.map((d) => d.size), 0, 3, 'shrink size seen');
    for (let s = 1; s <= 3; s++) {
      const ofSize = seen.filter((d) => d.size === s);
      expectUniform(ofSize.map((d) => d.left), 0, s, `left offset seen at size ${s}`);
      expectUniform(ofSize.map((d) => d.top), 0, s, `top offset seen at size ${s}`);
    }
  });
});

describe('composeTransforms', () => {
  it('empty list copies the input', () => {
    const x = tf.tensor4d([0.2, 0.7], [1, 1, 2, 1]);
    const y = composeTransforms([])(x, new Rng(0));
    expect(y).not.toBe(x);
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
  });

  it('flip with p = 1 always flips; shrinkpad-fixed pads', () => {
    const x = image([[0.1, 0.9]]);
    expect(Array.from(composeTransforms([{ type: 'flip', p: 1 }])(x, new Rng(0)).dataSync())).toEqual([0.9, 0.1].map(Math.fround));
    // 'shrinkpad-fixed' is the defense: every image shrunk by exactly `size`, at its drawn offsets.
    const batch = tf.randomUniform([6, 8, 8, 3], 0.05, 1, 'float32', 12) as tf.Tensor4D;
    const fixed = composeTransforms([{ type: 'shrinkpad-fixed', size: 2 }])(batch, new Rng('fixed'));
    const offsets = drawOffsets(6, 2, new Rng('fixed'));
    expect(Array.from(fixed.dataSync())).toEqual(Array.from(shrinkPadAt(batch, 2, offsets).dataSync()));
    expect(drawsSeenIn(fixed)).toEqual(offsets.map(({ top, left }) => ({ size: 2, top, left })));
    // A 'shrinkpad' entry is the random ShrinkPad of maxSize: the same output as its draws applied by hand.
    const padded = composeTransforms([{ type: 'shrinkpad', maxSize: 3 }])(batch, new Rng('pads'));
    const draws = drawShrinkPad(6, 3, new Rng('pads'));
    expect(draws.some((d) => d.size > 0)).toBe(true);
    expect(Array.from(padded.dataSync())).toEqual(Array.from(shrinkPadWithDraws(batch, draws).dataSync()));
    expect(drawsSeenIn(padded)).toEqual(draws.map(({ size, top, left }) => ({ size, top, left })));
  });

  it('accepts registered extra transforms, in order', () => {
    const factories = registerTransform('invert', () => (x) => tf.sub(1, x) as tf.Tensor4D);
    const x = image([[0.25, 1]]);
    const y = composeTransforms([{ type: 'invert' }, { type: 'flip', p: 1 }], factories)(x, new Rng(0));
    expect(Array.from(y.dataSync())).toEqual([0, 0.75]);
  });

  it('names unknown types and options', () => {
    expect(() => composeTransforms([{ type: 'rotate' }])).toThrow(/unknown type 'rotate'.*flip, shrinkpad/);
    expect(() => composeTransforms([{ type: 'flip', q: 1 }])).toThrow(/unknown option\(s\) q/);
    expect(() => composeTransforms([{ type: 'shrinkpad' }])).toThrow(/maxSize.*must be a number/);
  });
});
