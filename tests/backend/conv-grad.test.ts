import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { randomArray, worstError } from './compare.js';

interface Case {
  n: number; h: number; w: number; ci: number; co: number; k: [number, number]; s: number; pad: 'same' | 'valid';
}

const cases: Case[] = [
  { n: 2, h: 8, w: 8, ci: 3, co: 4, k: [3, 3], s: 1, pad: 'same' },
  { n: 3, h: 7, w: 9, ci: 5, co: 6, k: [3, 3], s: 1, pad: 'valid' },
  { n: 2, h: 8, w: 8, ci: 4, co: 8, k: [3, 3], s: 2, pad: 'same' },
  { n: 2, h: 9, w: 7, ci: 3, co: 5, k: [3, 3], s: 2, pad: 'same' },
  { n: 2, h: 9, w: 10, ci: 4, co: 3, k: [3, 3], s: 2, pad: 'valid' },
  { n: 2, h: 8, w: 8, ci: 6, co: 4, k: [1, 1], s: 2, pad: 'same' },
  { n: 3, h: 5, w: 5, ci: 4, co: 4, k: [1, 1], s: 1, pad: 'valid' },
  { n: 2, h: 11, w: 6, ci: 2, co: 3, k: [5, 3], s: 1, pad: 'same' },
  { n: 2, h: 10, w: 10, ci: 3, co: 2, k: [4, 4], s: 2, pad: 'same' },
  { n: 1, h: 6, w: 6, ci: 3, co: 3, k: [3, 3], s: 3, pad: 'valid' },
  // Strided input gradients go by phases: a ResNet down-sampling conv (zero-padded input, 'valid'), a phase with no tap, odd sizes.
  { n: 2, h: 10, w: 11, ci: 4, co: 8, k: [3, 3], s: 2, pad: 'valid' },
  { n: 2, h: 9, w: 11, ci: 3, co: 2, k: [2, 2], s: 3, pad: 'same' },
  { n: 2, h: 13, w: 12, ci: 5, co: 3, k: [5, 5], s: 2, pad: 'same' },
  { n: 1, h: 7, w: 7, ci: 2, co: 3, k: [5, 3], s: 3, pad: 'valid' },
  // Output channels that are a multiple of 4 on outputs 4 or more pixels wide take the tap kernel, at any stride; the rest go over the batch axis.
  { n: 2, h: 16, w: 17, ci: 3, co: 4, k: [3, 3], s: 1, pad: 'same' },
  { n: 2, h: 18, w: 19, ci: 2, co: 3, k: [3, 3], s: 1, pad: 'valid' },
  { n: 2, h: 16, w: 16, ci: 8, co: 24, k: [3, 3], s: 2, pad: 'same' },
  { n: 3, h: 10, w: 10, ci: 4, co: 8, k: [3, 3], s: 2, pad: 'valid' },
  { n: 2, h: 8, w: 8, ci: 4, co: 12, k: [1, 1], s: 2, pad: 'valid' },
];

describe('wasm conv2d gradients match cpu', () => {
  for (const c of cases) {
    it(`x[${c.n},${c.h},${c.w},${c.ci}] k${c.k.join('x')}x${c.co} stride ${c.s} ${c.pad}`, async () => {
      const rng = new Rng(`conv-${JSON.stringify(c)}`);
      const xs = randomArray(rng, c.n * c.h * c.w * c.ci);
      const ws = randomArray(rng, c.k[0] * c.k[1] * c.ci * c.co);
      const outH = c.pad === 'same' ? Math.ceil(c.h / c.s) : Math.floor((c.h - c.k[0]) / c.s) + 1;
      const outW = c.pad === 'same' ? Math.ceil(c.w / c.s) : Math.floor((c.w - c.k[1]) / c.s) + 1;
      const dys = randomArray(rng, c.n * outH * outW * c.co);
      const err = await worstError(() => {
        const x = tf.tensor4d(xs, [c.n, c.h, c.w, c.ci]);
        const w = tf.tensor4d(ws, [c.k[0], c.k[1], c.ci, c.co]);
        const dy = tf.tensor4d(dys, [c.n, outH, outW, c.co]);
        const common = { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC' };
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...common, inputShape: [c.n, c.h, c.w, c.ci] }) as tf.Tensor;
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: [c.k[0], c.k[1], c.ci, c.co] }) as tf.Tensor;
        return [dx, dw];
      });
      expect(err).toBeLessThan(1e-4);
    });
  }

  it('gradients of a conv through tf.grads agree (the path model.fit takes)', async () => {
    const rng = new Rng('conv-grads');
    const xs = randomArray(rng, 2 * 6 * 6 * 3);
    const ws = randomArray(rng, 3 * 3 * 3 * 4);
    const err = await worstError(() => {
      const x = tf.tensor4d(xs, [2, 6, 6, 3]);
      const w = tf.tensor4d(ws, [3, 3, 3, 4]);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').square().sum();
      return tf.grads(f)([x, w]);
    });
    expect(err).toBeLessThan(1e-4);
  });
});

