import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { ensureWasm, randomArray, worstError } from './compare.js';

/** Shapes whose row counts cross the SIMD kernels' row blocks, with channel counts on and off the 4-lane path. */
const SHAPES: number[][] = [[3, 17, 19, 8], [2, 9, 7, 20], [5, 11, 13, 4], [3, 5, 7, 6], [600, 12]];

describe('SIMD per-channel kernels match cpu', () => {
  for (const shape of SHAPES) {
    it(`Sum, Mean and batch-norm gradients over [${shape}]`, async () => {
      const rng = new Rng(`simd-${shape}`);
      const size = shape.reduce((a, b) => a * b, 1);
      const c = shape[shape.length - 1];
      // An offset mean makes float32 accumulation errors visible in the centred sums.
      const xs = randomArray(rng, size, 3).map((v) => v + 5);
      const ws = randomArray(rng, size);
      const gs = randomArray(rng, c);
      const bs = randomArray(rng, c);
      const axes = shape.slice(0, -1).map((_, i) => i);
      const err = await worstError(() => {
        const x = tf.tensor(xs, shape);
        const w = tf.tensor(ws, shape);
        const f = (t: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
          const { mean, variance } = tf.moments(t, axes);
          return tf.batchNorm(t, mean, variance, beta, gamma, 1e-5).mul(w).sum();
        };
        const grads = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([x, tf.tensor1d(gs), tf.tensor1d(bs)]);
        return [tf.sum(x, axes), tf.mean(x.mul(w), axes, true), ...grads];
      });
      expect(err).toBeLessThan(1e-4);
    });
  }
});

describe('SIMD ReLU gradient', () => {
  for (const size of [4096, 4099, 3]) {
    it(`matches cpu on ${size} elements with exact zeros`, async () => {
      const rng = new Rng(`relu-${size}`);
      const xs = randomArray(rng, size).map((v, i) => (i % 5 === 0 ? 0 : v));
      const ws = randomArray(rng, size);
      const err = await worstError(() => [tf.grad((t: tf.Tensor) => tf.relu(t).mul(tf.tensor1d(ws)).sum())(tf.tensor1d(xs))]);
      expect(err).toBe(0);
    });
  }

  it('gives NaN where x is NaN or infinite, in the vector body and the scalar tail', async () => {
    await ensureWasm();
    await tf.setBackend('wasm');
    const xs = new Float32Array(7).fill(1);
    xs[1] = NaN; xs[2] = Infinity; xs[6] = NaN;
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.relu(t).sum())(tf.tensor1d(xs)).dataSync());
    expect(Array.from(g).map((v) => (Number.isNaN(v) ? 'nan' : v))).toEqual([1, 'nan', 'nan', 1, 1, 1, 'nan']);
  });
});

describe('Slice by block copies matches cpu', () => {
  const cases: { shape: number[]; begin: number[]; size: number[] }[] = [
    { shape: [3, 7, 6, 5], begin: [1, 1, 1, 0], size: [2, 5, 4, 5] },
    { shape: [3, 7, 6, 5], begin: [0, 2, 0, 1], size: [3, 3, 6, 3] },
    { shape: [3, 7, 6, 5], begin: [0, 0, 0, 0], size: [-1, 4, -1, -1] },
    { shape: [9, 11], begin: [2, 3], size: [5, 7] },
    { shape: [13], begin: [4], size: [6] },
    { shape: [4, 5, 6], begin: [1, 0, 2], size: [2, 5, 3] },
  ];
  for (const c of cases) {
    it(`x[${c.shape}] begin [${c.begin}] size [${c.size}] (float and int)`, async () => {
      const rng = new Rng(`slice-${c.shape}-${c.begin}`);
      const xs = randomArray(rng, c.shape.reduce((a, b) => a * b, 1));
      const err = await worstError(() => {
        const x = tf.tensor(xs, c.shape);
        const xi = x.mul(100).cast('int32');
        return [tf.slice(x, c.begin, c.size), tf.slice(xi, c.begin, c.size).cast('float32')];
      });
      expect(err).toBe(0);
    });
  }

  it('the gradient of a zero padding (a slice of dy) matches cpu', async () => {
    const rng = new Rng('pad-grad');
    const xs = randomArray(rng, 2 * 5 * 7 * 4);
    const ws = randomArray(rng, 2 * 7 * 9 * 4);
    const err = await worstError(() => [tf.grad((t: tf.Tensor) => tf.pad(t, [[0, 0], [1, 1], [1, 1], [0, 0]]).mul(tf.tensor4d(ws, [2, 7, 9, 4])).sum())(tf.tensor4d(xs, [2, 5, 7, 4]))]);
    expect(err).toBe(0);
  });
});

