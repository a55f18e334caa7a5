/**
 * A tiny synthetic task with a strong BadNets backdoor, for the Neural Cleanse tests: each class is
 * a distinct colour plus per-pixel noise, and a 3x3 white square in the bottom-right corner sends
 * anything to the target. Quick to learn on the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../../domain/common/types.js';
import { Rng } from '../../domain/common/rng.js';

export const SIZE = 12;
export const CLASSES = 6;
export const TARGET = 4;
const COLORS = [
  [200, 40, 40], [40, 200, 40], [40, 40, 200], [200, 200, 40], [200, 40, 200], [40, 200, 200],
];
const NOISE = 40;
const PATCH = 3;

export function stampPatchUint8(images: Uint8Array, index: number): void {
  for (let r = SIZE - PATCH; r < SIZE; r++) for (let q = SIZE - PATCH; q < SIZE; q++) for (let ch = 0; ch < 3; ch++) images[((index * SIZE + r) * SIZE + q) * 3 + ch] = 255;
}

export function makeSplit(count: number, rng: Rng): LabelledImages {
  const images = new Uint8Array(count * SIZE * SIZE * 3);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % CLASSES;
    labels[i] = label;
    for (let p = 0; p < SIZE * SIZE; p++) for (let ch = 0; ch < 3; ch++) {
      images[(i * SIZE * SIZE + p) * 3 + ch] = Math.max(0, Math.min(255, Math.round(COLORS[label][ch] + NOISE * rng.normal())));
    }
  }
  return { images, labels, count, height: SIZE, width: SIZE, channels: 3 };
}

/** The training set with `ratio` of the non-target images stamped and relabelled to the target. */
export function poisonSplit(split: LabelledImages, ratio: number, rng: Rng): LabelledImages {
  const images = split.images.slice();
  const labels = split.labels.slice();
  for (let i = 0; i < split.count; i++) {
    if (labels[i] !== TARGET && rng.bool(ratio)) {
      stampPatchUint8(images, i);
      labels[i] = TARGET;
    }
  }
  return { ...split, images, labels };
}

export function stampPatch(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const mask = tf.buffer([1, SIZE, SIZE, 1]);
    for (let r = SIZE - PATCH; r < SIZE; r++) for (let q = SIZE - PATCH; q < SIZE; q++) mask.set(1, 0, r, q, 0);
    const m = mask.toTensor();
    return tf.add(tf.mul(x, tf.sub(1, m)), m) as tf.Tensor4D;
  });
}

export function buildClassifier(seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [SIZE, SIZE, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(0) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'last_conv' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: CLASSES, kernelInitializer: init(2) }));
  return model;
}

/** Trains with Adam on batches drawn in an Rng-shuffled order (fit's own shuffle would use Math.random). */
export async function trainClassifier(model: tf.LayersModel, split: LabelledImages, epochs: number, rng: Rng): Promise<void> {
  model.compile({ optimizer: tf.train.adam(0.01), loss: (y: tf.Tensor, p: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, p) });
  for (let e = 0; e < epochs; e++) {
    const order = rng.permutation(split.count);
    const size = SIZE * SIZE * 3;
    const pixels = new Float32Array(split.count * size);
    const labels: number[] = [];
    order.forEach((row, k) => {
      for (let j = 0; j < size; j++) pixels[k * size + j] = split.images[row * size + j] / 255;
      labels.push(split.labels[row]);
    });
    const x = tf.tensor4d(pixels, [split.count, SIZE, SIZE, 3]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES);
    await model.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
    tf.dispose([x, y]);
  }
}
