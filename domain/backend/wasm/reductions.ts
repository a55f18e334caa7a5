/**
 * Sum over leading axes (bias and batch-norm gradients reduce [N,H,W,C] to [C]).
 * The stock wasm Sum transposes the reduced axes to the end first, which costs
 * more than the sum itself; here it is one pass over the heap.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { allocFloat32, heapView, type TensorInfo } from './kernel-calls.js';
import { columnSums, simdChannels } from './simd-kernels.js';

/** Number of leading elements reduced when `axes` are exactly the first k axes, else null. */
export function leadingAxesCount(shape: number[], axes: number[]): number | null {
  const sorted = [...new Set(axes.map((a) => (a < 0 ? a + shape.length : a)))].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.length === shape.length) return null;
  if (!sorted.every((a, i) => a === i)) return null;
  return sorted.length;
}

/** out[j] = sum_i x[i, j] for x viewed as [outer, inner]; accumulates in float64. */
export function sumLeading(backend: BackendWasm, x: TensorInfo, k: number, keepDims: boolean): TensorInfo {
  const outer = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const innerShape = x.shape.slice(k);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...innerShape] : innerShape;
  const out = allocFloat32(backend, outShape);
  if (simdChannels(inner)) {
    const sums = columnSums(backend, x, outer, inner);
    heapView(backend, out.info).set(sums);
    return out.info;
  }
  const src = heapView(backend, x);
  const dst = heapView(backend, out.info);
  const acc = new Float64Array(inner);
  for (let i = 0; i < outer; i++) {
    const base = i * inner;
    for (let j = 0; j < inner; j++) acc[j] += src[base + j];
  }
  dst.set(acc);
  return out.info;
}

/** Sum, or Mean when `mean` is set, over leading axes; other reductions go to the stock kernel. */
export function sumKernel(stock: tf.KernelFunc | undefined, mean = false): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const axes = Array.isArray(axis) ? axis : [axis];
    const k = x.dtype === 'float32' ? leadingAxesCount(x.shape, axes) : null;
    if (k === null) {
      if (!stock) throw new Error(`Sum on wasm: no kernel for axes ${JSON.stringify(axes)} of shape [${x.shape}]`);
      return stock(args);
    }
    const out = sumLeading(args.backend as BackendWasm, x, k, keepDims);
    if (mean) {
      const count = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
      const v = heapView(args.backend as BackendWasm, out);
      for (let i = 0; i < v.length; i++) v[i] /= count;
    }
    return out;
  };
}
