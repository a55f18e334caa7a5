import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../domain/common/rng.js';
import { activations } from '../../domain/models/graph.js';
import { buildModel } from '../../domain/models/zoo.js';
import { shuffledBatches } from '../../domain/training/batches.js';
import { toFloatImages } from '../../domain/common/pixels.js';
import { accuracy, predictLabels } from '../../domain/training/evaluate.js';
import { NonFiniteLossError, train, type TrainOptions } from '../../domain/training/loop.js';
import { quadrantImages } from './synthetic.js';
import { EPOCH_PHASE_KEYS, EPOCH_TIMING_KEYS } from '../../domain/training/types.js';

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(path.join(tmpdir(), 'train-loop-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const SIZE = 8;
const trainSet = quadrantImages(128, SIZE, 1);
const testSet = quadrantImages(96, SIZE, 2);

function recipe(overrides: Partial<TrainOptions> = {}): TrainOptions {
  return {
    epochs: 3,
    batchSize: 32,
    lr: 0.05,
    momentum: 0.9,
    weightDecay: 5e-4,
    milestones: [2],
    gamma: 0.1,
    seed: 0,
    batches: (_epoch, rng) => shuffledBatches(trainSet, 32, rng),
    ...overrides,
  };
}

/**
 * A conv + batch-norm + dense net small enough for the cpu backend (whose
 * filter-gradient kernel is very slow): what the loop must get right
 * (optimizer state, BN moving statistics, RNG) does not depend on size.
 */
function tinyNet(seed = 3): tf.LayersModel {
  const rng = new Rng(seed);
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, name: 'conv' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: 4, name: 'logits' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: logits });
  const values = model.weights.map((w) => {
    const positive = /moving_variance|gamma/.test(w.originalName);
    const shape = w.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(Float32Array.from({ length: count }, () => (positive ? rng.range(0.5, 1.5) : rng.range(-0.3, 0.3))), shape);
  });
  model.setWeights(values);
  tf.dispose(values);
  return model;
}

function weightsOf(model: tf.LayersModel, trainableOnly = false): number[][] {
  return (trainableOnly ? model.trainableWeights.map((w) => w.read()) : model.getWeights()).map((w) => Array.from(w.dataSync()));
}

