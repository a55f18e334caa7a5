/**
 * The filter gradient's arithmetic as one WebAssembly SIMD kernel that reads its operands in place:
 *
 *   acc64[m, n] += sum over pixels p of A_m(p) * dy[p, n]
 *
 * where row m of A is one (tap, input channel) of the filter, read straight out of the zero-padded,
 * channel-major input at a per-row byte offset (so no im2col matrix is built), and dy is the
 * layer's output gradient, [pixels, N] channels last. A tile of MR rows x 4*NV columns stays in
 * float32 registers over one chunk of images and is then added into float64 accumulators.
 *
 * Why not XNNPACK's matrix product: it packs its weights operand on every call, and here both
 * operands are as long as the batch's pixels, so packing plus building the im2col rows cost a
 * quarter of the gradient (a 32x32x32 layer at batch 128: 93 ms as im2col + product, 69 here,
 * forward convolution 68).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { assemble, countUp, flushInto, I32, op, V128, whileLess, type FunctionDef } from './simd-assembler.js';
import { heapAddress, instantiateOnHeap } from './simd-kernels.js';
import type { TensorInfo } from './kernel-calls.js';

const { get, set, i32 } = op;

/** Rows per register tile: 6 x 16 columns measured fastest (24 accumulators; 4 x 16 was 6% slower). */
const MAX_TILE_ROWS = 6;
/** Column widths of a tile, in vectors of 4 floats, widest first. */
const TILE_VECTORS = [4, 2, 1] as const;
/** Pixels per step of the unrolled inner loop; the rest of each output row goes one pixel at a time. */
const PIXELS_PER_STEP = 4;

const kernelName = (rows: number, vectors: number) => `taps_grad_${rows}x${vectors}`;

/**
 * Parameters (all i32; addresses and strides in bytes): padded base, rowOffsets (i32 per row),
 * rows (a multiple of `mr`), dy, colBytes (columns processed), ldBytes (row stride of dy and acc64,
 * in float32 bytes), images, outH, outWBytes, planeRowBytes, planeBytes, acc64.
 */
function tapsGradFn(mr: number, nv: number): FunctionDef {
  const [padded, rowOffsets, rows, dy, colBytes, ldBytes, images, outH, outWBytes, planeRowBytes, planeBytes, acc64] =
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  let next = 12;
  const [m0, n0, img, y, pix, pixEnd, stepsEnd, g, out, rowStart] = Array.from({ length: 10 }, () => next++);
  const rowBase = Array.from({ length: mr }, () => next++);
  const i32Locals = next - 12;
  const b = Array.from({ length: nv }, () => next++);
  const acc = Array.from({ length: mr }, () => Array.from({ length: nv }, () => next++));
  const a = next++;
  const v128Locals = next - 12 - i32Locals;

  /** The products of `pixels` consecutive pixels, then pix and g advanced past them. */
  const step = (pixels: number): number[][] => {
    const code: number[][] = [];
    for (let k = 0; k < pixels; k++) {
      for (let j = 0; j < nv; j++) code.push(get(g), op.v128Load(16 * j), set(b[j]));
      for (let i = 0; i < mr; i++) {
        code.push(get(rowBase[i]), get(pix), op.i32Add, op.v128Load32Splat(4 * k), set(a));
        for (let j = 0; j < nv; j++) code.push(get(acc[i][j]), get(a), get(b[j]), op.f32x4Mul, op.f32x4Add, set(acc[i][j]));
      }
      code.push(get(g), get(ldBytes), op.i32Add, set(g));
    }
    return [...code, get(pix), i32(4 * pixels), op.i32Add, set(pix)];
  };
  const body: number[][] = [
    ...countUp(m0, rows, mr, [
      ...rowBase.flatMap((r, i) => [
        get(padded), get(rowOffsets), get(m0), i32(i), op.i32Add, i32(4), op.i32Mul, op.i32Add, op.i32Load(), op.i32Add, set(r),
      ]),
      ...countUp(n0, colBytes, 16 * nv, [
        ...acc.flat().flatMap((v) => [op.v128Zero, set(v)]),
        get(dy), get(n0), op.i32Add, set(g),
        ...countUp(img, images, 1, [
          get(img), get(planeBytes), op.i32Mul, set(rowStart),
          ...countUp(y, outH, 1, [
            get(rowStart), op.tee(pix), get(outWBytes), op.i32Add, set(pixEnd),
            get(rowStart), get(outWBytes), i32(-4 * PIXELS_PER_STEP), op.i32And, op.i32Add, set(stepsEnd),
            ...whileLess(pix, stepsEnd, step(PIXELS_PER_STEP)),
            ...whileLess(pix, pixEnd, step(1)),
            get(rowStart), get(planeRowBytes), op.i32Add, set(rowStart),
          ]),
        ]),
        ...acc.flatMap((row, i) => [
          // float64 accumulators: acc64 + ((m0 + i) * ld + n0) * 2 bytes
          get(acc64), get(m0), i32(i), op.i32Add, get(ldBytes), op.i32Mul, get(n0), op.i32Add, i32(2), op.i32Mul, op.i32Add, set(out),
          ...row.flatMap((v, j) => flushInto(out, v, 32 * j)),
        ]),
      ]),
    ]),
  ];
  return {
    name: kernelName(mr, nv),
    params: new Array(12).fill(I32),
    locals: [...new Array(i32Locals).fill(I32), ...new Array(v128Locals).fill(V128)],
    body,
  };
}

