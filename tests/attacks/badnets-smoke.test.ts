/**
 * End to end on a small synthetic task: a small CNN trained on a BadNets-poisoned set learns the
 * backdoor (ASR > 90%), while the same network trained on clean data does not (ASR near its
 * clean target rate). The network is a small MLP and the training loop a plain SGD loop, so that this test exercises
 * the attack modules alone.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import type { LabelledImages } from '../../domain/common/types.js';
import { badNetsTrigger } from '../../domain/attacks/trigger.js';
import { choosePoisoned } from '../../domain/attacks/poison.js';
import { poisonedBatches, type Batch } from '../../domain/attacks/batches.js';
import { crossEntropy } from '../../domain/attacks/pgd.js';
import { evaluateModel } from '../../domain/metrics/evaluate.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SIDE = 12;
const TARGET = 4;
const EPOCHS = 15;
/**
 * Ten classes told apart by colour: each class has a fixed palette colour, each image that colour
 * with a random brightness shift and per-pixel noise. An MLP learns it in a few epochs, so the test
 * is about the backdoor, not about how hard the task is.
 */
function colourTask(perClass: number, seed: string): LabelledImages {
  const palette = new Rng('palette');
  const colours = Array.from({ length: 10 }, () => [palette.int(20, 235), palette.int(20, 235), palette.int(20, 235)]);
  const rng = new Rng(seed);
  const count = perClass * 10;
  const size = SIDE * SIDE * 3;
  const images = new Uint8Array(count * size);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  labels.forEach((label, n) => {
    const shift = rng.range(-20, 20);
    for (let p = 0; p < SIDE * SIDE; p++) for (let c = 0; c < 3; c++) {
      images[n * size + p * 3 + c] = Math.max(0, Math.min(255, Math.round(colours[label][c] + shift + 25 * rng.normal())));
    }
  });
  return { images, labels, count, height: SIDE, width: SIDE, channels: 3 };
}
const data = { train: colourTask(50, 'train'), test: colourTask(20, 'test') };
const trigger = badNetsTrigger({ imageShape: [SIDE, SIDE, 3], value: 255, alpha: 1 });

/** A small MLP: the pure-JS backend trains it in seconds, and a fixed-position trigger is easy for it. */
function smallNet(seed: number): tf.LayersModel {
  const init = (k: number) => tf.initializers.heNormal({ seed: seed + k });
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [SIDE, SIDE, 3] }),
      tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(0) }),
      tf.layers.dense({ units: 10, kernelInitializer: init(1) }),
    ],
  });
}

function fit(model: tf.LayersModel, batches: (epoch: number, rng: Rng) => Iterable<Batch>, epochs: number): void {
  const optimizer = tf.train.momentum(0.01, 0.9);
  const rng = new Rng('train');
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const { x, y } of batches(epoch, rng)) {
      optimizer.minimize(() => crossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, y));
      x.dispose();
      y.dispose();
    }
  }
  optimizer.dispose();
}

describe('BadNets on synthetic data', () => {
  it('a poisoned model learns the backdoor; a benign one does not', () => {
    const selection = choosePoisoned(data.train.labels, { mode: 'non-target', ratio: 0.1, target: TARGET, seed: 0 });
    const poisonedSet = { images: data.train.images, labels: selection.labels, isPoisoned: selection.isPoisoned, shape: [SIDE, SIDE, 3] as [number, number, number] };
    const benignSet = { ...poisonedSet, labels: data.train.labels, isPoisoned: new Uint8Array(data.train.count) };
    const augment = { padding: 2, flipProbability: 0.5 };

    const attacked = smallNet(1);
    fit(attacked, poisonedBatches(poisonedSet, { batchSize: 32, augment, trigger }), EPOCHS);
    const benign = smallNet(1);
    fit(benign, poisonedBatches(benignSet, { batchSize: 32, augment }), EPOCHS);

    const opts = { batchSize: 100, target: TARGET, trigger, rng: new Rng(0) };
    const a = evaluateModel(attacked, data.test, opts);
    const b = evaluateModel(benign, data.test, opts);
    console.log(`attacked: clean ${a.cleanAccuracy.toFixed(3)} ASR ${a.asr!.toFixed(3)} clean->target ${a.targetRateClean.toFixed(3)}; benign: clean ${b.cleanAccuracy.toFixed(3)} ASR ${b.asr!.toFixed(3)} clean->target ${b.targetRateClean.toFixed(3)}`);
    expect(a.asr!).toBeGreaterThan(0.9);
    expect(a.targetRateClean).toBeLessThan(0.1);
    expect(b.asr!).toBeLessThan(0.1);
    expect(b.cleanAccuracy).toBeGreaterThan(0.8);
    expect(a.cleanAccuracy).toBeGreaterThan(0.8);
  });
});
