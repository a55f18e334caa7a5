/**
 * Per-epoch training checkpoints: model weights (tfjs format), optimizer
 * buffers, RNG state, epochs done and the curve so far. Each checkpoint is a
 * complete directory `epoch-NNNN`; the file LATEST names the newest one and
 * is replaced atomically only after that directory is written, so a process
 * killed at any moment leaves a usable checkpoint (the previous one at worst).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { RngState } from '../common/rng.js';
import { loadWeightsInto, saveModel } from '../models/io.js';
import type { SgdState } from './sgd.js';
import type { EpochRecord } from './types.js';

export interface CheckpointState {
  epochsDone: number;
  rng: RngState;
  curve: EpochRecord[];
  /** The settings a resumed run must share with the run that wrote the checkpoint. */
  config: Record<string, number | number[]>;
}

const LATEST = 'LATEST';
const STATE = 'state.json';
const OPTIMIZER_JSON = 'optimizer.json';
const OPTIMIZER_BIN = 'optimizer.bin';
const MODEL_DIR = 'model';

interface OptimizerManifest {
  momentum: number;
  weightDecay: number;
  buffers: { name: string; shape: number[] }[];
}

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

async function writeOptimizer(dir: string, state: SgdState): Promise<void> {
  const names = Object.keys(state.buffers);
  const manifest: OptimizerManifest = {
    momentum: state.momentum,
    weightDecay: state.weightDecay,
    buffers: names.map((name) => ({ name, shape: state.buffers[name].shape })),
  };
  const chunks = names.map((n) => {
    const v = state.buffers[n].values;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  });
  await fs.writeFile(path.join(dir, OPTIMIZER_BIN), Buffer.concat(chunks));
  await fs.writeFile(path.join(dir, OPTIMIZER_JSON), JSON.stringify(manifest));
}

async function readOptimizer(dir: string): Promise<SgdState> {
  const manifest = JSON.parse(await fs.readFile(path.join(dir, OPTIMIZER_JSON), 'utf8')) as OptimizerManifest;
  const bin = await fs.readFile(path.join(dir, OPTIMIZER_BIN));
  const buffers: SgdState['buffers'] = {};
  let offset = 0;
  for (const { name, shape } of manifest.buffers) {
    const count = shape.reduce((a, b) => a * b, 1);
    // Copy out: the file buffer's offset need not be 4-byte aligned.
    const values = new Float32Array(count);
    new Uint8Array(values.buffer).set(bin.subarray(offset, offset + 4 * count));
    offset += 4 * count;
    buffers[name] = { shape, values };
  }
  if (offset !== bin.length) throw new Error(`${path.join(dir, OPTIMIZER_BIN)}: ${bin.length} bytes, manifest describes ${offset}`);
  return { momentum: manifest.momentum, weightDecay: manifest.weightDecay, buffers };
}

const epochDirName = (epochsDone: number) => `epoch-${String(epochsDone).padStart(4, '0')}`;

export async function saveCheckpoint(root: string, model: tf.LayersModel, optimizer: SgdState, state: CheckpointState): Promise<void> {
  const name = epochDirName(state.epochsDone);
  const dir = path.join(root, name);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  await saveModel(model, path.join(dir, MODEL_DIR));
  await writeOptimizer(dir, optimizer);
  await fs.writeFile(path.join(dir, STATE), JSON.stringify(state));
  await writeAtomic(path.join(root, LATEST), name);
  for (const entry of await fs.readdir(root)) {
    if (entry.startsWith('epoch-') && entry !== name) await fs.rm(path.join(root, entry), { recursive: true, force: true });
  }
}

/** Loads the newest checkpoint's weights into `model` and returns its state, or null when there is none. */
export async function loadCheckpoint(
  root: string,
  model: tf.LayersModel,
): Promise<{ state: CheckpointState; optimizer: SgdState } | null> {
  let name: string;
  try {
    name = (await fs.readFile(path.join(root, LATEST), 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const dir = path.join(root, name);
  const state = JSON.parse(await fs.readFile(path.join(dir, STATE), 'utf8')) as CheckpointState;
  const optimizer = await readOptimizer(dir);
  await loadWeightsInto(model, path.join(dir, MODEL_DIR));
  return { state, optimizer };
}
