/** Tiny models and data for the analyses tests (cpu backend, 8x8 images). */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import type { LabelledImages } from '../../domain/common/types.js';
import { badNetsTrigger, type Trigger } from '../../domain/attacks/trigger.js';
import type { HookRunner } from '../../domain/analyses/cdrp.js';

export const SIDE = 8;
export const CLASSES = 4;
export const TARGET = 1;

export function randomSplit(count: number, seed: string): LabelledImages {
  const rng = new Rng(seed);
  const images = new Uint8Array(count * SIDE * SIDE * 3).map(() => rng.int(0, 255));
  const labels = new Uint8Array(count).map(() => rng.int(0, CLASSES - 1));
  return { images, labels, count, height: SIDE, width: SIDE, channels: 3 };
}

export function trigger(value = 255): Trigger {
  return badNetsTrigger({ imageShape: [SIDE, SIDE, 3], value, alpha: 1 });
}

/**
 * A linear "backdoored" classifier: the target logit is a matched filter of the trigger (white
 * cells +1, black cells -1, inside the box), so the exact trigger fires it and a moved or dimmed
 * one does not; the other logits are small random functions of the image.
 */
export function triggerDetector(t: Trigger, gain = 4, threshold = 3.5): tf.LayersModel {
  const n = SIDE * SIDE * 3;
  const rng = new Rng('detector');
  const w = new Float32Array(n * CLASSES);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < CLASSES; c++) w[i * CLASSES + c] = (rng.uniform() - 0.5) * 0.02;
    if (t.mask[i] > 0) w[i * CLASSES + TARGET] = (gain * (2 * t.pattern[i] - 1)) / 3;
  }
  const b = new Float32Array(CLASSES);
  b[TARGET] = -gain * threshold / 1;
  const input = tf.input({ shape: [SIDE, SIDE, 3] });
  const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: CLASSES, weights: [tf.tensor2d(w, [n, CLASSES]), tf.tensor1d(b)] }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** A small conv net with two per-channel activation layers (the CDRP gate layers). */
export function tinyConvNet(seed: number): { model: tf.LayersModel; gateLayers: string[] } {
  const input = tf.input({ shape: [SIDE, SIDE, 3] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'r1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'c2', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'r2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: CLASSES, name: 'fc', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  // Sharpen the classifier so that predictions have margins, as a trained network's do.
  const fc = model.getLayer('fc');
  fc.setWeights(fc.getWeights().map((w) => tf.tidy(() => tf.mul(w, 10))));
  return { model, gateLayers: ['r1', 'r2'] };
}

/** Re-executes a chain-shaped model layer by layer, applying hooks to named layers' outputs. */
export const chainHookRunner: HookRunner = (model, x, hooks) => {
  let t: tf.Tensor = x;
  for (const layer of model.layers.slice(1)) {
    t = layer.apply(t) as tf.Tensor;
    const hook = hooks[layer.name];
    if (hook) t = hook(t);
  }
  return t;
};
