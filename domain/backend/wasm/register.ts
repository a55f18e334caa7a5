/**
 * Installs the training kernels on the wasm backend. Idempotent: the stock
 * kernels are remembered once, so registering twice replaces ours with ours.
 */
import * as tf from '@tensorflow/tfjs';
import { rememberOriginal } from './kernel-calls.js';
import { conv2DBackpropFilterKernel, conv2DBackpropInputKernel } from './conv-backprop.js';
import { maxPoolGradKernel } from './pooling.js';
import { sumKernel } from './reductions.js';
import { castKernel, identityKernel, sliceKernel, tileKernel } from './data-movement.js';
import { BROADCAST_LEADING_KERNEL, broadcastLeadingKernel, meanFastGrad, RELU_GRAD_KERNEL, reluFastGrad, reluGradKernel, SQUARE_GRAD_KERNEL, squareFastGrad, squareGradKernel, wasmFirstGradient } from './elementwise-grads.js';
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
  { kernelName: 'Slice', make: (stock) => sliceKernel(stock) },
  { kernelName: 'Cast', make: (stock) => castKernel(stock) },
  { kernelName: BN_GRAD_KERNEL, make: () => batchNormGradKernel() },
  { kernelName: RELU_GRAD_KERNEL, make: () => reluGradKernel() },
  { kernelName: SQUARE_GRAD_KERNEL, make: () => squareGradKernel() },
  { kernelName: BROADCAST_LEADING_KERNEL, make: () => broadcastLeadingKernel() },
];

/** Names of the kernels this module provides for 'wasm' (recorded in meta.json). */
export function trainingKernelNames(): string[] {
  return trainingKernels.map((k) => k.kernelName);
}

export function registerWasmTrainingKernels(): string[] {
  // Stock kernels our compositions call must be captured before any is replaced.
  for (const name of ['Conv2D', 'Transpose', 'Slice', 'BatchMatMul']) rememberOriginal(name);
  for (const { kernelName, make } of trainingKernels) {
    // Our own kernel names have no stock version; asking would capture ours on a second registration.
    const stock = kernelName.startsWith(OWN_KERNEL_PREFIX) ? undefined : rememberOriginal(kernelName);
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: make(stock) });
  }
  installGradients();
  return trainingKernelNames();
}

const OWN_KERNEL_PREFIX = 'TriggerLab';

// Like tfjs's own kernel and gradient registries, this is per process: it keeps
// the stock gradients so that registering twice wraps the stock ones, not ours.
const stockGradients = new Map<string, tf.GradConfig>();

function stockGradient(kernelName: string): tf.GradConfig {
  if (!stockGradients.has(kernelName)) {
    const g = tf.getGradient(kernelName);
    if (!g) throw new Error(`tfjs-core has no ${kernelName} gradient to wrap`);
    stockGradients.set(kernelName, g);
  }
  return stockGradients.get(kernelName)!;
}

/** Gradients are global, not per backend: each replacement defers to the stock one off wasm. */
function installGradients(): void {
  tf.registerGradient(batchNormGradConfig(stockGradient('FusedBatchNorm')));
  tf.registerGradient(wasmFirstGradient(stockGradient('Relu'), reluFastGrad));
  tf.registerGradient(wasmFirstGradient(stockGradient('Mean'), meanFastGrad));
  tf.registerGradient(wasmFirstGradient(stockGradient('Square'), squareFastGrad));
}
