/**
 * Elementwise, per-channel, pooling-gradient and block-copy kernels in
 * WebAssembly SIMD, run directly on the tfjs wasm heap (the module imports the
 * backend's own memory, so no copies). The same loops in JavaScript ran at
 * 3-9 ns per element, slower than the convolutions they serve; here they run
 * near memory speed (ResNet-20 step, batch 128: batch-norm gradient 205 -> 34 ms,
 * Mean 148 -> 32 ms, Sum 90 -> 8 ms, ReLU gradient 95 -> 30 ms, profiled on a shared machine).
 *
 * Per-channel sums (channels last, C a multiple of 4) go through blocks of
 * rows: a block's partial sums stay in float32 registers, then are added into
 * float64 accumulators, so long reductions keep float64-like accuracy.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { assemble, countUp, F32, flushInto, I32, op, V128, whileLess, type FunctionDef } from './simd-assembler.js';
import type { TensorInfo } from './kernel-calls.js';

/** Rows per block: a block of every array a kernel streams fits in a 32 KiB L1 cache. */
const BLOCK_BYTES = 8192;

const { get, set, i32 } = op;

/** out = dy where x > 0, 0 where x <= 0, NaN where x is NaN or infinite; n bytes, a multiple of 16. */
const reluGradFn: FunctionDef = (() => {
  const [dy, x, out, nbytes, i, vx] = [0, 1, 2, 3, 4, 5];
  return {
    name: 'relu_grad', params: [I32, I32, I32, I32], locals: [I32, V128],
    body: [
      ...countUp(i, nbytes, 16, [
        get(x), get(i), op.i32Add, op.v128Load(), set(vx),
        get(out), get(i), op.i32Add,
        get(dy), get(i), op.i32Add, op.v128Load(), get(vx), op.v128Zero, op.f32x4Gt, op.v128And,
        get(vx), get(vx), op.f32x4Sub, op.f32x4Add,
        op.v128Store(),
      ]),
    ],
  };
})();

/** out = a * b * factor over n bytes (a multiple of 16): the gradient of a square (factor 2) in one pass. */
const scaledProductFn: FunctionDef = (() => {
  const [a, b, out, nbytes, factor, i, f] = [0, 1, 2, 3, 4, 5, 6];
  return {
    name: 'scaled_product', params: [I32, I32, I32, I32, F32], locals: [I32, V128],
    body: [
      get(factor), op.f32x4Splat, set(f),
      ...countUp(i, nbytes, 16, [
        get(out), get(i), op.i32Add,
        get(a), get(i), op.i32Add, op.v128Load(), get(b), get(i), op.i32Add, op.v128Load(), op.f32x4Mul, get(f), op.f32x4Mul,
        op.v128Store(),
      ]),
    ],
  };
})();

/** Byte lanes of i8x16.shuffle that interleave 32-bit lanes: (a0 b0 a1 b1), (a2 b2 a3 b3), (a01 b01), (a23 b23). */
const LO_PAIRS = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
const HI_PAIRS = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
const LO_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
const HI_HALVES = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];

/**
 * One NHWC image [h, w, C] to channel-major rows: channel c, pixel (y, x) goes
 * to dst + c*chanStride + y*rowStride + x*4. Blocks of 4 pixels x 4 channels
 * are transposed in registers (w and C multiples of 4).
 */
