/**
 * Seeded weight initialisation from the project's Rng, so that a seed gives
 * the same weights on every backend and in every process.
 *
 * The recipe follows the PyTorch code the paper builds on (bearpaw's
 * pytorch-classification, torchvision's ResNet): conv kernels are
 * Kaiming-normal with fan-out and ReLU gain, std = sqrt(2 / (k*k*out)); conv
 * biases start at zero; dense layers keep PyTorch's nn.Linear default,
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, unless the
 * architecture asks for N(0, std) weights and zero bias (bearpaw's VGG uses
 * std 0.01); batch norm starts
 * at gamma 1, beta 0 (set when the layers are built). Each layer draws from
 * its own fork of the seed, keyed by layer name, so changing one layer does
 * not shift the others' draws.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../common/rng.js';

type Draw = (rng: Rng, count: number) => Float32Array;

// Box-Muller keeping both values of each pair: half the uniform draws of
// Rng.normal, which matters for the 20 M weights of VGG-19 and ResNet-34.
const normal = (std: number): Draw => (rng, count) => {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    let u = 0;
    while (u === 0) u = rng.uniform();
    const radius = std * Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * rng.uniform();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
};

const uniform = (bound: number): Draw => (rng, count) => {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.range(-bound, bound);
  return out;
};

const zeros: Draw = (_rng, count) => new Float32Array(count);

export interface InitOptions {
  /** Dense weights N(0, std) and zero bias instead of PyTorch's default uniform. */
  denseStd?: number;
}

/** How to draw one weight of a layer, or null to keep its build-time value. */
function drawFor(className: string, role: string, kernelShape: number[], opts: InitOptions): Draw | null {
  if (className === 'Conv2D') {
    const [kh, kw, , out] = kernelShape;
    return role === 'kernel' ? normal(Math.sqrt(2 / (kh * kw * out))) : zeros;
  }
  if (className === 'Dense') {
    if (opts.denseStd !== undefined) return role === 'kernel' ? normal(opts.denseStd) : zeros;
    return uniform(1 / Math.sqrt(kernelShape[0]));
  }
  return null;
}

export function initialiseWeights(model: tf.LayersModel, seed: number, opts: InitOptions = {}): void {
  const root = new Rng(`init/${seed}`);
  for (const layer of model.layers) {
    const weights = layer.weights;
    const kernel = weights.find((w) => w.originalName.endsWith('/kernel'));
    if (!kernel) continue;
    const rng = root.fork(layer.name);
    const values: tf.Tensor[] = [];
    let changed = false;
    for (const w of weights) {
      const role = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
      const draw = drawFor(layer.getClassName(), role, kernel.shape as number[], opts);
      if (draw) changed = true;
      const shape = w.shape as number[];
      const count = shape.reduce((a, b) => a * b, 1);
      values.push(draw ? tf.tensor(draw(rng, count), shape) : w.read().clone());
    }
    if (changed) layer.setWeights(values);
    tf.dispose(values);
  }
}