describe('tap filter gradient (output channels a multiple of 4, any stride and width), called directly', () => {
  // pad is [top, bottom, left, right]. Channel counts cross the kernel's tiles: rows (kh*kw*ci) in tiles of 6 plus a
  // shorter one, columns in tiles of 16, 8 and 4 channels; output widths take the 4-pixel steps, the 1-pixel tail, or both.
  const geometries: { name: string; k: number[]; s: number[]; pad: number[]; h: number; w: number; ci: number; co: number }[] = [
    { name: '3x3 same', k: [3, 3], s: [1, 1], pad: [1, 1, 1, 1], h: 6, w: 8, ci: 3, co: 4 },
    { name: '3x3 valid, 28 channels out (16 + 8 + 4)', k: [3, 3], s: [1, 1], pad: [0, 0, 0, 0], h: 7, w: 6, ci: 5, co: 28 },
    { name: '5x3 same', k: [5, 3], s: [1, 1], pad: [2, 2, 1, 1], h: 6, w: 4, ci: 2, co: 8 },
    { name: '4x4 same (uneven padding)', k: [4, 4], s: [1, 1], pad: [1, 2, 1, 2], h: 5, w: 8, ci: 3, co: 16 },
    { name: '1x1', k: [1, 1], s: [1, 1], pad: [0, 0, 0, 0], h: 4, w: 4, ci: 7, co: 4 },
    { name: '3x3 same on 2x2 maps (tail only)', k: [3, 3], s: [1, 1], pad: [1, 1, 1, 1], h: 2, w: 2, ci: 8, co: 8 },
    { name: '3x3 valid, output width 7 (steps and tail)', k: [3, 3], s: [1, 1], pad: [0, 0, 0, 0], h: 5, w: 9, ci: 4, co: 12 },
    { name: '3x3 same, SIMD packing', k: [3, 3], s: [1, 1], pad: [1, 1, 1, 1], h: 5, w: 8, ci: 8, co: 12 },
    // Strided: phases packed through the [N*H/s, s, W/s, s*C] view (SIMD where W/s and s*C are multiples of 4, else not) ...
    { name: '3x3 stride 2, TF same, SIMD view packing', k: [3, 3], s: [2, 2], pad: [0, 1, 0, 1], h: 8, w: 16, ci: 2, co: 8 },
    { name: '3x3 stride 2 on a zero-padded input (ResNet down-sampling)', k: [3, 3], s: [2, 2], pad: [0, 0, 0, 0], h: 10, w: 10, ci: 4, co: 4 },
    { name: '1x1 stride 2 (ResNet shortcut)', k: [1, 1], s: [2, 2], pad: [0, 0, 0, 0], h: 8, w: 8, ci: 4, co: 20 },
    // ... and element by element where the padding or the size does not divide by the stride.
    { name: '3x3 stride 2, odd padding', k: [3, 3], s: [2, 2], pad: [1, 1, 1, 1], h: 9, w: 15, ci: 3, co: 4 },
    { name: '5x5 stride 3x2, uneven padding', k: [5, 5], s: [3, 2], pad: [2, 1, 1, 2], h: 11, w: 9, ci: 2, co: 8 },
    { name: '3x3 stride 2, output width 5', k: [3, 3], s: [2, 2], pad: [1, 1, 1, 1], h: 9, w: 9, ci: 3, co: 4 },
  ];
  for (const g of geometries) {
    it(`${g.name}: same result for every chunk size, equal to cpu`, async () => {
      const { filterGradientByTaps } = await import('../../domain/backend/wasm/filter-grad-taps.js');
      const rng = new Rng(`taps-${g.name}`);
      const [top, bottom, left, right] = g.pad;
      const [sh, sw] = g.s;
      const n = 5;
      const oh = Math.floor((g.h + top + bottom - g.k[0]) / sh) + 1;
      const ow = Math.floor((g.w + left + right - g.k[1]) / sw) + 1;
      const xs = randomArray(rng, n * g.h * g.w * g.ci);
      const dys = randomArray(rng, n * oh * ow * g.co);
      const filterShape = [g.k[0], g.k[1], g.ci, g.co];
      const err = await worstError(() => {
        const x = tf.tensor4d(xs, [n, g.h, g.w, g.ci]);
        const dy = tf.tensor4d(dys, [n, oh, ow, g.co]);
        if (tf.getBackend() === 'cpu') {
          const pad = [[0, 0], [top, bottom], [left, right], [0, 0]];
          const ref = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [sh, sw], pad, dataFormat: 'NHWC', filterShape }) as tf.Tensor;
          return [ref, ref.clone(), ref.clone()];
        }
        const backend = tf.backend() as Parameters<typeof filterGradientByTaps>[0];
        const geometry = { kh: g.k[0], kw: g.k[1], sh, sw, top, left, bottom, right };
        // Chunks of 1 and 2 images (with a remainder chunk) and one chunk for all.
        const hp = g.h + top + bottom, wp = g.w + left + right;
        const imageBytes = (g.ci * Math.ceil(hp / sh) * sh * Math.ceil(wp / sw) * sw + oh * ow * g.co) * 4;
        return [1, 2, n].map((images) => tf.engine().makeTensorFromTensorInfo(filterGradientByTaps(backend, x, dy, geometry, images * imageBytes)));
      });
      expect(err).toBeLessThan(1e-4);
    });
  }
});