const packChannelsFn: FunctionDef = (() => {
  const [src, dst, h, w, cb, chanStride, rowStride] = [0, 1, 2, 3, 4, 5, 6];
  const [y, x, c, s, d, r0, r1, r2, r3, t0, t1, t2, t3] = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  const loadPixel = (k: number) => [get(s), ...(k > 0 ? [get(cb), i32(k), op.i32Mul, op.i32Add] : []), op.v128Load(), set([r0, r1, r2, r3][k])];
  const storeChannel = (k: number, a: number, b: number, lanes: number[]) => [
    get(d), ...(k > 0 ? [get(chanStride), i32(k), op.i32Mul, op.i32Add] : []), get(a), get(b), op.shuffle(lanes), op.v128Store(),
  ];
  return {
    name: 'pack_channels', params: [I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, V128, V128, V128, V128, V128, V128, V128, V128],
    body: [
      ...countUp(y, h, 1, [
        ...countUp(x, w, 4, [
          ...countUp(c, cb, 16, [
            get(src), get(y), get(w), op.i32Mul, get(x), op.i32Add, get(cb), op.i32Mul, op.i32Add, get(c), op.i32Add, set(s),
            get(dst), get(c), i32(2), op.i32ShrU, get(chanStride), op.i32Mul, op.i32Add,
            get(y), get(rowStride), op.i32Mul, op.i32Add, get(x), i32(4), op.i32Mul, op.i32Add, set(d),
            ...loadPixel(0), ...loadPixel(1), ...loadPixel(2), ...loadPixel(3),
            get(r0), get(r1), op.shuffle(LO_PAIRS), set(t0),
            get(r0), get(r1), op.shuffle(HI_PAIRS), set(t1),
            get(r2), get(r3), op.shuffle(LO_PAIRS), set(t2),
            get(r2), get(r3), op.shuffle(HI_PAIRS), set(t3),
            ...storeChannel(0, t0, t2, LO_HALVES), ...storeChannel(1, t0, t2, HI_HALVES),
            ...storeChannel(2, t1, t3, LO_HALVES), ...storeChannel(3, t1, t3, HI_HALVES),
          ]),
        ]),
      ]),
    ],
  };
})();

/** Sets local rEnd = min(r0 + blockRows, rows). */
function blockEnd(r0: number, blockRows: number, rows: number, rEnd: number): number[][] {
  return [get(r0), get(blockRows), op.i32Add, op.tee(rEnd), get(rows), get(rEnd), get(rows), op.i32LtU, op.select, set(rEnd)];
}

/** acc64[j] += sum_r src[r, j] for a [rows, rowBytes/4] float32 matrix; acc64 holds rowBytes/4 float64. */
const columnSumsFn: FunctionDef = (() => {
  const [src, rows, rowBytes, acc64, blockRows, r0, rEnd, jb, p, pEnd, a, acc] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  return {
    name: 'column_sums', params: [I32, I32, I32, I32, I32], locals: [I32, I32, I32, I32, I32, I32, V128],
    body: [
      i32(0), set(r0),
      ...whileLess(r0, rows, [
        ...blockEnd(r0, blockRows, rows, rEnd),
        ...countUp(jb, rowBytes, 16, [
          op.v128Zero, set(acc),
          get(src), get(r0), get(rowBytes), op.i32Mul, op.i32Add, get(jb), op.i32Add, set(p),
          get(src), get(rEnd), get(rowBytes), op.i32Mul, op.i32Add, get(jb), op.i32Add, set(pEnd),
          ...whileLess(p, pEnd, [
            get(acc), get(p), op.v128Load(), op.f32x4Add, set(acc),
            get(p), get(rowBytes), op.i32Add, set(p),
          ]),
          get(acc64), get(jb), get(jb), op.i32Add, op.i32Add, set(a),
          ...flushInto(a, acc),
        ]),
        get(rEnd), set(r0),
      ]),
    ],
  };
})();

/**
 * Batch-norm backward pass over [rows, C]: dx = dy * coef[c], and into acc64
 * (2C float64) sum dy (first C) and sum dy * (x - mean[c]) (next C).
 */
