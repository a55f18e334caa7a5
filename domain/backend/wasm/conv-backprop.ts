/**
 * Convolution gradients for the wasm backend, expressed as forward
 * convolutions so that XNNPACK's fast Conv2D does the arithmetic:
 *
 * - input gradient: dy convolved with the spatially flipped filter whose
 *   in/out channels are swapped, padded so the result has the input's size;
 *   for strides above 1, one such stride-1 convolution per phase of the
 *   input grid (the input pixels sharing a position modulo the stride see the
 *   filter taps of one residue class), interleaved into dx; the fallback
 *   spreads dy out with zeros, which costs stride^2 times the arithmetic;
 * - filter gradient where the output channels are a multiple of 4 and the output is 4 or more
 *   pixels wide (any stride): a SIMD kernel that sums (input tap) x dy over the output pixels,
 *   reading both in place (filter-grad-taps.ts);
 * - filter gradient otherwise (2x2 maps, for example): a convolution "over the batch axis": x
 *   viewed as [inC, H, W, N] (batch as channels) convolved with dy viewed as a
 *   filter [outH, outW, N, outC] dilated by the stride, giving [inC, kH, kW, outC].
 *
 * Shapes outside what these identities cover (NCHW, dilated forward filters,
 * padding wider than the filter) fall back to the stock kernel when there is one.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { filterGradientByTaps, tapsGradientUnsupported } from './filter-grad-taps.js';
import { allocFloat32, callWasmKernel, disposeInfo, heapView, type TensorInfo } from './kernel-calls.js';
import { copyBlocks } from './simd-kernels.js';

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
type PadAttr = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

interface ConvGradAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function convInfoFor(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: ConvGradAttrs,
): Conv2DInfo {
  const dataFormat = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC');
  return tf.backend_util.computeConv2DInfo(
    xShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, dataFormat,
  );
}

/** Why the flipped-convolution identities do not apply, or null when they do. */
export function unsupportedReason(info: Conv2DInfo): string | null {
  if (info.dataFormat !== 'channelsLast') return `dataFormat ${info.dataFormat}`;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return 'dilated filter';
  const { top, left } = info.padInfo;
  if (top > info.filterHeight - 1 || left > info.filterWidth - 1) return 'padding wider than the filter';
  return null;
}

/** [kH, kW, inC, outC] -> spatially flipped [kH, kW, outC, inC]. */
function flipTransposeFilter(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  const out = allocFloat32(backend, [kh, kw, co, ci]);
  const src = heapView(backend, filter);
  const dst = heapView(backend, out.info);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const s = (y * kw + x) * ci * co;
      const d = ((kh - 1 - y) * kw + (kw - 1 - x)) * co * ci;
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) dst[d + o * ci + i] = src[s + i * co + o];
      }
    }
  }
  return out.info;
}

/** Inserts (stride - 1) zeros between neighbouring pixels of an NHWC tensor. */
function dilateSpatially(backend: BackendWasm, t: TensorInfo, sh: number, sw: number): TensorInfo {
  const [n, h, w, c] = t.shape;
  const dh = (h - 1) * sh + 1;
  const dw = (w - 1) * sw + 1;
  const out = allocFloat32(backend, [n, dh, dw, c]);
  const src = heapView(backend, t);
  const dst = heapView(backend, out.info);
  dst.fill(0);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const s = ((b * h + y) * w + x) * c;
        const d = ((b * dh + y * sh) * dw + x * sw) * c;
        dst.set(src.subarray(s, s + c), d);
      }
    }
  }
  return out.info;
}

/** One axis of one phase: input positions i0, i0 + s, ... and the filter taps rho, rho + s, ... that reach them. */
interface PhaseAxis {
  /** First input position of the phase. */
  i0: number;
  /** Input positions in the phase. */
  count: number;
  /** First tap and number of taps. */
  rho: number;
  taps: number;
  /** Padding of dy before/after, and leading rows of the convolution's output to skip. */
  padBefore: number;
  padAfter: number;
  skip: number;
}

/**
 * Along one axis, input i = i0 + s*a is reached from output o = a + q - m by
 * tap rho + s*m (m < taps), where rho = (i0 + pad) mod s and q = floor((i0 + pad) / s):
 * a stride-1 correlation of dy with the taps reversed, offset by taps - 1 - q.
 */
