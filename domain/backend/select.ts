/**
 * Chooses the tfjs compute backend: libtensorflow with CUDA or on CPU where the
 * optional tfjs-node packages load, else wasm (with our training kernels), else
 * the pure-JS cpu backend. Which one ran is recorded, but it is not part of any
 * cache key: every backend is meant to give the same results.
 */
import * as tf from '@tensorflow/tfjs';
import { startWasm } from './wasm/load.js';

export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export type ConcreteBackend = Exclude<BackendChoice, 'auto'>;

/** Environment variable that overrides the params' choice (e.g. to force 'cpu' in a debugging run). */
export const BACKEND_ENV_VAR = 'TRIGGER_LAB_BACKEND';

const AUTO_ORDER: ConcreteBackend[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  /** What was asked for, after the environment override. */
  requested: BackendChoice;
  /** What is running. */
  name: ConcreteBackend;
  /** The tfjs backend name (tf.getBackend()). */
  tfBackend: string;
  tfjsVersion: string;
  simd?: boolean;
  threads?: number;
  /** Kernels this project registered on top of the backend's own. */
  trainingKernels?: string[];
  /** One readable line for logs and reports. */
  detail: string;
  /** Why each backend tried before this one did not load (auto only). */
  skipped?: Record<string, string>;
}

export interface SelectOptions {
  /** Defaults to process.env; tests pass their own. */
  env?: Record<string, string | undefined>;
  /** For optional-package loading; tests replace it to simulate absent packages. */
  importModule?: (specifier: string) => Promise<unknown>;
}

export function parseBackendChoice(value: string, source: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new Error(`${source}: unknown backend '${value}'; allowed: ${BACKEND_CHOICES.join(', ')}`);
}

const NODE_PACKAGES: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

async function loadOne(name: ConcreteBackend, importModule: (s: string) => Promise<unknown>): Promise<BackendInfo> {
  const tfjsVersion = tf.version.tfjs;
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    const pkg = NODE_PACKAGES[name];
    try {
      await importModule(pkg);
    } catch (err) {
      throw new Error(`${pkg} could not be loaded (${(err as Error).message.split('\n')[0]})`);
    }
    if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but the 'tensorflow' backend did not initialise`);
    return { requested: name, name, tfBackend: 'tensorflow', tfjsVersion, detail: `${name} (${pkg}), tfjs ${tfjsVersion}` };
  }
  if (name === 'wasm') {
    const rt = await startWasm();
    return {
      requested: name, name, tfBackend: 'wasm', tfjsVersion, simd: rt.simd, threads: rt.threads, trainingKernels: rt.trainingKernels,
      detail: `wasm (${rt.binary}, simd ${rt.simd ? 'on' : 'off'}, ${rt.threads} thread${rt.threads === 1 ? '' : 's'}), tfjs ${tfjsVersion}`,
    };
  }
  if (!(await tf.setBackend('cpu'))) throw new Error(`the pure-JS 'cpu' backend did not initialise`);
  return { requested: name, name, tfBackend: 'cpu', tfjsVersion, detail: `cpu (pure JS), tfjs ${tfjsVersion}` };
}

/**
 * Makes the chosen backend active. 'auto' takes the first of tensorflow-gpu,
 * tensorflow, wasm, cpu that loads; an explicit choice that cannot load throws
 * an error saying why.
 */
export async function selectBackend(choice: BackendChoice, opts: SelectOptions = {}): Promise<BackendInfo> {
  const env = opts.env ?? process.env;
  const importModule = opts.importModule ?? ((s: string) => import(s));
  const override = env[BACKEND_ENV_VAR];
  const requested = override !== undefined && override !== '' ? parseBackendChoice(override, BACKEND_ENV_VAR) : parseBackendChoice(choice, 'backend');
  if (requested !== 'auto') {
    try {
      return { ...(await loadOne(requested, importModule)), requested };
    } catch (err) {
      throw new Error(`backend '${requested}' was requested but cannot be used: ${(err as Error).message}`);
    }
  }
  const skipped: Record<string, string> = {};
  for (const name of AUTO_ORDER) {
    try {
      const info = await loadOne(name, importModule);
      return { ...info, requested, skipped };
    } catch (err) {
      skipped[name] = (err as Error).message;
    }
  }
  throw new Error(`no backend could be loaded: ${JSON.stringify(skipped)}`);
}

/** The active backend as a JSON-able record for meta.json. */
export function describeBackend(info: BackendInfo): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {
    backend: info.name, tfBackend: info.tfBackend, tfjs: info.tfjsVersion, detail: info.detail,
  };
  if (info.simd !== undefined) out.simd = info.simd;
  if (info.threads !== undefined) out.threads = info.threads;
  if (info.trainingKernels) out.trainingKernels = info.trainingKernels;
  return out;
}
