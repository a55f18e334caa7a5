/**
 * Plumbing for training kernels that are compositions of the wasm backend's own
 * kernels: call a registered kernel function directly (no tape, no engine
 * bookkeeping) and free the intermediates it produced.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type TensorInfo = tf.TensorInfo;
export type Attrs = tf.NamedAttrMap;

/**
 * The kernels as registered by @tensorflow/tfjs-backend-wasm, captured before
 * ours replace any of them. Per process, like the tfjs kernel registry it mirrors.
 */
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

/**
 * A tensor over memory owned by another tensor, starting `offsetElems` floats
 * into it (no copy). Release it with `releaseView`, never `disposeInfo`: the
 * memory belongs to the parent.
 */
export function viewInto(backend: BackendWasm, parent: TensorInfo, offsetElems: number, shape: number[]): TensorInfo {
  const size = shape.reduce((a, b) => a * b, 1);
  const parentSize = parent.shape.reduce((a, b) => a * b, 1);
  if (offsetElems < 0 || offsetElems + size > parentSize) {
    throw new Error(`view of ${size} floats at ${offsetElems} does not fit in a tensor of ${parentSize}`);
  }
  const base = backend.dataIdMap.get(parent.dataId)!.memoryOffset;
  return backend.makeOutput(shape, 'float32', base + offsetElems * Float32Array.BYTES_PER_ELEMENT);
}

export function releaseView(backend: BackendWasm, view: TensorInfo): void {
  const data = backend.dataIdMap.get(view.dataId);
  if (!data) return;
  backend.dataIdMap.delete(view.dataId);
  // Drops the C++ side's record (and any operator cached for it) without freeing the parent's memory.
  (backend.wasm as unknown as { tfjs: { disposeData(id: number): void } }).tfjs.disposeData(data.id);
}