function phaseAxes(inSize: number, outSize: number, k: number, s: number, pad: number): PhaseAxis[] | null {
  const axes: PhaseAxis[] = [];
  for (let i0 = 0; i0 < s; i0++) {
    const count = Math.max(0, Math.ceil((inSize - i0) / s));
    const rho = (i0 + pad) % s;
    const taps = rho < k ? Math.ceil((k - rho) / s) : 0;
    const q = Math.floor((i0 + pad) / s);
    const before = taps - 1 - q;
    const after = count + taps - 1 - outSize - before;
    const padBefore = Math.max(0, before);
    const padAfter = Math.max(0, after);
    const skip = Math.max(0, -before);
    // The convolution must produce the phase's rows after the skipped ones.
    if (taps > 0 && count > 0 && outSize + padBefore + padAfter - taps + 1 < skip + count) return null;
    axes.push({ i0, count, rho, taps, padBefore, padAfter, skip });
  }
  return axes;
}

/** The phase's taps of [kH, kW, inC, outC], reversed and transposed: [tapsY, tapsX, outC, inC]. */
function phaseFilter(backend: BackendWasm, filter: TensorInfo, py: PhaseAxis, px: PhaseAxis, sh: number, sw: number): TensorInfo {
  const [, kw, ci, co] = filter.shape;
  const out = allocFloat32(backend, [py.taps, px.taps, co, ci]);
  const src = heapView(backend, filter);
  const dst = heapView(backend, out.info);
  for (let a = 0; a < py.taps; a++) {
    for (let b = 0; b < px.taps; b++) {
      const ky = py.rho + sh * (py.taps - 1 - a);
      const kx = px.rho + sw * (px.taps - 1 - b);
      const s0 = (ky * kw + kx) * ci * co;
      const d0 = (a * px.taps + b) * co * ci;
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) dst[d0 + o * ci + i] = src[s0 + i * co + o];
      }
    }
  }
  return out.info;
}

/** dx for a strided conv as one stride-1 convolution per phase, or null where a phase's geometry is not covered. */
export function conv2dInputGradientByPhases(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  inputShape: [number, number, number, number],
  info: Conv2DInfo,
): TensorInfo | null {
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const [n, outH, outW] = dy.shape;
  const [, inH, inW, ci] = inputShape;
  const rowsY = phaseAxes(inH, outH, kh, sh, info.padInfo.top);
  const rowsX = phaseAxes(inW, outW, kw, sw, info.padInfo.left);
  if (rowsY === null || rowsX === null) return null;
  const dx = allocFloat32(backend, inputShape);
  const reachesAll = rowsY.every((p) => p.taps > 0 || p.count === 0) && rowsX.every((p) => p.taps > 0 || p.count === 0);
  if (!reachesAll) heapView(backend, dx.info).fill(0);
  const bytes = Float32Array.BYTES_PER_ELEMENT;
  for (const py of rowsY) {
    for (const px of rowsX) {
      if (py.taps === 0 || px.taps === 0 || py.count === 0 || px.count === 0) continue;
      const w = phaseFilter(backend, filter, py, px, sh, sw);
      const part = callWasmKernel(backend, 'Conv2D', { x: dy, filter: w }, {
        strides: [1, 1],
        pad: [[0, 0], [py.padBefore, py.padAfter], [px.padBefore, px.padAfter], [0, 0]],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      });
      const [, hc, wc] = part.shape;
      for (let b = 0; b < n; b++) {
        copyBlocks(backend, part, ((b * hc + py.skip) * wc + px.skip) * ci * bytes, dx.info, ((b * inH + py.i0) * inW + px.i0) * ci * bytes, {
          rows: py.count, cols: px.count, blockBytes: ci * bytes,
          srcRow: wc * ci * bytes, srcCol: ci * bytes,
          dstRow: sh * inW * ci * bytes, dstCol: sw * ci * bytes,
        });
      }
      disposeInfo(backend, w, part);
    }
  }
  return dx.info;
}

