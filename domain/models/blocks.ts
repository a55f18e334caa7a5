/**
 * Layer helpers shared by the architecture builders. Batch norm uses
 * PyTorch's settings (momentum 0.1 there is 0.9 here, epsilon 1e-5), so that a
 * recipe tuned in PyTorch means the same thing. Kernels start at zero: the
 * seeded initialiser (init.ts) overwrites them, and zeros cost nothing to build.
 */
import * as tf from '@tensorflow/tfjs';

export type Sym = tf.SymbolicTensor;

/** What a builder returns before metadata is attached. */
export interface Built {
  model: tf.LayersModel;
  featureLayer: string;
  gateLayers: string[];
  /** Classifier weights N(0, std), zero bias; absent = PyTorch's nn.Linear default. */
  denseStd?: number;
}

/** PyTorch's BatchNorm2d momentum 0.1 is Keras' 0.9 (the weight of the old value). */
const BN_MOMENTUM = 0.9;
const BN_EPSILON = 1e-5;

export function scaledChannels(channels: number, width: number): number {
  return Math.max(1, Math.round(channels * width));
}

export function conv(x: Sym, filters: number, kernelSize: number, strides: number, useBias: boolean, name: string): Sym {
  // Stride-2 3x3 convs pad one pixel on every side like PyTorch's padding=1;
  // TF's 'same' would pad only bottom/right and shift the sampling grid.
  const padded = strides > 1 && kernelSize > 1;
  const input = padded
    ? (tf.layers.zeroPadding2d({ padding: (kernelSize - 1) / 2, name: `${name}_pad` }).apply(x) as Sym)
    : x;
  return tf.layers
    .conv2d({
      filters,
      kernelSize,
      strides,
      padding: padded || kernelSize === 1 ? 'valid' : 'same',
      useBias,
      kernelInitializer: 'zeros',
      biasInitializer: 'zeros',
      name,
    })
    .apply(input) as Sym;
}

export function batchNorm(x: Sym, name: string): Sym {
  return tf.layers.batchNormalization({ axis: -1, momentum: BN_MOMENTUM, epsilon: BN_EPSILON, name }).apply(x) as Sym;
}

export function relu(x: Sym, name: string): Sym {
  return tf.layers.reLU({ name }).apply(x) as Sym;
}

export function maxPool(x: Sym, name: string): Sym {
  // 'same' equals PyTorch's floor mode on even sizes and lets tiny test inputs reach 1x1 without vanishing.
  return tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same', name }).apply(x) as Sym;
}

export function classifier(x: Sym, numClasses: number): Sym {
  return tf.layers
    .dense({ units: numClasses, kernelInitializer: 'zeros', biasInitializer: 'zeros', name: 'logits' })
    .apply(x) as Sym;
}
