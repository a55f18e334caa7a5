/**
 * Stride-1 filter gradient as kH*kW matrix products that share one packed
 * right-hand side. On the zero-padded input grid [N, Hp, Wp], output pixel
 * (n, oh, ow) sits at flat position p = (n*Hp + oh)*Wp + ow and reads tap
 * (ky, kx) at p + ky*Wp + kx. So with
 *   X = x channel-major on the padded grid, [inC, N*Hp*Wp] (plus a tail margin),
 *   G = dy scattered onto the same grid, [N*Hp*Wp, outC] (zero off the outputs),
 * dW[ky, kx] = X[:, off : off + P] @ G with off = ky*Wp + kx: a shifted view of
 * X, no im2col copy, and G is packed by XNNPACK once for all taps. Where a
 * shifted row runs into the next channel's row, G is zero, so nothing leaks.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { allocFloat32, callWasmKernel, disposeInfo, heapView, releaseView, viewInto, type TensorInfo } from './kernel-calls.js';
import { packChannelsInto, simdChannels } from './simd-kernels.js';

export interface GridGeometry {
  kh: number; kw: number; top: number; left: number; bottom: number; right: number;
}

/** Images per matrix-product chunk: small enough that a chunk of G stays in cache across the taps. */
export const DEFAULT_GRID_CHUNK_BYTES = 1 << 19;

/**
 * Below this many input channels the per-tap products have too few rows for XNNPACK's
 * register tiles (the first layer's 3 rows fill half of one), so the taps' shifted rows
 * are copied into one [kH*kW*inC, P] block and multiplied once per chunk instead.
 */
export const STACK_TAPS_BELOW_CHANNELS = 8;

export function filterGradientByGrid(
  backend: BackendWasm, x: TensorInfo, dy: TensorInfo, g: GridGeometry,
  chunkBytes = DEFAULT_GRID_CHUNK_BYTES, stackTaps = x.shape[3] < STACK_TAPS_BELOW_CHANNELS,
): TensorInfo {
  const [n, h, w, ci] = x.shape;
  const [, oh, ow, co] = dy.shape;
  const hp = h + g.top + g.bottom;
  const wp = w + g.left + g.right;
  if (hp - g.kh + 1 !== oh || wp - g.kw + 1 !== ow) {
    throw new Error(`grid filter gradient: dy is ${oh}x${ow} but the padded input ${hp}x${wp} with a ${g.kh}x${g.kw} filter gives ${hp - g.kh + 1}x${wp - g.kw + 1}`);
  }
  const plane = hp * wp;
  // Chunks are whole images, so a tap's shifted read stays inside its chunk wherever G is non-zero.
  const imagesPerChunk = Math.max(1, Math.min(n, Math.floor(chunkBytes / (plane * co * Float32Array.BYTES_PER_ELEMENT))));
  const p = n * plane;
  const margin = (g.kh - 1) * wp + (g.kw - 1);
  const xg = allocFloat32(backend, [ci * p + margin]);
  const gg = allocFloat32(backend, [p, co]);
  const dw = allocFloat32(backend, [g.kh, g.kw, ci, co]);
  {
    const src = heapView(backend, x);
    const dst = heapView(backend, xg.info);
    dst.fill(0);
    const simd = w % 4 === 0 && simdChannels(ci);
    for (let b = 0; b < n; b++) {
      const chunk = Math.floor(b / imagesPerChunk);
      const chunkStart = chunk * imagesPerChunk;
      const pc = (Math.min(n, chunkStart + imagesPerChunk) - chunkStart) * plane;
      const chunkBase = chunkStart * plane * ci;
      if (simd) {
        packChannelsInto(backend, x, b, xg.info, chunkBase + (b - chunkStart) * plane + g.top * wp + g.left, pc, wp);
        continue;
      }
      for (let y = 0; y < h; y++) {
        const s0 = (b * h + y) * w * ci;
        const d0 = chunkBase + (b - chunkStart) * plane + (y + g.top) * wp + g.left;
        for (let c = 0; c < ci; c++) {
          const d = d0 + c * pc;
          for (let xx = 0, s = s0 + c; xx < w; xx++, s += ci) dst[d + xx] = src[s];
        }
      }
    }
    const dys = heapView(backend, dy);
    const gd = heapView(backend, gg.info);
    gd.fill(0);
    const rowLen = ow * co;
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < oh; y++) {
        const s = (b * oh + y) * rowLen;
        gd.set(dys.subarray(s, s + rowLen), (b * plane + y * wp) * co);
      }
    }
  }
  const acc = new Float64Array(g.kh * g.kw * ci * co);
  if (stackTaps) {
    accumulateStacked(backend, xg.info, gg.info, acc, { n, ci, co, plane, wp, imagesPerChunk, kh: g.kh, kw: g.kw });
    heapView(backend, dw.info).set(acc);
    disposeInfo(backend, xg.info, gg.info);
    return dw.info;
  }
  for (let chunkStart = 0; chunkStart < n; chunkStart += imagesPerChunk) {
    const pc = (Math.min(n, chunkStart + imagesPerChunk) - chunkStart) * plane;
    const gView = viewInto(backend, gg.info, chunkStart * plane * co, [pc, co]);
    for (let ky = 0; ky < g.kh; ky++) {
      for (let kx = 0; kx < g.kw; kx++) {
        const view = viewInto(backend, xg.info, chunkStart * plane * ci + ky * wp + kx, [ci, pc]);
        const prod = callWasmKernel(backend, 'BatchMatMul', { a: view, b: gView }, { transposeA: false, transposeB: false });
        releaseView(backend, view);
        const part = heapView(backend, prod);
        const base = (ky * g.kw + kx) * ci * co;
        for (let i = 0; i < part.length; i++) acc[base + i] += part[i];
        disposeInfo(backend, prod);
      }
    }
    releaseView(backend, gView);
  }
  heapView(backend, dw.info).set(acc);
  disposeInfo(backend, xg.info, gg.info);
  return dw.info;
}