const batchNormGradFn: FunctionDef = (() => {
  const [x, dy, dx, rows, rowBytes, mean, coef, acc64, blockRows] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [r0, rEnd, jb, q, qEnd, a, acc1, acc2, m, cf, g] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  return {
    name: 'batch_norm_grad', params: [I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, V128, V128, V128, V128, V128],
    body: [
      i32(0), set(r0),
      ...whileLess(r0, rows, [
        ...blockEnd(r0, blockRows, rows, rEnd),
        ...countUp(jb, rowBytes, 16, [
          op.v128Zero, set(acc1), op.v128Zero, set(acc2),
          get(mean), get(jb), op.i32Add, op.v128Load(), set(m),
          get(coef), get(jb), op.i32Add, op.v128Load(), set(cf),
          get(r0), get(rowBytes), op.i32Mul, get(jb), op.i32Add, set(q),
          get(rEnd), get(rowBytes), op.i32Mul, get(jb), op.i32Add, set(qEnd),
          ...whileLess(q, qEnd, [
            get(dy), get(q), op.i32Add, op.v128Load(), set(g),
            get(acc1), get(g), op.f32x4Add, set(acc1),
            get(acc2), get(g), get(x), get(q), op.i32Add, op.v128Load(), get(m), op.f32x4Sub, op.f32x4Mul, op.f32x4Add, set(acc2),
            get(dx), get(q), op.i32Add, get(g), get(cf), op.f32x4Mul, op.v128Store(),
            get(q), get(rowBytes), op.i32Add, set(q),
          ]),
          get(acc64), get(jb), get(jb), op.i32Add, op.i32Add, set(a),
          ...flushInto(a, acc1),
          get(a), get(rowBytes), get(rowBytes), op.i32Add, op.i32Add, set(a),
          ...flushInto(a, acc2),
        ]),
        get(rEnd), set(r0),
      ]),
    ],
  };
})();

/**
 * A grid of rows x cols blocks of `blockBytes`, each copied from
 * src + r*srcRow + c*srcCol to dst + r*dstRow + c*dstCol (slices, interleaving).
 * `copyOne(s, d, blockBytes, k)` emits the copy of one block from local s to local d
 * (local k is free for it to use).
 */
function blockCopier(name: string, copyOne: (s: number, d: number, blockBytes: number, k: number) => number[][]): FunctionDef {
  const [src, dst, rows, cols, blockBytes, srcRow, srcCol, dstRow, dstCol, r, c, s, d, k] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  return {
    name, params: [I32, I32, I32, I32, I32, I32, I32, I32, I32], locals: [I32, I32, I32, I32, I32],
    body: [
      ...countUp(r, rows, 1, [
        get(src), get(r), get(srcRow), op.i32Mul, op.i32Add, set(s),
        get(dst), get(r), get(dstRow), op.i32Mul, op.i32Add, set(d),
        ...countUp(c, cols, 1, [
          ...copyOne(s, d, blockBytes, k),
          get(s), get(srcCol), op.i32Add, set(s),
          get(d), get(dstCol), op.i32Add, set(d),
        ]),
      ]),
    ],
  };
}

/** Each block with memory.copy (memmove: safe for overlapping source and destination). */
const copyBlocksFn = blockCopier('copy_blocks', (s, d, blockBytes) => [get(d), get(s), get(blockBytes), op.memoryCopy]);

/**
 * Blocks of a few vectors (blockBytes a multiple of 16), with v128 loads and stores inline,
 * where memory.copy's per-call cost dominated (one output row of an 8x8 map is 32 bytes).
 */
const copyBlocksV128Fn = blockCopier('copy_blocks_v128', (s, d, blockBytes, k) => [
  ...countUp(k, blockBytes, 16, [
    get(d), get(k), op.i32Add,
    get(s), get(k), op.i32Add, op.v128Load(),
    op.v128Store(),
  ]),
]);

/**
 * MaxPool gradient for 2x2 windows at stride 2 that tile the input exactly
 * (even sizes, no padding): each input pixel gets dy where it is its window's
 * first maximum (taps in row-major order, replaced only when strictly greater,
 * the cpu backend's rule), else 0. Rows are window rows over the batch (N*outH).
 */
