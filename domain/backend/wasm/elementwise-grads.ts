/**
 * One-pass gradients for ops that tfjs-core differentiates with several
 * full-size elementwise ops: ReLU (dy * step(x): two passes and a temporary),
 * Square (dy * (x * 2): two; batch-norm statistics square every activation)
 * and Mean over leading axes (ones(x) * dy / n: three). Used on wasm only;
 * every other backend, and every shape not covered, keeps the stock gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { allocFloat32, heapView, type TensorInfo } from './kernel-calls.js';
import { leadingAxesCount } from './reductions.js';
import { reluGradInto, scaledProductInto } from './simd-kernels.js';

export const RELU_GRAD_KERNEL = 'TriggerLabReluGrad';
export const SQUARE_GRAD_KERNEL = 'TriggerLabSquareGrad';
export const BROADCAST_LEADING_KERNEL = 'TriggerLabBroadcastLeading';

/** dx = dy where x > 0, 0 where x <= 0, NaN where x is NaN or infinite (a diverged run; the stock gradient passes dy at +Infinity). */
export function reluGradKernel(): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
    const b = backend as BackendWasm;
    const out = allocFloat32(b, x.shape);
    reluGradInto(b, dy, x, out.info, x.shape.reduce((p, d) => p * d, 1));
    return out.info;
  };
}

/** dx = dy * x * 2. */
export function squareGradKernel(): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
    const b = backend as BackendWasm;
    const out = allocFloat32(b, x.shape);
    scaledProductInto(b, dy, x, out.info, x.shape.reduce((p, d) => p * d, 1), 2);
    return out.info;
  };
}

/** Repeats dy (the trailing block) over the leading axes of `shape`, times `scale`. */
export function broadcastLeadingKernel(): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const dy = inputs.dy as TensorInfo;
    const { shape, scale } = attrs as unknown as { shape: number[]; scale: number };
    const b = backend as BackendWasm;
    const out = allocFloat32(b, shape);
    const src = heapView(b, dy);
    const d = heapView(b, out.info);
    const inner = src.length;
    if (d.length === 0) return out.info;
    for (let j = 0; j < inner; j++) d[j] = src[j] * scale;
    // Doubling copies: log2(repeats) memmoves instead of one short copy per repeat.
    for (let filled = inner; filled < d.length; filled *= 2) d.copyWithin(filled, 0, Math.min(filled, d.length - filled));
    return out.info;
  };
}

type FastGrad = (dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => ReturnType<tf.GradFunc> | null;

/** A gradient that takes `fast` on wasm when it covers the case (returns non-null), else the stock gradient. */
export function wasmFirstGradient(stock: tf.GradConfig, fast: FastGrad): tf.GradConfig {
  return {
    ...stock,
    gradFunc: (dy, saved, attrs) => {
      if (tf.getBackend() === 'wasm' && !Array.isArray(dy)) {
        const g = fast(dy, saved, attrs);
        if (g !== null) return g;
      }
      return stock.gradFunc(dy, saved, attrs);
    },
  };
}

export const reluFastGrad: FastGrad = (dy, saved) => {
  const [x] = saved;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32' || !tf.util.arraysEqual(x.shape, dy.shape)) return null;
  return { x: () => tf.engine().runKernel(RELU_GRAD_KERNEL, { dy, x }, {}) as tf.Tensor };
};

export const squareFastGrad: FastGrad = (dy, saved) => {
  const [x] = saved;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32' || !tf.util.arraysEqual(x.shape, dy.shape)) return null;
  return { x: () => tf.engine().runKernel(SQUARE_GRAD_KERNEL, { dy, x }, {}) as tf.Tensor };
};

export const meanFastGrad: FastGrad = (dy, saved, attrs) => {
  const [x] = saved;
  const { axis } = attrs as unknown as { axis: number | number[] };
  const axes = Array.isArray(axis) ? axis : [axis];
  const k = leadingAxesCount(x.shape, axes);
  if (k === null || dy.dtype !== 'float32') return null;
  const count = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  return { x: () => tf.engine().runKernel(BROADCAST_LEADING_KERNEL, { dy }, { shape: x.shape, scale: 1 / count }) as tf.Tensor };
};