const tileShapes = TILE_VECTORS.flatMap((nv) => Array.from({ length: MAX_TILE_ROWS }, (_, r) => [r + 1, nv] as const));
const compiled = new WebAssembly.Module(assemble(tileShapes.map(([mr, nv]) => tapsGradFn(mr, nv))));

type TapsGradKernel = (
  padded: number, rowOffsets: number, rows: number, dy: number, colBytes: number, ldBytes: number,
  images: number, outH: number, outWBytes: number, planeRowBytes: number, planeBytes: number, acc64: number,
) => void;

/** Where the rows live: the padded input, one byte offset per row, and the pixel grid they are read on. */
export interface TapRows {
  padded: TensorInfo;
  /** int32 tensor of byte offsets into `padded`, one per row. */
  rowOffsets: TensorInfo;
  rows: number;
  /** Row stride and image stride of the pixel grid in `padded`, in floats. */
  planeRow: number;
  plane: number;
}

/**
 * acc64 ([rows, channels] float64, `acc` as float32 storage of twice the size) += the rows read
 * at `images` x outH x outW pixels, times dy's next `images` images from image `firstImage`.
 * dy is [N, outH, outW, channels] with channels a multiple of 4.
 */
export function accumulateTapsGradient(backend: BackendWasm, taps: TapRows, dy: TensorInfo, firstImage: number, images: number, acc: TensorInfo): void {
  const [, outH, outW, channels] = dy.shape;
  if (channels % 4 !== 0) throw new Error(`accumulateTapsGradient: dy [${dy.shape}] needs channels that are a multiple of 4`);
  const k = instantiateOnHeap<Record<string, TapsGradKernel>>(backend, compiled);
  const bytes = 4;
  const ld = channels * bytes;
  const dyImage = heapAddress(backend, dy) + firstImage * outH * outW * ld;
  const padded = heapAddress(backend, taps.padded);
  const offsets = heapAddress(backend, taps.rowOffsets);
  const accBase = heapAddress(backend, acc);
  // Columns in the widest tiles that fit, then rows in tiles of MAX_TILE_ROWS and one shorter tile.
  let col = 0;
  for (const nv of TILE_VECTORS) {
    const width = Math.floor((channels - col) / (4 * nv)) * 4 * nv;
    if (width === 0) continue;
    let row = 0;
    while (row < taps.rows) {
      const mr = Math.min(MAX_TILE_ROWS, taps.rows - row);
      const count = mr === MAX_TILE_ROWS ? Math.floor((taps.rows - row) / mr) * mr : mr;
      k[kernelName(mr, nv)](
        padded, offsets + row * 4, count, dyImage + col * bytes, width * bytes, ld,
        images, outH, outW * bytes, taps.planeRow * bytes, taps.plane * bytes, accBase + (row * channels + col) * 8,
      );
      row += count;
    }
    col += width;
  }
}