const maxPoolGrad2x2Fn: FunctionDef = (() => {
  const [x, dy, dx, rows, ow, cb, rowBytes] = [0, 1, 2, 3, 4, 5, 6];
  const [r, xo, j, o00, q, best, g, gt, w0, w1, w2] = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const at = (base: number, offset: number[][]) => [get(base), ...offset, op.i32Add];
  const tapOffset = (t: number): number[][] => [get(o00), ...(t & 1 ? [get(cb), op.i32Add] : []), ...(t & 2 ? [get(rowBytes), op.i32Add] : [])];
  const load = (t: number) => [...at(x, tapOffset(t)), op.v128Load()];
  /** gt = tap > best; best = max; earlier winners lose where gt. */
  const challenge = (t: number, winners: number[]) => [
    ...load(t), get(best), op.f32x4Gt, set(gt),
    ...load(t), get(best), get(gt), op.v128Bitselect, set(best),
    ...winners.flatMap((w) => [get(w), get(gt), op.v128AndNot, set(w)]),
  ];
  const store = (t: number, mask: number[][]) => [...at(dx, tapOffset(t)), get(g), ...mask, op.v128And, op.v128Store()];
  return {
    name: 'max_pool_grad_2x2', params: [I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, V128, V128, V128, V128, V128, V128],
    body: [
      ...countUp(r, rows, 1, [
        ...countUp(xo, ow, 1, [
          ...countUp(j, cb, 16, [
            get(r), get(rowBytes), op.i32Mul, get(r), get(rowBytes), op.i32Mul, op.i32Add,
            get(xo), get(cb), op.i32Mul, get(xo), get(cb), op.i32Mul, op.i32Add, op.i32Add, get(j), op.i32Add, set(o00),
            get(r), get(ow), op.i32Mul, get(xo), op.i32Add, get(cb), op.i32Mul, get(j), op.i32Add, set(q),
            get(dy), get(q), op.i32Add, op.v128Load(), set(g),
            ...load(0), set(best),
            ...load(1), get(best), op.f32x4Gt, set(w1), get(w1), op.v128Not, set(w0),
            ...load(1), get(best), get(w1), op.v128Bitselect, set(best),
            ...challenge(2, [w0, w1]), get(gt), set(w2),
            ...challenge(3, [w0, w1, w2]),
            ...store(0, [get(w0)]), ...store(1, [get(w1)]), ...store(2, [get(w2)]), ...store(3, [get(gt)]),
          ]),
        ]),
      ]),
    ],
  };
})();

const compiled = new WebAssembly.Module(assemble([reluGradFn, columnSumsFn, batchNormGradFn, copyBlocksFn, copyBlocksV128Fn, maxPoolGrad2x2Fn, scaledProductFn, packChannelsFn]));

interface SimdExports {
  relu_grad(dy: number, x: number, out: number, nbytes: number): void;
  column_sums(src: number, rows: number, rowBytes: number, acc64: number, blockRows: number): void;
  batch_norm_grad(x: number, dy: number, dx: number, rows: number, rowBytes: number, mean: number, coef: number, acc64: number, blockRows: number): void;
  copy_blocks(src: number, dst: number, rows: number, cols: number, blockBytes: number, srcRow: number, srcCol: number, dstRow: number, dstCol: number): void;
  copy_blocks_v128(src: number, dst: number, rows: number, cols: number, blockBytes: number, srcRow: number, srcCol: number, dstRow: number, dstCol: number): void;
  pack_channels(src: number, dst: number, h: number, w: number, channelBytes: number, chanStride: number, rowStride: number): void;
  scaled_product(a: number, b: number, out: number, nbytes: number, factor: number): void;
  max_pool_grad_2x2(x: number, dy: number, dx: number, rows: number, ow: number, channelBytes: number, rowBytes: number): void;
}

// One instance per (wasm heap, module): in practice one per process, like the backend they extend.
const instances = new WeakMap<WebAssembly.Memory, Map<WebAssembly.Module, WebAssembly.Exports>>();

function heapMemory(backend: BackendWasm): WebAssembly.Memory {
  const memory = (backend.wasm as unknown as { asm?: { memory?: WebAssembly.Memory } }).asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('tfjs wasm backend does not expose its memory (asm.memory)');
  return memory;
}

