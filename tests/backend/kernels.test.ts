import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { randomArray, worstError } from './compare.js';

const rng = new Rng('kernels');

describe('wasm reductions, tiling and identity match cpu', () => {
  const shapes: [number[], number[]][] = [
    [[3, 5, 7, 4], [0, 1, 2]],
    [[3, 5, 7, 4], [0]],
    [[6, 9], [0]],
    [[2, 3, 4], [1, 2]], // not leading: the stock kernel
    [[4, 5], [-1]],
  ];
  for (const [shape, axes] of shapes) {
    it(`Sum and Mean of [${shape}] over ${JSON.stringify(axes)}`, async () => {
      const xs = randomArray(rng, shape.reduce((a, b) => a * b, 1), 10);
      const err = await worstError(() => {
        const x = tf.tensor(xs, shape);
        return [tf.sum(x, axes), tf.mean(x, axes), tf.sum(x, axes, true), tf.mean(x, axes, true)];
      });
      expect(err).toBeLessThan(1e-5);
    });
  }

  const tiles: [number[], number[]][] = [
    [[1, 1, 1, 5], [3, 4, 2, 1]],
    [[2, 3], [2, 3]],
    [[3, 1, 2], [1, 4, 3]],
    [[4], [3]],
    [[2, 2], [1, 1]],
  ];
  for (const [shape, reps] of tiles) {
    it(`Tile [${shape}] by [${reps}] (float and int)`, async () => {
      const xs = randomArray(rng, shape.reduce((a, b) => a * b, 1));
      const is = Int32Array.from(xs, (v) => Math.round(v * 100));
      const err = await worstError(() => [tf.tile(tf.tensor(xs, shape), reps), tf.tile(tf.tensor(is, shape, 'int32'), reps).toFloat()]);
      expect(err).toBe(0);
    });
  }

  it('Cast to the same dtype shares memory; to another dtype converts', async () => {
    const err = await worstError(() => {
      const x = tf.tensor([1.5, -2.25, 3]);
      const same = tf.cast(x, 'float32');
      const asInt = tf.cast(x, 'int32').toFloat();
      x.dispose();
      return [same.mul(2), asInt];
    });
    expect(err).toBe(0);
  });

  it('Identity shares memory but a clone survives disposing its source', async () => {
    const err = await worstError(() => {
      const x = tf.tensor([1, 2, 3]);
      const y = tf.clone(x);
      x.dispose();
      return [y.add(1)];
    });
    expect(err).toBe(0);
  });
});

describe('wasm MaxPoolGrad matches cpu', () => {
  const cases: { shape: [number, number, number, number]; k: number; s: number; pad: 'same' | 'valid' }[] = [
    { shape: [2, 8, 8, 3], k: 2, s: 2, pad: 'same' },
    { shape: [2, 7, 9, 4], k: 2, s: 2, pad: 'same' },
    { shape: [3, 7, 7, 2], k: 3, s: 2, pad: 'valid' },
    { shape: [1, 6, 5, 3], k: 3, s: 1, pad: 'same' },
    { shape: [2, 9, 9, 5], k: 3, s: 2, pad: 'same' },
    // Windows tiling the input with channels a multiple of 4: the SIMD kernel.
    { shape: [2, 8, 8, 4], k: 2, s: 2, pad: 'same' },
    { shape: [3, 6, 10, 8], k: 2, s: 2, pad: 'valid' },
  ];
  for (const c of cases) {
    it(`x[${c.shape}] pool ${c.k} stride ${c.s} ${c.pad}, with ReLU ties`, async () => {
      const xs = randomArray(rng, c.shape.reduce((a, b) => a * b, 1));
      const err = await worstError(() => {
        // ReLU first, so many windows are all zero and the tie rule is exercised.
        const x = tf.tensor4d(xs, c.shape);
        const pool = (t: tf.Tensor) => tf.maxPool(tf.relu(t) as tf.Tensor4D, c.k, c.s, c.pad);
        const outShape = pool(x).shape;
        const weights = tf.tensor(randomArray(new Rng(`w${JSON.stringify(c)}`), outShape.reduce((a, b) => a * b, 1)), outShape);
        return [tf.grad((t: tf.Tensor) => pool(t).mul(weights).sum())(x)];
      });
      expect(err).toBeLessThan(1e-5);
    });
  }
});
