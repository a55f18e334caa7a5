/**
 * Stride-1 filter gradient as ONE well-shaped matrix product per chunk of images:
 *   R = the input's taps as rows, [kH*kW*inC, N*outH*outW]: row (ky, kx, c) holds, for every
 *       output pixel (n, oh, ow), the padded input pixel (n, oh + ky, ow + kx) of channel c;
 *   dW = R @ dy, with dy read in place as [N*outH*outW, outC].
 * The product has the forward convolution's arithmetic and shape class (K = every output
 * pixel, M = the filter's taps x channels, N = outC), so XNNPACK runs it at forward speed,
 * with no padding positions in K (they cost 1.56x on 8x8 maps when the product ran over the padded
 * grid) and none of the batch-axis convolution's 9-row products.
 * R is built from the zero-padded, channel-major input by block copies of one output row
 * (outW floats) each, so the padding needs no special case.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { allocFloat32, callWasmKernel, disposeInfo, heapView, releaseView, viewInto, type TensorInfo } from './kernel-calls.js';
import { copyBlocks, packChannelsInto, simdChannels } from './simd-kernels.js';

/** A stride-1 convolution's filter size and the input padding on each side. */
export interface FilterGeometry {
  kh: number; kw: number; top: number; left: number; bottom: number; right: number;
}

/**
 * Writes image `b` of x ([N, H, W, C]) channel-major into dst: channel c, pixel (y, x) to element
 * offset + c*chanStride + y*rowStride + x. The SIMD 4x4 transpose where W and C are multiples of 4.
 */
export function packImageChannelMajor(backend: BackendWasm, x: TensorInfo, b: number, dst: TensorInfo, offset: number, chanStride: number, rowStride: number): void {
  const [, h, w, ci] = x.shape;
  if (w % 4 === 0 && simdChannels(ci)) {
    packChannelsInto(backend, x, b, dst, offset, chanStride, rowStride);
    return;
  }
  const src = heapView(backend, x);
  const out = heapView(backend, dst);
  for (let y = 0; y < h; y++) {
    const s0 = (b * h + y) * w * ci;
    const d0 = offset + y * rowStride;
    for (let c = 0; c < ci; c++) {
      const d = d0 + c * chanStride;
      for (let xx = 0, s = s0 + c; xx < w; xx++, s += ci) out[d + xx] = src[s];
    }
  }
}

/** Bytes of R per chunk: bounds the scratch memory of large maps (a 32x32x16 layer's R is 590 KB per image). */
export const DEFAULT_ROWS_CHUNK_BYTES = 1 << 23;

export function filterGradientByRows(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, g: FilterGeometry, chunkBytes = DEFAULT_ROWS_CHUNK_BYTES): TensorInfo {
  const [n, h, w, ci] = x.shape;
  const [, oh, ow, co] = dy.shape;
  const hp = h + g.top + g.bottom;
  const wp = w + g.left + g.right;
  if (hp - g.kh + 1 !== oh || wp - g.kw + 1 !== ow) {
    throw new Error(`row filter gradient: dy is ${oh}x${ow} but the padded input ${hp}x${wp} with a ${g.kh}x${g.kw} filter gives ${hp - g.kh + 1}x${wp - g.kw + 1}`);
  }
  const bytes = Float32Array.BYTES_PER_ELEMENT;
  const taps = g.kh * g.kw;
  const rows = taps * ci;
  const outPlane = oh * ow;
  const plane = hp * wp;
  const imagesPerChunk = Math.max(1, Math.min(n, Math.floor(chunkBytes / (rows * outPlane * bytes))));
  const padded = allocFloat32(backend, [ci * imagesPerChunk * plane]);
  const r = allocFloat32(backend, [rows * imagesPerChunk * outPlane]);
  const acc = new Float64Array(rows * co);
  for (let first = 0; first < n; first += imagesPerChunk) {
    const count = Math.min(n, first + imagesPerChunk) - first;
    const chanStride = count * plane;
    heapView(backend, padded.info).fill(0);
    for (let b = 0; b < count; b++) packImageChannelMajor(backend, x, first + b, padded.info, b * plane + g.top * wp + g.left, chanStride, wp);
    const k = count * outPlane;
    for (let ky = 0; ky < g.kh; ky++) {
      for (let kx = 0; kx < g.kw; kx++) {
        for (let c = 0; c < ci; c++) {
          copyBlocks(backend, padded.info, (c * chanStride + ky * wp + kx) * bytes, r.info, ((ky * g.kw + kx) * ci + c) * k * bytes, {
            rows: count, cols: oh, blockBytes: ow * bytes,
            srcRow: plane * bytes, srcCol: wp * bytes,
            dstRow: outPlane * bytes, dstCol: ow * bytes,
          });
        }
      }
    }
    const a = viewInto(backend, r.info, 0, [rows, k]);
    const b = viewInto(backend, dy, first * outPlane * co, [k, co]);
    const prod = callWasmKernel(backend, 'BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
    releaseView(backend, a);
    releaseView(backend, b);
    const part = heapView(backend, prod);
    for (let i = 0; i < part.length; i++) acc[i] += part[i];
    disposeInfo(backend, prod);
  }
  disposeInfo(backend, padded.info, r.info);
  const dw = allocFloat32(backend, [g.kh, g.kw, ci, co]);
  heapView(backend, dw.info).set(acc);
  return dw.info;
}