describe('train', () => {
  it('learns a simple task well above chance, logging the curve and the schedule', async () => {
    const model = buildModel('small-cnn', { numClasses: 4, inputShape: [SIZE, SIZE, 3], seed: 1, width: 0.125 });
    const seen: number[] = [];
    const { curve } = await train(model, recipe({
      epochs: 5,
      milestones: [4],
      batchSize: 16,
      batches: (_epoch, rng) => shuffledBatches(trainSet, 16, rng),
      onEpochEnd: async (_e, m) => ({ testAcc: accuracy(predictLabels(m, testSet, 64), testSet.labels) }),
      progress: (p) => seen.push(p.batch),
    }));
    expect(curve.map((r) => r.epoch)).toEqual([0, 1, 2, 3, 4]);
    expect(curve.map((r) => r.lr)).toEqual([0.05, 0.05, 0.05, 0.05, expect.closeTo(0.005, 12)]);
    expect(curve[4].loss).toBeLessThan(curve[0].loss);
    expect(curve[4].testAcc).toBeGreaterThan(0.8);
    expect(curve[4].trainAcc).toBeGreaterThan(0.6);
    expect(seen.slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const r of curve) expect(r.imagesPerSecond).toBeGreaterThan(0);
  });

  it('records where each epoch went: the in-loop phases add up to its seconds, evaluation and checkpoint apart', async () => {
    const slowBatchMs = 15;
    const slowEvalMs = 150;
    const busy = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end); };
    const { curve } = await train(tinyNet(), recipe({
      epochs: 2,
      checkpointDir: path.join(root, 'phases'),
      // Preparation is the batch source's time: make each batch cost a known minimum.
      batches: (_e, rng) => (function* () { for (const b of shuffledBatches(trainSet, 32, rng)) { busy(slowBatchMs); yield b; } })(),
      onEpochEnd: async () => { busy(slowEvalMs); return {}; },
    }));
    for (const r of curve) {
      for (const k of EPOCH_PHASE_KEYS) expect(r[k]).toBeGreaterThanOrEqual(0);
      const inLoop = r.prepareSeconds + r.gradientSeconds + r.readSeconds + r.updateSeconds + r.otherSeconds;
      expect(inLoop).toBeCloseTo(r.seconds, 6);
      expect(r.gradientSeconds).toBeGreaterThan(0);
      expect(r.evalSeconds).toBeGreaterThanOrEqual(slowEvalMs / 1000);
      // Evaluation is outside the epoch's seconds (and so outside img/s), not hidden in 'other'.
      expect(r.otherSeconds).toBeLessThan(slowEvalMs / 1000);
      expect(r.checkpointSeconds).toBeGreaterThan(0);
    }
    // 128 images in batches of 32: four batches per epoch, each built when the loop asks for it.
    expect(curve[0].prepareSeconds).toBeGreaterThanOrEqual((4 * slowBatchMs) / 1000);
    expect(curve[0].gradientSeconds).toBeLessThan(curve[0].seconds);
  });

  it('closes the batch source when a step fails or the run is aborted, so its tensors are freed', async () => {
    for (const failure of ['abort', 'bad batch'] as const) {
      let closed = false;
      const controller = new AbortController();
      const model = tinyNet();
      const before = tf.memory().numTensors;
      const source = (_e: number, rng: Rng) => (function* () {
        try {
          let k = 0;
          for (const b of shuffledBatches(trainSet, 32, rng)) {
            // A batch source like adversarialBatches keeps a tensor of its own across the yield.
            const own = tf.zeros([1]);
            try {
              if (failure === 'bad batch' && k === 1) {
                b.y.dispose();
                yield { x: b.x, y: tf.zeros([3], 'int32') as tf.Tensor1D };
              } else yield b;
            } finally {
              own.dispose();
            }
            k += 1;
          }
        } finally {
          closed = true;
        }
      })();
      const run = train(model, recipe({
        epochs: 1, signal: controller.signal, batches: source,
        progress: (p) => { if (failure === 'abort' && p.batch === 0) controller.abort(); },
      }));
      await expect(run).rejects.toThrow(failure === 'abort' ? /abort/i : /labels/);
      expect(closed, failure).toBe(true);
      expect(tf.memory().numTensors, failure).toBe(before);
      model.dispose();
    }
  });

  it('updates batch-norm moving statistics during the step (PyTorch momentum 0.1)', async () => {
    const model = buildModel('resnet20', { numClasses: 4, inputShape: [SIZE, SIZE, 3], seed: 3, width: 0.25 });
    const batch = toFloatImages(trainSet.images.subarray(0, 16 * SIZE * SIZE * 3), trainSet);
    const before = activations(model, batch, ['stem_conv']).stem_conv;
    const { mean, variance } = tf.moments(before, [0, 1, 2]);
    // lr 0 so the weights stay put and the expected statistics are those of this batch.
    await train(model, recipe({ epochs: 1, lr: 1e-30, milestones: [], batches: () => [{ x: batch.clone(), y: tf.tensor1d(Array.from(trainSet.labels.subarray(0, 16)), 'int32') }] }));
    const [, , movingMean, movingVar] = model.getLayer('stem_bn').getWeights();
    const expectedMean = mean.mul(0.1).dataSync();
    const expectedVar = variance.mul(0.1).add(0.9).dataSync();
    Array.from(movingMean.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedMean[i], 5));
    Array.from(movingVar.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedVar[i], 5));
    tf.dispose([batch, before, mean, variance]);
  });

  it('resumes after an interruption to the same weights and curve as an uninterrupted run', async () => {
    const straight = tinyNet();
    const a = await train(straight, recipe({ checkpointDir: path.join(root, 'straight') }));

    const dir = path.join(root, 'interrupted');
    const controller = new AbortController();
    const first = tinyNet();
    await expect(train(first, recipe({
      checkpointDir: dir,
      signal: controller.signal,
      progress: (p) => { if (p.epoch === 1 && p.batch === 2) controller.abort(); },
    }))).rejects.toThrow(/abort/i);
    expect((await readFile(path.join(dir, 'LATEST'), 'utf8')).trim()).toBe('epoch-0001');

    // A fresh process would build the model from scratch: use another init to prove the checkpoint wins.
    const resumed = tinyNet(99);
    const b = await train(resumed, recipe({ checkpointDir: dir }));
    expect(b.resumedAt).toBe(1);
    expect(weightsOf(resumed)).toEqual(weightsOf(straight));
    const timing = new Set<string>(EPOCH_TIMING_KEYS);
    const strip = (c: typeof a.curve) => c.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !timing.has(k))));
    expect(strip(b.curve)).toEqual(strip(a.curve));
    expect((await readdir(dir)).sort()).toEqual(['LATEST', 'epoch-0003']);

    // A finished run resumes to nothing; a changed recipe is refused by name.
    expect((await train(resumed, recipe({ checkpointDir: dir }))).resumedAt).toBe(3);
    await expect(train(tinyNet(), recipe({ checkpointDir: dir, lr: 0.1 }))).rejects.toThrow(/lr=0.05.*lr=0.1/);
  });

  it('reacts to an abort that arrives from a timer in the middle of training', async () => {
    const controller = new AbortController();
    let batches = 0;
    setTimeout(() => controller.abort(), 30);
    await expect(train(tinyNet(), recipe({ epochs: 200, milestones: [], signal: controller.signal, progress: () => { batches += 1; } }))).rejects.toThrow(/abort/i);
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThan(200 * 4);
  });

  it('stops on a non-finite loss naming epoch and batch, without applying that step', async () => {
    const model = tinyNet();
    let weightsBefore: number[][] = [];
    const batches = (epoch: number) => {
      const good = shuffledBatches(trainSet, 32, new Rng(epoch));
      return (function* () {
        let b = 0;
        for (const batch of good) {
          if (epoch === 1 && b === 2) {
            weightsBefore = weightsOf(model, true);
            batch.x.dispose();
            yield { x: tf.fill([32, SIZE, SIZE, 3], Number.NaN) as tf.Tensor4D, y: batch.y };
          } else yield batch;
          b += 1;
        }
      })();
    };
    const start = tf.memory().numTensors;
    const err = await train(model, recipe({ batches })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toMatch(/NaN at epoch 2, batch 3 \(0-based epoch 1, batch 2\)/);
    // Trainable weights are untouched; BN moving statistics already saw the bad batch in the forward pass.
    expect(weightsOf(model, true)).toEqual(weightsBefore);
    // The generator's remaining batches were never created; nothing of the loop's stays alive.
    expect(tf.memory().numTensors).toBe(start);
  });

  it('does not grow the tensor count across batches and epochs', async () => {
    const model = tinyNet();
    const counts: number[] = [];
    const perBatch: number[] = [];
    const start = tf.memory().numTensors;
    await train(model, recipe({
      epochs: 3,
      onEpochEnd: async () => {
        counts.push(tf.memory().numTensors);
        return {};
      },
      progress: (p) => { if (p.epoch === 1) perBatch.push(tf.memory().numTensors); },
    }));
    expect(counts[2]).toBe(counts[1]);
    // Momentum buffers are freed when train() returns.
    expect(tf.memory().numTensors).toBe(start);
    expect(new Set(perBatch).size).toBe(1);
  });

  it('rejects oversized batches and clashing metric names', async () => {
    const model = tinyNet();
    await expect(train(model, recipe({ batchSize: 16 }))).rejects.toThrow(/32 images, more than batchSize 16/);
    await expect(train(model, recipe({ epochs: 1, onEpochEnd: async () => ({ loss: 1 }) }))).rejects.toThrow(/'loss' clashes/);
    await expect(train(model, recipe({ epochs: 0 }))).rejects.toThrow(/epochs.*got 0/);
  });
});
