/**
 * Batch-norm gradient in one pass. tfjs-core differentiates FusedBatchNorm
 * with about ten full-size elementwise ops and a Tile per layer; on wasm that
 * is most of a ResNet's backward pass. With r = 1/sqrt(var + eps), g = scale:
 *   dx = dy * r * g,          dOffset = sum dy,
 *   dScale = r * sum dy (x - mean),
 *   dMean = -r * g * sum dy,  dVar = -r^3 g / 2 * sum dy (x - mean)
 * (the same partial derivatives as tfjs-core's gradient; the moments' own
 * gradients still carry the dependence of mean and variance on x).
 * Only wasm uses it: on every other backend, and for shapes it does not cover,
 * the stock gradient runs unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { allocFloat32, heapView, type TensorInfo } from './kernel-calls.js';
import { batchNormGradInto, simdChannels } from './simd-kernels.js';

export const BN_GRAD_KERNEL = 'TriggerLabFusedBatchNormGrad';

/** Inputs x, dy, mean, variance, scale (per-channel, channels last); outputs dx, dMean, dVariance, dScale, dOffset. */
export function batchNormGradKernel(): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy, mean, variance, scale } = inputs as Record<string, TensorInfo>;
    const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
    const b = backend as BackendWasm;
    const c = mean.shape[0];
    const count = x.shape.reduce((p, d) => p * d, 1) / c;
    const dxOut = allocFloat32(b, x.shape);
    const small = [0, 1, 2, 3].map(() => allocFloat32(b, [c]).info);
    // Copies: the SIMD pass allocates scratch, which can grow the heap and detach views.
    const vs = Float32Array.from(heapView(b, variance));
    const gs = Float32Array.from(heapView(b, scale));
    const coef = new Float32Array(c);
    for (let k = 0; k < c; k++) coef[k] = gs[k] / Math.sqrt(vs[k] + eps);
    const { sumDy, sumDyXc } = simdChannels(c) && x.dtype === 'float32' && dy.dtype === 'float32' && mean.dtype === 'float32'
      ? splitSums(batchNormGradInto(b, x, dy, dxOut.info, mean, coef, count), c)
      : sumsInJs(b, x, dy, dxOut.info, mean, coef, count);
    const [dMean, dVar, dScale, dOffset] = small.map((info) => heapView(b, info));
    for (let k = 0; k < c; k++) {
      const r = 1 / Math.sqrt(vs[k] + eps);
      dMean[k] = -r * gs[k] * sumDy[k];
      dVar[k] = -0.5 * r * r * r * gs[k] * sumDyXc[k];
      dScale[k] = r * sumDyXc[k];
      dOffset[k] = sumDy[k];
    }
    return [dxOut.info, ...small];
  };
}

function splitSums(sums: Float64Array, c: number): { sumDy: Float64Array; sumDyXc: Float64Array } {
  return { sumDy: sums.subarray(0, c), sumDyXc: sums.subarray(c, 2 * c) };
}

/** The same pass in JavaScript, for channel counts the SIMD kernel does not cover. */
function sumsInJs(
  b: BackendWasm, x: TensorInfo, dy: TensorInfo, dxInfo: TensorInfo, mean: TensorInfo, coef: Float32Array, count: number,
): { sumDy: Float64Array; sumDyXc: Float64Array } {
  const c = coef.length;
  const xs = heapView(b, x);
  const dys = heapView(b, dy);
  const ms = heapView(b, mean);
  const dx = heapView(b, dxInfo);
  const sumDy = new Float64Array(c);
  const sumDyXc = new Float64Array(c);
  for (let i = 0, base = 0; i < count; i++, base += c) {
    for (let k = 0; k < c; k++) {
      const g = dys[base + k];
      sumDy[k] += g;
      sumDyXc[k] += g * (xs[base + k] - ms[k]);
      dx[base + k] = g * coef[k];
    }
  }
  return { sumDy, sumDyXc };
}

function coveredShapes(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, scale: tf.Tensor | undefined): boolean {
  const c = x.shape[x.rank - 1];
  return mean.rank === 1 && mean.shape[0] === c && variance.rank === 1 && scale !== undefined && scale.rank === 1
    && scale.shape[0] === c && x.dtype === 'float32';
}

/** Wraps tfjs-core's FusedBatchNorm gradient: the one-pass kernel on wasm, the stock gradient elsewhere. */
export function batchNormGradConfig(stock: tf.GradConfig): tf.GradConfig {
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: stock.inputsToSave,
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      if (tf.getBackend() !== 'wasm' || !coveredShapes(x, mean, variance, scale) || Array.isArray(dy)) {
        return stock.gradFunc(dy, saved, attrs);
      }
      const d = dy.rank === x.rank ? dy : dy.reshape(x.shape);
      const outs = tf.engine().runKernel(BN_GRAD_KERNEL, { x, dy: d, mean, variance, scale }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      const [dx, dMean, dVar, dScale, dOffset] = outs;
      return { x: () => dx, mean: () => dMean, variance: () => dVar, scale: () => dScale, offset: () => dOffset };
    },
  };
}
