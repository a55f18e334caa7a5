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
  // 16x16 and larger stride-1 outputs take the grid path inside the kernel.
  { n: 2, h: 16, w: 17, ci: 3, co: 4, k: [3, 3], s: 1, pad: 'same' },
  { n: 2, h: 18, w: 19, ci: 2, co: 3, k: [3, 3], s: 1, pad: 'valid' },
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

describe('row filter gradient (the stride-1 path for maps of 4x4 and more), called directly', () => {
  const geometries: { name: string; k: number[]; pad: number[]; h: number; w: number; ci?: number }[] = [
    { name: '3x3 same', k: [3, 3], pad: [1, 1, 1, 1], h: 6, w: 7 },
    { name: '3x3 valid', k: [3, 3], pad: [0, 0, 0, 0], h: 7, w: 6 },
    { name: '5x3 same', k: [5, 3], pad: [2, 2, 1, 1], h: 6, w: 5 },
    { name: '4x4 same (uneven padding)', k: [4, 4], pad: [1, 2, 1, 2], h: 5, w: 6 },
    { name: '1x1', k: [1, 1], pad: [0, 0, 0, 0], h: 4, w: 5 },
    // Width and channels multiples of 4: x is packed by the SIMD 4x4 transpose.
    { name: '3x3 same, SIMD packing', k: [3, 3], pad: [1, 1, 1, 1], h: 5, w: 8, ci: 8 },
    { name: '5x3 valid, SIMD packing', k: [5, 3], pad: [0, 0, 0, 0], h: 7, w: 4, ci: 4 },
    { name: '4x4 same (uneven padding), SIMD packing', k: [4, 4], pad: [1, 2, 1, 2], h: 6, w: 12, ci: 12 },
  ];
  for (const g of geometries) {
    it(`${g.name}: same result for every chunk size, equal to cpu`, async () => {
      const { filterGradientByRows } = await import('../../domain/backend/wasm/filter-grad-rows.js');
      const rng = new Rng(`grid-${g.name}`);
      const [top, bottom, left, right] = g.pad;
      const n = 5, ci = g.ci ?? 3, co = 4;
      const oh = g.h + top + bottom - g.k[0] + 1;
      const ow = g.w + left + right - g.k[1] + 1;
      const xs = randomArray(rng, n * g.h * g.w * ci);
      const dys = randomArray(rng, n * oh * ow * co);
      const filterShape = [g.k[0], g.k[1], ci, co];
      const err = await worstError(() => {
        const x = tf.tensor4d(xs, [n, g.h, g.w, ci]);
        const dy = tf.tensor4d(dys, [n, oh, ow, co]);
        if (tf.getBackend() === 'cpu') {
          const pad = [[0, 0], [top, bottom], [left, right], [0, 0]];
          const ref = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad, dataFormat: 'NHWC', filterShape }) as tf.Tensor;
          return [ref, ref.clone(), ref.clone()];
        }
        const backend = tf.backend() as Parameters<typeof filterGradientByRows>[0];
        const geometry = { kh: g.k[0], kw: g.k[1], top, left, bottom, right };
        // Chunks of 1 and 2 images (with a remainder chunk) and one chunk for all.
        const rowBytes = g.k[0] * g.k[1] * ci * oh * ow * 4;
        return [1, 2, n].map((images) => tf.engine().makeTensorFromTensorInfo(filterGradientByRows(backend, x, dy, geometry, images * rowBytes)));
      });
      expect(err).toBeLessThan(1e-4);
    });
  }
});
