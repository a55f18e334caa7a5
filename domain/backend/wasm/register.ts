/**
 * Installs the training kernels on the wasm backend. Idempotent: the stock
 * kernels are remembered once, so registering twice replaces ours with ours.
 */
import * as tf from '@tensorflow/tfjs';
import { rememberOriginal } from './kernel-calls.js';
import { conv2DBackpropFilterKernel, conv2DBackpropInputKernel } from './conv-backprop.js';
import { maxPoolGradKernel } from './pooling.js';
import { sumKernel } from './reductions.js';
import { identityKernel, tileKernel } from './data-movement.js';

interface TrainingKernel {
  kernelName: string;
  make: (stock: tf.KernelFunc | undefined) => tf.KernelFunc;
}

const trainingKernels: TrainingKernel[] = [
  { kernelName: 'Conv2DBackpropInput', make: (stock) => conv2DBackpropInputKernel(stock) },
  { kernelName: 'Conv2DBackpropFilter', make: () => conv2DBackpropFilterKernel() },
  { kernelName: 'MaxPoolGrad', make: () => maxPoolGradKernel() },
  { kernelName: 'Sum', make: (stock) => sumKernel(stock) },
  { kernelName: 'Mean', make: (stock) => sumKernel(stock, true) },
  { kernelName: 'Identity', make: (stock) => identityKernel(stock) },
  { kernelName: 'Tile', make: () => tileKernel() },
];

/** Names of the kernels this module provides for 'wasm' (recorded in meta.json). */
export function trainingKernelNames(): string[] {
  return trainingKernels.map((k) => k.kernelName);
}

export function registerWasmTrainingKernels(): string[] {
  // Stock kernels our compositions call must be captured before any is replaced.
  for (const name of ['Conv2D', 'Transpose', 'Slice', 'BatchMatMul']) rememberOriginal(name);
  for (const { kernelName, make } of trainingKernels) {
    const stock = rememberOriginal(kernelName);
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: make(stock) });
  }
  return trainingKernelNames();
}
