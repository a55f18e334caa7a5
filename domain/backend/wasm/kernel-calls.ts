/**
 * Plumbing for training kernels that are compositions of the wasm backend's own
 * kernels: call a registered kernel function directly (no tape, no engine
 * bookkeeping) and free the intermediates it produced.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type TensorInfo = tf.TensorInfo;
export type Attrs = tf.NamedAttrMap;

/** The kernels as registered by @tensorflow/tfjs-backend-wasm, captured before ours replace any of them. */
const originals = new Map<string, tf.KernelFunc>();

export function rememberOriginal(kernelName: string): tf.KernelFunc | undefined {
  if (!originals.has(kernelName)) {
    const config = tf.getKernel(kernelName, 'wasm');
    if (config) originals.set(kernelName, config.kernelFunc);
  }
  return originals.get(kernelName);
}

/** Runs the backend's stock implementation of `kernelName` on `inputs`. */
export function callWasmKernel(
  backend: BackendWasm,
  kernelName: string,
  inputs: Record<string, TensorInfo>,
  attrs: Attrs = {},
): TensorInfo {
  const fn = originals.get(kernelName) ?? tf.getKernel(kernelName, 'wasm')?.kernelFunc;
  if (!fn) throw new Error(`wasm backend has no kernel '${kernelName}'`);
  const out = fn({ inputs, attrs, backend });
  if (Array.isArray(out)) throw new Error(`kernel '${kernelName}' returned several outputs where one was expected`);
  return out;
}

export function disposeInfo(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** A fresh float32 output on the wasm heap and a view of its memory. */
export function allocFloat32(backend: BackendWasm, shape: number[]): { info: TensorInfo; data: Float32Array } {
  const info = backend.makeOutput(shape, 'float32');
  return { info, data: backend.typedArrayFromHeap(info) as Float32Array };
}

/**
 * A view of a tensor's memory on the wasm heap. Views go stale when the heap
 * grows, so take them after every allocation of the kernel is done.
 */
export function heapView(backend: BackendWasm, info: TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${info.dtype}`);
  return backend.typedArrayFromHeap(info) as Float32Array;
}
