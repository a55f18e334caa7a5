/**
 * Kernels whose stock wasm versions copy more than they need to: Identity
 * (a fresh copy per call, hundreds per training step), Tile (a generic
 * index loop; batch norm's gradient tiles per-channel vectors to full size)
 * and Slice (the same, on the gradient of every zero padding).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from './kernel-calls.js';
import { copyBlocks } from './simd-kernels.js';

/** Shares the input's memory, as the cpu backend and the wasm Reshape do. */
export function identityKernel(stock: tf.KernelFunc | undefined): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') {
      if (!stock) throw new Error('Identity on wasm: no kernel for string tensors');
      return stock(args);
    }
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

type Numeric = Float32Array | Int32Array | Uint8Array;

/**
 * Tiles innermost axis first: after handling axis a, the tail from a on is
 * complete, so each outer row is its finished block repeated reps[a] times.
 */
export function tileArray(src: Numeric, shape: number[], reps: number[], dst: Numeric): void {
  const rank = shape.length;
  let rows = src.length / shape[rank - 1];
  let rowLen = shape[rank - 1];
  // Innermost axis: spread each source row to its repeated width.
  const r0 = reps[rank - 1];
  const blockOut = rowLen * r0;
  for (let i = rows - 1; i >= 0; i--) {
    const s = src.subarray(i * rowLen, (i + 1) * rowLen);
    for (let k = 0; k < r0; k++) dst.set(s, i * blockOut + k * rowLen);
  }
  rowLen = blockOut;
  for (let a = rank - 2; a >= 0; a--) {
    const inner = rowLen * shape[a];
    rows /= shape[a];
    const grown = inner * reps[a];
    // Back to front so a row's destination never overwrites an unread source row.
    for (let i = rows - 1; i >= 0; i--) {
      const from = i * inner;
      const to = i * grown;
      if (to !== from) dst.copyWithin(to, from, from + inner);
      for (let k = 1; k < reps[a]; k++) dst.copyWithin(to + k * inner, to, to + inner);
    }
    rowLen = grown;
  }
}

export function tileKernel(): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const { reps } = attrs as unknown as { reps: number[] };
    if (x.dtype === 'string' || x.dtype === 'complex64') throw new Error(`Tile on wasm: unsupported dtype ${x.dtype}`);
    if (reps.length !== x.shape.length || reps.some((r) => !Number.isInteger(r) || r < 0)) {
      throw new Error(`Tile: reps ${JSON.stringify(reps)} must be ${x.shape.length} non-negative integers`);
    }
    const b = backend as BackendWasm;
    const outShape = x.shape.map((d, i) => d * reps[i]);
    const out = b.makeOutput(outShape, x.dtype);
    if (outShape.some((d) => d === 0) || x.shape.length === 0) {
      if (x.shape.length === 0) (b.typedArrayFromHeap(out) as Numeric).set(b.typedArrayFromHeap(x) as Numeric);
      return out;
    }
    tileArray(b.typedArrayFromHeap(x) as Numeric, x.shape, reps, b.typedArrayFromHeap(out) as Numeric);
    return out;
  };
}

/** A cast to the tensor's own dtype (moments and losses cast float32 to float32) shares memory instead of copying. */
export function castKernel(stock: tf.KernelFunc | undefined): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
    if (dtype === x.dtype && dtype !== 'string') {
      (args.backend as BackendWasm).incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype };
    }
    if (!stock) throw new Error(`Cast on wasm: no kernel for ${x.dtype} -> ${dtype}`);
    return stock(args);
  };
}

/**
 * Slice of a tensor of rank 4 or less with 4-byte elements, as block copies
 * (one per kept row of the innermost two sliced axes). The stock kernel walks
 * every element with a generic index loop: 29 ms for the gradient of a
 * ZeroPadding2D on [128, 34, 34, 16], where this is a few.
 */
export function sliceKernel(stock: tf.KernelFunc | undefined): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const rank = x.shape.length;
    const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
    if (rank === 0 || rank > 4 || (x.dtype !== 'float32' && x.dtype !== 'int32') || s.some((d) => d === 0)) {
      if (!stock) throw new Error(`Slice on wasm: no kernel for dtype ${x.dtype}, rank ${rank}`);
      return stock(args);
    }
    tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, b, s);
    const backend = args.backend as BackendWasm;
    const out = backend.makeOutput(s, x.dtype);
    // Padded to rank 4 with leading unit axes; element strides of x.
    const shape = [...new Array<number>(4 - rank).fill(1), ...x.shape];
    const start = [...new Array<number>(4 - rank).fill(0), ...b];
    const extent = [...new Array<number>(4 - rank).fill(1), ...s];
    const stride = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
    const bytes = 4;
    // Whole rows of the last axis merge into one block per kept index of axis 2.
    const fullLast = extent[3] === shape[3];
    const blockBytes = (fullLast && extent[2] === shape[2] ? extent[2] * extent[3] : extent[3]) * bytes;
    const cols = fullLast && extent[2] === shape[2] ? 1 : extent[2];
    for (let n = 0; n < extent[0]; n++) {
      const srcOffset = ((start[0] + n) * stride[0] + start[1] * stride[1] + start[2] * stride[2] + start[3]) * bytes;
      const dstOffset = n * extent[1] * extent[2] * extent[3] * bytes;
      copyBlocks(backend, x, srcOffset, out, dstOffset, {
        rows: extent[1], cols, blockBytes,
        srcRow: stride[1] * bytes, srcCol: stride[2] * bytes,
        dstRow: extent[2] * extent[3] * bytes, dstCol: extent[3] * bytes,
      });
    }
    return out;
  };
}
