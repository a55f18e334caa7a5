import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { randomArray, worstError, ensureWasm } from './compare.js';

describe('batch norm in training mode: gradients match cpu', () => {
  for (const shape of [[4, 5, 6, 3], [3, 7, 5, 8], [16, 6]] as number[][]) {
    it(`x[${shape}] through moments and batchNorm`, async () => {
      const rng = new Rng(`bn-${shape}`);
      const size = shape.reduce((a, b) => a * b, 1);
      const c = shape[shape.length - 1];
      const xs = randomArray(rng, size, 3);
      const ws = randomArray(rng, size);
      const gs = randomArray(rng, c);
      const bs = randomArray(rng, c);
      const err = await worstError(() => {
        const axes = shape.slice(0, -1).map((_, i) => i);
        const w = tf.tensor(ws, shape);
        const f = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
          const { mean, variance } = tf.moments(x, axes);
          return tf.batchNorm(x, mean, variance, beta, gamma, 1e-5).mul(w).sum();
        };
        return tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([tf.tensor(xs, shape), tf.tensor1d(gs), tf.tensor1d(bs)]);
      });
      expect(err).toBeLessThan(1e-4);
    });
  }
});

/** conv-BN-ReLU, a residual add, max and global average pooling, dense, softmax cross-entropy. */
/** c1 and c2 (4 channels, 4+ pixels wide) take the tap filter gradient, c3 (6 channels) the batch-axis one; 9x9 inputs use the kernel's 1-pixel tail, 8x8 only its 4-pixel steps. */
function tinyNet(size = 9): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3] });
  let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'c1' }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ name: 'bn1' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
  const r = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c2' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.add().apply([h, r]) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.zeroPadding2d({ padding: 1 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'valid', name: 'c3' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, name: 'fc' }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('a whole training-mode backward pass matches cpu', () => {
  for (const size of [9, 8]) it(`gradients of the loss with respect to every weight (${size}x${size} inputs)`, async () => {
    await ensureWasm();
    const rng = new Rng(`tiny-net-${size}`);
    await tf.setBackend('cpu');
    const model = tinyNet(size);
    const weights = model.getWeights().map((w) => randomArray(rng, w.size, 0.5));
    const shapes = model.getWeights().map((w) => w.shape);
    const xs = randomArray(rng, 6 * size * size * 3, 1);
    const labels = Array.from({ length: 6 }, () => rng.int(0, 5));
    const err = await worstError(() => {
      const m = tinyNet(size);
      m.setWeights(weights.map((w, i) => tf.tensor(w, shapes[i])));
      const x = tf.tensor4d(xs, [6, size, size, 3]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 5);
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
      const out = Object.values(grads);
      m.dispose();
      return out;
    });
    model.dispose();
    expect(err).toBeLessThan(1e-4);
  });
});

describe('one-pass ReLU and Mean gradients match cpu', () => {
  it('ReLU with exact zeros, Mean over leading axes and over a trailing axis', async () => {
    const rng = new Rng('relu-mean');
    const xs = randomArray(rng, 4 * 5 * 3 * 6).map((v, i) => (i % 7 === 0 ? 0 : v));
    const ws = randomArray(rng, 4 * 5 * 3 * 6);
    const err = await worstError(() => {
      const x = tf.tensor4d(xs, [4, 5, 3, 6]);
      const w = tf.tensor4d(ws, [4, 5, 3, 6]);
      const relu = tf.grad((t: tf.Tensor) => tf.relu(t).mul(w).sum())(x);
      const meanLead = tf.grad((t: tf.Tensor) => tf.mean(t.mul(w), [0, 1, 2]).square().sum())(x);
      const meanLeadKeep = tf.grad((t: tf.Tensor) => tf.mean(t.mul(w), [0, 1], true).square().sum())(x);
      const meanLast = tf.grad((t: tf.Tensor) => tf.mean(t.mul(w), -1).square().sum())(x);
      return [relu, meanLead, meanLeadKeep, meanLast];
    });
    expect(err).toBeLessThan(1e-5);
  });
});

describe('training steps on wasm leak nothing', () => {
  it('tensor count and wasm heap allocations are flat across steps', async () => {
    await ensureWasm();
    await tf.setBackend('wasm');
    const rng = new Rng('leak');
    const model = tinyNet(8);
    const x = tf.tensor4d(randomArray(rng, 4 * 8 * 8 * 3), [4, 8, 8, 3]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 5);
    const opt = tf.train.sgd(0.01);
    const step = () => { const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true); if (loss) loss.dispose(); };
    step();
    const tensors = tf.memory().numTensors;
    const dataIds = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    tf.dispose([x, y]);
    model.dispose();
    opt.dispose();
  });
});

describe('registration is idempotent', () => {
  it('registering the training kernels twice still matches cpu', async () => {
    await ensureWasm();
    const { registerWasmTrainingKernels } = await import('../../domain/backend/wasm/register.js');
    registerWasmTrainingKernels();
    const rng = new Rng('twice');
    const xs = randomArray(rng, 3 * 4 * 4 * 5);
    const err = await worstError(() => {
      const x = tf.tensor4d(xs, [3, 4, 4, 5]);
      const f = (t: tf.Tensor) => {
        const { mean, variance } = tf.moments(t, [0, 1, 2]);
        return tf.relu(tf.batchNorm(t, mean, variance, tf.zeros([5]), tf.ones([5]), 1e-5)).sum([0, 1, 2]).square().sum();
      };
      return [tf.grad(f)(x), tf.sum(x, [0, 1])];
    });
    expect(err).toBeLessThan(1e-4);
  });
});