describe('SIMD 2x2 MaxPool gradient', () => {
  it('sends dy to the first maximum where positive values tie within a window', async () => {
    const rng = new Rng('pool-ties');
    const shape: [number, number, number, number] = [3, 6, 8, 12];
    // Values on a coarse grid: many windows hold their maximum twice or more.
    const xs = randomArray(rng, shape.reduce((a, b) => a * b, 1)).map((v) => Math.round(v * 2) / 2);
    const dys = randomArray(rng, 3 * 3 * 4 * 12);
    const err = await worstError(() => {
      const dy = tf.tensor4d(dys, [3, 3, 4, 12]);
      return [tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid').mul(dy).sum())(tf.tensor4d(xs, shape))];
    });
    expect(err).toBe(0);
  });
});

describe('one-pass Square gradient', () => {
  for (const shape of [[4, 6, 8], [3, 5, 7]] as number[][]) {
    it(`matches cpu on [${shape}] (alone and inside the variance of moments)`, async () => {
      const rng = new Rng(`square-${shape}`);
      const size = shape.reduce((a, b) => a * b, 1);
      const xs = randomArray(rng, size, 2);
      const ws = randomArray(rng, size);
      const err = await worstError(() => {
        const x = tf.tensor(xs, shape);
        const w = tf.tensor(ws, shape);
        return [
          tf.grad((t: tf.Tensor) => tf.square(t).mul(w).sum())(x),
          tf.grad((t: tf.Tensor) => tf.moments(t, [0, 1]).variance.mul(tf.tensor1d(ws.slice(0, shape[2]))).sum())(x),
        ];
      });
      expect(err).toBeLessThan(1e-5);
    });
  }
});

describe('block copies on the wasm heap', () => {
  // 16 and 48 bytes take the v128 path; 12 (not a multiple of 16) and 512 (over its limit) take memory.copy.
  for (const floats of [4, 12, 3, 128]) {
    it(`copy a strided grid of ${floats * 4}-byte blocks exactly`, async () => {
      await ensureWasm();
      const { copyBlocks } = await import('../../domain/backend/wasm/simd-kernels.js');
      const { allocFloat32, disposeInfo, heapView } = await import('../../domain/backend/wasm/kernel-calls.js');
      const backend = tf.backend() as Parameters<typeof copyBlocks>[0];
      const rows = 3, cols = 5, srcCol = floats + 2, srcRow = cols * srcCol + 1, dstCol = floats + 1, dstRow = cols * dstCol + 3;
      const src = allocFloat32(backend, [rows * srcRow + 7]);
      const dst = allocFloat32(backend, [rows * dstRow + 2]);
      heapView(backend, src.info).set(Float32Array.from({ length: rows * srcRow + 7 }, (_, i) => i + 0.5));
      heapView(backend, dst.info).fill(-1);
      const expected = new Float32Array(rows * dstRow + 2).fill(-1);
      const source = heapView(backend, src.info);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          for (let k = 0; k < floats; k++) expected[1 + r * dstRow + c * dstCol + k] = source[2 + r * srcRow + c * srcCol + k];
        }
      }
      copyBlocks(backend, src.info, 2 * 4, dst.info, 1 * 4, { rows, cols, blockBytes: floats * 4, srcRow: srcRow * 4, srcCol: srcCol * 4, dstRow: dstRow * 4, dstCol: dstCol * 4 });
      expect(Array.from(heapView(backend, dst.info))).toEqual(Array.from(expected));
      disposeInfo(backend, src.info, dst.info);
    });
  }
});
