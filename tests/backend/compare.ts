/** Shared helpers: run the same computation on 'cpu' (the reference) and 'wasm', compare with a relative error. */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { Rng } from '../../domain/common/rng.js';
import { startWasm } from '../../domain/backend/wasm/load.js';

let wasmReady: Promise<unknown> | null = null;

/** Initialises wasm with the training kernels once per test file. */
export function ensureWasm(): Promise<unknown> {
  wasmReady ??= startWasm();
  return wasmReady;
}

export function randomArray(rng: Rng, size: number, scale = 1): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rng.range(-scale, scale);
  return a;
}

export type Arrays = Float32Array[];

/** Evaluates `f` under `backend` and reads every result back as plain arrays. */
export async function runOn(backend: 'cpu' | 'wasm', f: () => tf.Tensor[]): Promise<Arrays> {
  await tf.setBackend(backend);
  const outs = tf.tidy(f);
  const arrays = outs.map((t) => t.dataSync() as Float32Array).map((a) => Float32Array.from(a));
  tf.dispose(outs);
  return arrays;
}

/** max |a - b| / max |b|: scale-free, and strict where values are large. */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let diff = 0, scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

/** Runs on both backends and returns the worst relative error over all outputs. */
export async function worstError(f: () => tf.Tensor[]): Promise<number> {
  await ensureWasm();
  const ref = await runOn('cpu', f);
  const got = await runOn('wasm', f);
  expect(got.length).toBe(ref.length);
  return Math.max(...got.map((g, i) => { expect(g.length).toBe(ref[i].length); return relativeError(g, ref[i]); }));
}