interface StackedLayout {
  n: number; ci: number; co: number; plane: number; wp: number; imagesPerChunk: number; kh: number; kw: number;
}

/** Per chunk: every tap's shifted rows of X copied into one block, times G, summed into acc as [kH, kW, inC, outC]. */
function accumulateStacked(backend: BackendWasm, xg: TensorInfo, gg: TensorInfo, acc: Float64Array, l: StackedLayout): void {
  const rows = l.kh * l.kw * l.ci;
  const block = allocFloat32(backend, [rows * l.imagesPerChunk * l.plane]);
  for (let chunkStart = 0; chunkStart < l.n; chunkStart += l.imagesPerChunk) {
    const pc = (Math.min(l.n, chunkStart + l.imagesPerChunk) - chunkStart) * l.plane;
    const src = heapView(backend, xg);
    const dst = heapView(backend, block.info);
    for (let ky = 0; ky < l.kh; ky++) {
      for (let kx = 0; kx < l.kw; kx++) {
        for (let c = 0; c < l.ci; c++) {
          const from = chunkStart * l.plane * l.ci + c * pc + ky * l.wp + kx;
          dst.set(src.subarray(from, from + pc), ((ky * l.kw + kx) * l.ci + c) * pc);
        }
      }
    }
    const a = viewInto(backend, block.info, 0, [rows, pc]);
    const gView = viewInto(backend, gg, chunkStart * l.plane * l.co, [pc, l.co]);
    const prod = callWasmKernel(backend, 'BatchMatMul', { a, b: gView }, { transposeA: false, transposeB: false });
    releaseView(backend, a);
    releaseView(backend, gView);
    const part = heapView(backend, prod);
    for (let i = 0; i < part.length; i++) acc[i] += part[i];
    disposeInfo(backend, prod);
  }
  disposeInfo(backend, block.info);
}
