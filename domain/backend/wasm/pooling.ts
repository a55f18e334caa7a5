/**
 * MaxPool gradient in one pass over the heap: each output pixel's gradient goes
 * to the first maximum of its window (the cpu backend's tie rule, which matters
 * after ReLU where whole windows are zero).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { allocFloat32, heapView, type TensorInfo } from './kernel-calls.js';
import { maxPoolGrad2x2Into, simdChannels } from './simd-kernels.js';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function maxPoolGradKernel(): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const a = attrs as unknown as PoolAttrs;
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode,
    );
    const b = backend as BackendWasm;
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
    const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
    const { top, left } = info.padInfo;
    const out = allocFloat32(b, input.shape);
    const tiles = fh === 2 && fw === 2 && sh === 2 && sw === 2 && h === 2 * oh && w === 2 * ow && top === 0 && left === 0;
    if (tiles && simdChannels(c) && input.dtype === 'float32' && dy.dtype === 'float32') {
      maxPoolGrad2x2Into(b, input, dy, out.info);
      return out.info;
    }
    const x = heapView(b, input);
    const g = heapView(b, dy);
    const dx = heapView(b, out.info);
    dx.fill(0);
    const best = new Float32Array(c);
    const where = new Int32Array(c);
    for (let bi = 0; bi < n; bi++) {
      for (let yo = 0; yo < oh; yo++) {
        const y0 = yo * sh - top;
        for (let xo = 0; xo < ow; xo++) {
          const x0 = xo * sw - left;
          best.fill(-Infinity);
          where.fill(-1);
          for (let ky = Math.max(0, -y0); ky < fh && y0 + ky < h; ky++) {
            for (let kx = Math.max(0, -x0); kx < fw && x0 + kx < w; kx++) {
              const base = ((bi * h + y0 + ky) * w + x0 + kx) * c;
              for (let ch = 0; ch < c; ch++) {
                const v = x[base + ch];
                if (v > best[ch] || where[ch] < 0) { best[ch] = v; where[ch] = base + ch; }
              }
            }
          }
          const gBase = ((bi * oh + yo) * ow + xo) * c;
          for (let ch = 0; ch < c; ch++) if (where[ch] >= 0) dx[where[ch]] += g[gBase + ch];
        }
      }
    }
    return out.info;
  };
}