/** dx for y = conv2d(x, filter): dy (dilated by the stride) convolved with the flipped, transposed filter. */
export function conv2dInputGradient(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  inputShape: [number, number, number, number],
  info: Conv2DInfo,
): TensorInfo {
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const [, outH, outW] = dy.shape;
  const [, inH, inW] = inputShape;
  const temps: TensorInfo[] = [];
  const wT = flipTransposeFilter(backend, filter);
  temps.push(wT);
  let dyD = dy;
  if (sh > 1 || sw > 1) {
    dyD = dilateSpatially(backend, dy, sh, sw);
    temps.push(dyD);
  }
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  // Chosen so the result is exactly the input's size; rows of x that the forward pass never read get zero gradient.
  const bottom = inH + info.padInfo.top - 1 - (outH - 1) * sh;
  const right = inW + info.padInfo.left - 1 - (outW - 1) * sw;
  const cropH = Math.max(0, -bottom);
  const cropW = Math.max(0, -right);
  let dx = callWasmKernel(backend, 'Conv2D', { x: dyD, filter: wT }, {
    strides: [1, 1],
    pad: [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [1, 1],
  });
  if (cropH > 0 || cropW > 0) {
    const cropped = callWasmKernel(backend, 'Slice', { x: dx }, { begin: [0, 0, 0, 0], size: inputShape });
    temps.push(dx);
    dx = cropped;
  }
  disposeInfo(backend, ...temps);
  return dx;
}

/** dW for y = conv2d(x, filter): a convolution over the batch axis, x^T [inC,H,W,N] by dy^T [outH,outW,N,outC]. */
export function conv2dFilterGradient(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: [number, number, number, number],
  info: Conv2DInfo,
): TensorInfo {
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const [, inH, inW] = x.shape;
  const [, outH, outW] = dy.shape;
  const xT = callWasmKernel(backend, 'Transpose', { x }, { perm: [3, 1, 2, 0] });
  const dyT = callWasmKernel(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const { top, left } = info.padInfo;
  // Negative means the forward pass never read the last rows/columns: pad nothing and crop the surplus taps.
  const bottom = kh + (outH - 1) * sh - inH - top;
  const right = kw + (outW - 1) * sw - inW - left;
  const g = callWasmKernel(backend, 'Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1],
    pad: [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [sh, sw],
  });
  disposeInfo(backend, xT, dyT);
  const temps = [g];
  let gc = g;
  if (bottom < 0 || right < 0) {
    gc = callWasmKernel(backend, 'Slice', { x: g }, { begin: [0, 0, 0, 0], size: [filterShape[2], kh, kw, filterShape[3]] });
    temps.push(gc);
  }
  const dw = callWasmKernel(backend, 'Transpose', { x: gc }, { perm: [1, 2, 0, 3] });
  disposeInfo(backend, ...temps);
  return dw;
}

export function conv2DBackpropInputKernel(fallback: tf.KernelFunc | undefined): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as ConvGradAttrs & { inputShape: [number, number, number, number] };
    const info = convInfoFor(a.inputShape, filter.shape as [number, number, number, number], a);
    const why = unsupportedReason(info);
    if (why !== null) {
      if (fallback) return fallback({ inputs, backend, attrs });
      throw new Error(`Conv2DBackpropInput on wasm: unsupported configuration (${why})`);
    }
    const strided = info.strideHeight > 1 || info.strideWidth > 1;
    const byPhases = strided ? conv2dInputGradientByPhases(backend as BackendWasm, dy, filter, a.inputShape, info) : null;
    return byPhases ?? conv2dInputGradient(backend as BackendWasm, dy, filter, a.inputShape, info);
  };
}

/**
 * Below this output width the tap kernel's rows are a pixel or three long and the batch-axis convolution wins
 * (bench/conv-grad-parts.ts, CPU ms, batch 128, on a loaded machine: 2x2x128->128 8.8 vs 6.8; 3x3x128->128 17.5 vs
 * 14.0; 4x4x128->128 22.4 vs 24.6; 5x5x64->64 8.8 vs 10.4).
 */
export const TAPS_MIN_OUTPUT_WIDTH = 4;

/** The tap kernel where it covers the shape and wins; the batch-axis convolution for the rest. */
export function filterGradientMethod(info: Conv2DInfo): 'taps' | 'over-batch' {
  const covered = tapsGradientUnsupported(info.outChannels) === null;
  return covered && info.outWidth >= TAPS_MIN_OUTPUT_WIDTH ? 'taps' : 'over-batch';
}

export function conv2DBackpropFilterKernel(): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as ConvGradAttrs & { filterShape: [number, number, number, number] };
    const info = convInfoFor(x.shape as [number, number, number, number], a.filterShape, a);
    const why = unsupportedReason(info);
    if (why !== null) throw new Error(`Conv2DBackpropFilter on wasm: unsupported configuration (${why}); use NHWC, dilation 1 and padding narrower than the filter`);
    const { top, left, bottom, right } = info.padInfo;
    if (filterGradientMethod(info) === 'taps') {
      const geometry = { kh: info.filterHeight, kw: info.filterWidth, sh: info.strideHeight, sw: info.strideWidth, top, left, bottom, right };
      return filterGradientByTaps(backend as BackendWasm, x, dy, geometry);
    }
    return conv2dFilterGradient(backend as BackendWasm, x, dy, a.filterShape, info);
  };
}
