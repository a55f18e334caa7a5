/** Small fixtures for the defense tests: synthetic splits and a hook runner for sequential models. */
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../../domain/common/types.js';
import type { Rng } from '../../domain/common/rng.js';
import type { HookRunner } from '../../domain/defenses/fine-pruning.js';

/** A split whose every pixel is `value` (0-255), labels drawn from `labels` cyclically. */
export function constantSplit(count: number, size: number, value: number, labels: number[]): LabelledImages {
  return {
    images: new Uint8Array(count * size * size * 3).fill(value),
    labels: Uint8Array.from({ length: count }, (_, i) => labels[i % labels.length]),
    count,
    height: size,
    width: size,
    channels: 3,
  };
}

export function noiseSplit(count: number, size: number, classes: number, rng: Rng): LabelledImages {
  return {
    images: Uint8Array.from({ length: count * size * size * 3 }, () => rng.int(0, 255)),
    labels: Uint8Array.from({ length: count }, () => rng.int(0, classes - 1)),
    count,
    height: size,
    width: size,
    channels: 3,
  };
}

/** Re-executes a sequential model layer by layer, applying `hooks` to named layers' outputs. */
export const sequentialHooks: HookRunner = (model, x, hooks) => {
  let t = x;
  for (const layer of model.layers) {
    const next = layer.apply(t) as tf.Tensor;
    const hook = hooks[layer.name];
    t = hook ? hook(next) : next;
  }
  return t;
};

export function tinyConvNet(size: number, classes: number, seed: number, featureName = 'features'): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [size, size, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: featureName, kernelInitializer: tf.initializers.glorotUniform({ seed }) }));
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: classes, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }));
  return model;
}
