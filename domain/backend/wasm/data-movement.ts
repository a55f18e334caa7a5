/**
 * Kernels whose stock wasm versions copy more than they need to: Identity
 * (a fresh copy per call, hundreds per training step) and Tile (a generic
 * index loop; batch norm's gradient tiles per-channel vectors to full size).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from './kernel-calls.js';

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
