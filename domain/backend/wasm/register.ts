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
import { batchNormGradConfig, batchNormGradKernel, BN_GRAD_KERNEL } from './batch-norm-grad.js';

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
  { kernelName: BN_GRAD_KERNEL, make: () => batchNormGradKernel() },
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
  installBatchNormGradient();
  return trainingKernelNames();
}

let stockBatchNormGradient: tf.GradConfig | undefined;

/** Gradients are global, not per backend: the replacement defers to the stock one off wasm. */
function installBatchNormGradient(): void {
  stockBatchNormGradient ??= tf.getGradient('FusedBatchNorm');
  if (!stockBatchNormGradient) throw new Error('tfjs-core has no FusedBatchNorm gradient to wrap');
  tf.registerGradient(batchNormGradConfig(stockBatchNormGradient));
}