/** The exports of `module` instantiated on the backend's own memory (it imports `env.memory`). */
export function instantiateOnHeap<T>(backend: BackendWasm, module: WebAssembly.Module): T {
  const memory = heapMemory(backend);
  let byModule = instances.get(memory);
  if (!byModule) {
    byModule = new Map();
    instances.set(memory, byModule);
  }
  let exports = byModule.get(module);
  if (!exports) {
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    byModule.set(module, exports);
  }
  return exports as T;
}

function kernels(backend: BackendWasm): SimdExports {
  return instantiateOnHeap<SimdExports>(backend, compiled);
}

/** Byte address of a tensor's data on the wasm heap. */
export function heapAddress(backend: BackendWasm, info: TensorInfo): number {
  const data = backend.dataIdMap.get(info.dataId);
  if (!data) throw new Error('tensor is not on the wasm heap (disposed?)');
  return data.memoryOffset;
}

/** Whether the per-channel SIMD kernels cover `channels` (whole vectors of 4). */
export function simdChannels(channels: number): boolean {
  return channels > 0 && channels % 4 === 0;
}

function blockRows(rowBytes: number): number {
  return Math.max(1, Math.floor(BLOCK_BYTES / rowBytes));
}

/** Zeroed float64 scratch on the heap (freed by the caller with `disposeInfo`). */
export function scratch64(backend: BackendWasm, count: number): { info: TensorInfo; view: () => Float64Array } {
  const info = backend.makeOutput([2 * count], 'float32');
  const address = heapAddress(backend, info);
  if (address % 8 !== 0) throw new Error(`heap allocation at ${address} is not 8-byte aligned`);
  const view = () => new Float64Array(heapMemory(backend).buffer, address, count);
  view().fill(0);
  return { info, view };
}

/** Sums of the columns of x viewed as [rows, channels], in float64. */
export function columnSums(backend: BackendWasm, x: TensorInfo, rows: number, channels: number): Float64Array {
  if (!simdChannels(channels)) throw new Error(`columnSums: ${channels} channels; the SIMD kernel needs a positive multiple of 4`);
  const acc = scratch64(backend, channels);
  kernels(backend).column_sums(heapAddress(backend, x), rows, channels * 4, heapAddress(backend, acc.info), blockRows(channels * 4));
  const sums = Float64Array.from(acc.view());
  backend.disposeData(acc.info.dataId);
  return sums;
}

/** out = dy * step(x) (NaN where x is not finite), for equal-sized float32 tensors. */
export function reluGradInto(backend: BackendWasm, dy: TensorInfo, x: TensorInfo, out: TensorInfo, size: number): void {
  const vectorized = size - (size % 4);
  kernels(backend).relu_grad(heapAddress(backend, dy), heapAddress(backend, x), heapAddress(backend, out), vectorized * 4);
  if (vectorized === size) return;
  const f32 = (info: TensorInfo) => backend.typedArrayFromHeap(info) as Float32Array;
  const [g, xs, d] = [f32(dy), f32(x), f32(out)];
  for (let i = vectorized; i < size; i++) d[i] = g[i] * +(xs[i] > 0) + (xs[i] - xs[i]);
}

/** out = a * b * factor for equal-sized float32 tensors. */
export function scaledProductInto(backend: BackendWasm, a: TensorInfo, b: TensorInfo, out: TensorInfo, size: number, factor: number): void {
  const vectorized = size - (size % 4);
  kernels(backend).scaled_product(heapAddress(backend, a), heapAddress(backend, b), heapAddress(backend, out), vectorized * 4, factor);
  if (vectorized === size) return;
  const f32 = (info: TensorInfo) => backend.typedArrayFromHeap(info) as Float32Array;
  const [av, bv, d] = [f32(a), f32(b), f32(out)];
  for (let i = vectorized; i < size; i++) d[i] = av[i] * bv[i] * factor;
}

/**
 * dx = dy * coef (per channel) into `dx`; returns float64 per-channel
 * [sum dy, sum dy * (x - mean)] (2C values). `mean` is a [C] float32 tensor.
 */
