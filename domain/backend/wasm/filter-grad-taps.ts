/**
 * The filter gradient of a convolution, for any stride, as a sum over output pixels of
 * (input tap) x dy, computed by the in-place SIMD kernel of simd-filter-grad.ts:
 *   dW[ky, kx, c, :] = sum over (n, oh, ow) of xpad[n, sh*oh + ky, sw*ow + kx, c] * dy[n, oh, ow, :].
 * The input is zero-padded and laid out channel-major, split by stride phase: pixel (Y, X) of the
 * padded input goes to phase plane (Y mod sh, X mod sw) at (Y div sh, X div sw). Then every
 * (tap, channel) row is a plain shifted window of one plane, read at the same pixel offsets as dy,
 * whatever the stride.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { allocFloat32, disposeInfo, heapView, releaseView, viewInto, type TensorInfo } from './kernel-calls.js';
import { packChannelsInto, scratch64, simdChannels } from './simd-kernels.js';
import { accumulateTapsGradient } from './simd-filter-grad.js';

/** A convolution's filter size, strides, and the input padding on each side. */
export interface FilterGeometry {
  kh: number; kw: number; sh: number; sw: number; top: number; left: number; bottom: number; right: number;
}

/** Why the tap kernel does not cover a gradient with this many output channels, or null when it does. */
export function tapsGradientUnsupported(outChannels: number): string | null {
  return outChannels % 4 === 0 ? null : `${outChannels} output channels is not a multiple of 4`;
}

/** The phase planes of one chunk of images: plane (py, px, c) of image slot b starts at ((py*sw + px)*C + c)*chanStride + b*plane. */
interface PhaseLayout {
  wq: number; plane: number; chanStride: number;
}

/**
 * Writes image `b` of x ([N, H, W, C], NHWC) channel-major into dst: channel c, pixel (y, x) to element
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

/** Image `b` of x into slot `slot` of the phase planes. */
function packPhases(backend: BackendWasm, x: TensorInfo, b: number, dst: TensorInfo, slot: number, l: PhaseLayout, g: FilterGeometry): void {
  const [n, h, w, ci] = x.shape;
  const base = slot * l.plane;
  if (g.sh === 1 && g.sw === 1) {
    packImageChannelMajor(backend, x, b, dst, base + g.top * l.wq + g.left, l.chanStride, l.wq);
    return;
  }
  if (h % g.sh === 0 && w % g.sw === 0 && g.top % g.sh === 0 && g.left % g.sw === 0) {
    // Viewed as [N*H/sh, sh, W/sw, sw*C], a "pixel" is sw neighbours (one per column phase) and an
    // "image" is sh rows (one per row phase): the plain channel-major packing lands each in its phase.
    const hq0 = h / g.sh;
    const view = viewInto(backend, x, 0, [n * hq0, g.sh, w / g.sw, g.sw * ci]);
    for (let yq = 0; yq < hq0; yq++) {
      packImageChannelMajor(backend, view, b * hq0 + yq, dst, base + (yq + g.top / g.sh) * l.wq + g.left / g.sw, l.chanStride, g.sw * ci * l.chanStride);
    }
    releaseView(backend, view);
    return;
  }
  const src = heapView(backend, x);
  const out = heapView(backend, dst);
  for (let y = 0; y < h; y++) {
    const py = (y + g.top) % g.sh;
    const yq = Math.floor((y + g.top) / g.sh);
    for (let xx = 0; xx < w; xx++) {
      const px = (xx + g.left) % g.sw;
      const d = ((py * g.sw + px) * ci) * l.chanStride + base + yq * l.wq + Math.floor((xx + g.left) / g.sw);
      const s = ((b * h + y) * w + xx) * ci;
      for (let c = 0; c < ci; c++) out[d + c * l.chanStride] = src[s + c];
    }
  }
}

/** Bytes of padded input and dy per chunk of images: both stay in the 2 MiB L2 cache while the kernel sweeps them. */
export const DEFAULT_TAPS_CHUNK_BYTES = 1 << 19;

export function filterGradientByTaps(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, g: FilterGeometry, chunkBytes = DEFAULT_TAPS_CHUNK_BYTES): TensorInfo {
  const why = tapsGradientUnsupported(dy.shape[3]);
  if (why !== null) throw new Error(`tap filter gradient: ${why}`);
  const [n, h, w, ci] = x.shape;
  const [, oh, ow, co] = dy.shape;
  const hp = h + g.top + g.bottom;
  const wp = w + g.left + g.right;
  if (Math.floor((hp - g.kh) / g.sh) + 1 !== oh || Math.floor((wp - g.kw) / g.sw) + 1 !== ow) {
    throw new Error(`tap filter gradient: dy is ${oh}x${ow} but the padded input ${hp}x${wp} with a ${g.kh}x${g.kw} filter at stride ${g.sh}x${g.sw} gives ${Math.floor((hp - g.kh) / g.sh) + 1}x${Math.floor((wp - g.kw) / g.sw) + 1}`);
  }
  const phases = g.sh * g.sw;
  const hq = Math.ceil(hp / g.sh);
  const wq = Math.ceil(wp / g.sw);
  const plane = hq * wq;
  const perImage = (phases * ci * plane + oh * ow * co) * Float32Array.BYTES_PER_ELEMENT;
  const imagesPerChunk = Math.max(1, Math.min(n, Math.floor(chunkBytes / perImage)));
  const layout: PhaseLayout = { wq, plane, chanStride: imagesPerChunk * plane };
  const rows = g.kh * g.kw * ci;
  const padded = allocFloat32(backend, [phases * ci * layout.chanStride]);
  const rowOffsets = backend.makeOutput([rows], 'int32');
  const acc = scratch64(backend, rows * co);
  // Padding cells are never written, so zeroing once keeps them zero for every chunk.
  heapView(backend, padded.info).fill(0);
  const offsets = backend.typedArrayFromHeap(rowOffsets) as Int32Array;
  for (let ky = 0; ky < g.kh; ky++) {
    for (let kx = 0; kx < g.kw; kx++) {
      for (let c = 0; c < ci; c++) {
        const phase = (ky % g.sh) * g.sw + (kx % g.sw);
        const start = (phase * ci + c) * layout.chanStride + Math.floor(ky / g.sh) * wq + Math.floor(kx / g.sw);
        offsets[(ky * g.kw + kx) * ci + c] = start * Float32Array.BYTES_PER_ELEMENT;
      }
    }
  }
  const taps = { padded: padded.info, rowOffsets, rows, planeRow: wq, plane };
  for (let first = 0; first < n; first += imagesPerChunk) {
    const count = Math.min(n, first + imagesPerChunk) - first;
    for (let b = 0; b < count; b++) packPhases(backend, x, first + b, padded.info, b, layout, g);
    accumulateTapsGradient(backend, taps, dy, first, count, acc.info);
  }
  const dw = allocFloat32(backend, [g.kh, g.kw, ci, co]);
  heapView(backend, dw.info).set(acc.view());
  disposeInfo(backend, padded.info, rowOffsets, acc.info);
  return dw.info;
}
