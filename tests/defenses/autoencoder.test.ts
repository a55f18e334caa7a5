import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { autoencoderTransform, buildAutoencoder, reconstructionError, trainAutoencoder } from '../../domain/defenses/autoencoder.js';
import { makeSplit } from './synthetic-backdoor.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('auto-encoder defense', () => {
  it('training lowers the reconstruction loss on held-out clean images', async () => {
    const train = makeSplit(64, new Rng('ae-train'));
    const heldOut = makeSplit(24, new Rng('ae-test'));
    const model = buildAutoencoder({ inputShape: [12, 12, 3], filters: [4], seed: 1 });
    const before = reconstructionError(model, heldOut, 'mse', 12);
    const epochs: number[] = [];
    const tensorsBefore = tf.memory().numTensors;
    const losses = await trainAutoencoder(model, train, { epochs: 4, batchSize: 8, learningRate: 0.02, loss: 'mse' }, new Rng(2), (r) => void epochs.push(r.epoch));
    // The optimizer's moment estimates are the only tensors that may stay.
    const optimizerSlots = 2 * model.trainableWeights.length + 2;
    expect(tf.memory().numTensors - tensorsBefore).toBeLessThanOrEqual(optimizerSlots);
    expect(epochs).toEqual([0, 1, 2, 3]);
    expect(losses[3]).toBeLessThan(losses[0]);
    const after = reconstructionError(model, heldOut, 'mse', 12);
    expect(after).toBeLessThan(before * 0.9);
    // The binary cross-entropy loss (the reference implementation's) is finite and positive.
    expect(reconstructionError(model, heldOut, 'bce', 12)).toBeGreaterThan(0);
  });

  it('reconstruction keeps the shape and stays in [0, 1], without leaking tensors', () => {
    const model = buildAutoencoder({ inputShape: [8, 8, 3], filters: [4], seed: 3 });
    const t = autoencoderTransform(model);
    const x = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const y = t(x, new Rng(5));
    expect(y.shape).toEqual([3, 8, 8, 3]);
    expect(y.min().dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(y.max().dataSync()[0]).toBeLessThanOrEqual(1);
    y.dispose();
    const n = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) t(x, new Rng(i)).dispose();
    expect(tf.memory().numTensors).toBe(n);
  });

  it('rejects shapes the pooling cannot undo and bad settings', async () => {
    expect(() => buildAutoencoder({ inputShape: [10, 10, 3], filters: [4, 4], seed: 1 })).toThrow(/divisible by 4, got 10x10/);
    const model = buildAutoencoder({ inputShape: [4, 4, 3], filters: [2], seed: 1 });
    await expect(trainAutoencoder(model, makeSplit(2, new Rng(1)), { epochs: 0, batchSize: 2, learningRate: 0.01, loss: 'bce' }, new Rng(1))).rejects.toThrow(/epochs must be a positive integer, got 0/);
  });
});