export function batchNormGradInto(
  backend: BackendWasm, x: TensorInfo, dy: TensorInfo, dx: TensorInfo, mean: TensorInfo, coef: Float32Array, rows: number,
): Float64Array {
  const c = coef.length;
  if (!simdChannels(c)) throw new Error(`batchNormGradInto: ${c} channels; the SIMD kernel needs a positive multiple of 4`);
  const coefInfo = backend.makeOutput([c], 'float32');
  const acc = scratch64(backend, 2 * c);
  (backend.typedArrayFromHeap(coefInfo) as Float32Array).set(coef);
  kernels(backend).batch_norm_grad(
    heapAddress(backend, x), heapAddress(backend, dy), heapAddress(backend, dx), rows, c * 4,
    heapAddress(backend, mean), heapAddress(backend, coefInfo), heapAddress(backend, acc.info), blockRows(3 * c * 4),
  );
  const sums = Float64Array.from(acc.view());
  backend.disposeData(acc.info.dataId);
  backend.disposeData(coefInfo.dataId);
  return sums;
}

/** Up to this block size, copyBlocks moves vectors itself instead of calling memory.copy per block. */
const SMALL_BLOCK_BYTES = 256;

/** Byte strides of a 2-D grid of equal blocks, as `copyBlocks` takes them. */
export interface BlockGrid {
  rows: number; cols: number; blockBytes: number;
  srcRow: number; srcCol: number; dstRow: number; dstCol: number;
}

/** Copies a grid of blocks between (or within) tensors on the heap; byte offsets are added to the tensors' addresses. */
export function copyBlocks(backend: BackendWasm, src: TensorInfo, srcOffset: number, dst: TensorInfo, dstOffset: number, g: BlockGrid): void {
  const k = kernels(backend);
  // Overlapping blocks need memory.copy's memmove semantics; small disjoint ones go vector by vector.
  const small = g.blockBytes % 16 === 0 && g.blockBytes <= SMALL_BLOCK_BYTES && src.dataId !== dst.dataId;
  (small ? k.copy_blocks_v128 : k.copy_blocks)(
    heapAddress(backend, src) + srcOffset, heapAddress(backend, dst) + dstOffset,
    g.rows, g.cols, g.blockBytes, g.srcRow, g.srcCol, g.dstRow, g.dstCol,
  );
}

/**
 * MaxPool gradient of 2x2 windows at stride 2 over an input of even height and
 * width (windows tile it exactly), channels a multiple of 4; writes every element of dx.
 */
export function maxPoolGrad2x2Into(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, dx: TensorInfo): void {
  const [n, h, w, c] = x.shape;
  if (h % 2 !== 0 || w % 2 !== 0 || !simdChannels(c)) throw new Error(`maxPoolGrad2x2Into: input [${x.shape}] needs even height and width and channels a multiple of 4`);
  const bytes = Float32Array.BYTES_PER_ELEMENT;
  kernels(backend).max_pool_grad_2x2(heapAddress(backend, x), heapAddress(backend, dy), heapAddress(backend, dx), n * (h / 2), w / 2, c * bytes, w * c * bytes);
}

/**
 * Writes one image of x ([N, H, W, C], image `image`) channel-major: channel c,
 * pixel (y, x) to element dstOffset + c*chanStride + y*rowStride + x of `dst`.
 * W and C must be multiples of 4.
 */
export function packChannelsInto(
  backend: BackendWasm, x: TensorInfo, image: number, dst: TensorInfo, dstOffset: number, chanStride: number, rowStride: number,
): void {
  const [, h, w, c] = x.shape;
  if (w % 4 !== 0 || !simdChannels(c)) throw new Error(`packChannelsInto: [${x.shape}] needs width and channels multiples of 4`);
  const bytes = Float32Array.BYTES_PER_ELEMENT;
  kernels(backend).pack_channels(
    heapAddress(backend, x) + image * h * w * c * bytes, heapAddress(backend, dst) + dstOffset * bytes,
    h, w, c * bytes, chanStride * bytes, rowStride * bytes,
  );
}
