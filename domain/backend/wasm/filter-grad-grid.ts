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
import { copyBlocks } from './simd-kernels.js';

export interface GridGeometry {
  kh: number; kw: number; top: number; left: number; bottom: number; right: number;
}

/** Images per matrix-product chunk: small enough that a chunk of G stays in cache across the taps. */
export const DEFAULT_GRID_CHUNK_BYTES = 1 << 19;

export function filterGradientByGrid(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, g: GridGeometry, chunkBytes = DEFAULT_GRID_CHUNK_BYTES): TensorInfo {
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
  packGrid(backend, x, dy, xg.info, gg.info, g, imagesPerChunk);
  const acc = new Float64Array(g.kh * g.kw * ci * co);
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

/**
 * X: x channel-major on the zero-padded grid, chunk by chunk ([chunk][C][images][Hp][Wp]);
 * G: dy on the same grid, [N*Hp*Wp, C_out]. A strided scalar loop here took a
 * third of the kernel's time; an XNNPACK transpose plus row copies do not.
 */
function packGrid(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, xg: TensorInfo, gg: TensorInfo, g: GridGeometry, imagesPerChunk: number): void {
  const [n, h, w, ci] = x.shape;
  const [, oh, ow, co] = dy.shape;
  const wp = w + g.left + g.right;
  const plane = (h + g.top + g.bottom) * wp;
  const bytes = Float32Array.BYTES_PER_ELEMENT;
  heapView(backend, xg).fill(0);
  heapView(backend, gg).fill(0);
  const xt = callWasmKernel(backend, 'Transpose', { x }, { perm: [3, 0, 1, 2] });
  for (let chunkStart = 0; chunkStart < n; chunkStart += imagesPerChunk) {
    const images = Math.min(n, chunkStart + imagesPerChunk) - chunkStart;
    const chunkBase = chunkStart * plane * ci;
    for (let c = 0; c < ci; c++) {
      for (let b = 0; b < images; b++) {
        const src = ((c * n + chunkStart + b) * h) * w;
        const dst = chunkBase + c * images * plane + b * plane + g.top * wp + g.left;
        copyBlocks(backend, xt, src * bytes, xg, dst * bytes, { rows: h, cols: 1, blockBytes: w * bytes, srcRow: w * bytes, srcCol: 0, dstRow: wp * bytes, dstCol: 0 });
      }
    }
  }
  disposeInfo(backend, xt);
  const rowBytes = ow * co * bytes;
  for (let b = 0; b < n; b++) {
    copyBlocks(backend, dy, b * oh * rowBytes, gg, b * plane * co * bytes, { rows: oh, cols: 1, blockBytes: rowBytes, srcRow: rowBytes, srcCol: 0, dstRow: wp * co * bytes, dstCol: 0 });
  }
}
