/**
 * Starts the tfjs wasm backend under Node: points it at the .wasm binaries
 * inside node_modules (a file path, which Emscripten reads with fs under Node)
 * and registers the training kernels.
 */
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { registerWasmTrainingKernels } from './register.js';

export interface WasmRuntime {
  simd: boolean;
  threads: number;
  binary: string;
  trainingKernels: string[];
}

/** Directory holding tfjs-backend-wasm*.wasm, with a trailing separator as setWasmPaths expects. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  const dir = path.join(path.dirname(pkg), 'dist');
  const probe = path.join(dir, 'tfjs-backend-wasm.wasm');
  if (!existsSync(probe)) throw new Error(`wasm binaries not found: expected ${probe}`);
  return dir + path.sep;
}

/** Initialises 'wasm' (once per process) and makes it the active backend. */
export async function startWasm(): Promise<WasmRuntime> {
  const dir = wasmBinaryDir();
  tfWasm.setWasmPaths(dir);
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error(`wasm backend failed to initialise from ${dir}`);
  await tf.ready();
  const trainingKernels = registerWasmTrainingKernels();
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threadsSupported = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  const binary = simd && threadsSupported ? 'tfjs-backend-wasm-threaded-simd.wasm' : simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
  return { simd, threads: tfWasm.getThreadsCount(), binary, trainingKernels };
}
