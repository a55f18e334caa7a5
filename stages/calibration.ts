/**
 * Calibrates the cost model (throughput.json, measured on the machine where `bench:train` ran)
 * to the current machine: a short probe times training steps of the reference model and
 * compares them with its throughput.json entry. The ratio scales every estimate. Cached per
 * machine (host, CPU model, core count) and backend, so the probe runs once, for a few seconds.
 * Not imported by any stage, so not in any cache key.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { lookupThroughput, readThroughputFileSync, type ThroughputEntry } from '../domain/backend/throughput.js';

/** The model and batch the probe times: the cheapest one bench:train measures on every backend. */
const PROBE_ARCH = 'small-cnn';
const PROBE_BATCH = 128;
/** Timed steps after one warm-up; the fastest counts (other processes share the CPU). */
const PROBE_STEPS = 4;

export interface Calibration {
  machine: string;
  backend: string;
  /** Training images per CPU-second the probe measured here, and what throughput.json says. */
  measuredTrainImgPerS: number;
  referenceTrainImgPerS: number;
  referenceDate: string;
  /** Estimates are divided by this: > 1 means this machine is faster than the reference. */
  speedFactor: number;
  probedAt: string;
}

export const machineName = (): string => `${hostname()} (${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores)`;

function cacheFile(cacheDir: string, backend: string, reference: ThroughputEntry): string {
  const id = createHash('sha256').update(JSON.stringify({ machine: machineName(), backend, reference })).digest('hex').slice(0, 16);
  return join(cacheDir, 'calibration', `${id}.json`);
}

/** Times PROBE_STEPS training steps of the reference model on `backend`; returns the best images per CPU-second. */
async function probe(backend: string): Promise<number> {
  const tf = await import('@tensorflow/tfjs');
  const { selectBackend, parseBackendChoice } = await import('../domain/backend/select.js');
  const { buildModel } = await import('../domain/models/zoo.js');
  const { Sgd } = await import('../domain/training/sgd.js');
  const { Rng } = await import('../domain/common/rng.js');
  await selectBackend(parseBackendChoice(backend, 'calibration'));
  const classes = 10;
  const rng = new Rng(0);
  const model = buildModel(PROBE_ARCH, { numClasses: classes, inputShape: [32, 32, 3], seed: 0 });
  const pixels = Float32Array.from({ length: PROBE_BATCH * 32 * 32 * 3 }, () => rng.uniform());
  const x = tf.tensor4d(pixels, [PROBE_BATCH, 32, 32, 3]);
  const y = tf.oneHot(tf.tensor1d(Int32Array.from({ length: PROBE_BATCH }, () => rng.int(0, classes)), 'int32'), classes) as TF.Tensor2D;
  const params = model.trainableWeights.map((w) => ({ name: w.name, variable: (w as unknown as { val: TF.Variable }).val }));
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 5e-4 });
  const step = (): void => {
    const loss = (): TF.Scalar => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as TF.Tensor) as TF.Scalar;
    const { value, grads } = tf.variableGrads(loss, params.map((p) => p.variable));
    const byName: Record<string, TF.Tensor> = {};
    for (const p of params) byName[p.name] = grads[p.variable.name];
    sgd.step(params, byName, 0.01);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  try {
    step(); // warm-up: kernel set-up, weight packing
    // CPU time, not wall time: on a shared machine it is the steadier measure of this CPU's speed,
    // and throughput.json's figures are per CPU-second too (bench:train).
    let best = Infinity;
    for (let i = 0; i < PROBE_STEPS; i++) {
      const c0 = process.cpuUsage();
      step();
      const c = process.cpuUsage(c0);
      best = Math.min(best, (c.user + c.system) / 1000);
    }
    return (PROBE_BATCH / best) * 1000;
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}

/** Where this machine's calibration for `backend` is cached; null when throughput.json has nothing to calibrate against. */
export function calibrationPath(backend: string, cacheDir: string): string | null {
  const reference = lookupThroughput(readThroughputFileSync(), backend, PROBE_ARCH, null);
  return reference && reference.batch === PROBE_BATCH ? cacheFile(cacheDir, backend, reference) : null;
}

/**
 * This machine's calibration for `backend`: from the cache, else (when `allowProbe`) measured now
 * and cached. Null when there is no reference entry to compare with, or no probe may run.
 */
export async function machineCalibration(backend: string, cacheDir: string, allowProbe: boolean): Promise<Calibration | null> {
  const reference = lookupThroughput(readThroughputFileSync(), backend, PROBE_ARCH, null);
  if (!reference || reference.batch !== PROBE_BATCH) return null;
  const file = cacheFile(cacheDir, backend, reference);
  if (existsSync(file)) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Calibration;
    } catch {
      // Probe again below.
    }
  }
  if (!allowProbe) return null;
  const measured = await probe(backend);
  const calibration: Calibration = {
    machine: machineName(),
    backend,
    measuredTrainImgPerS: Math.round(measured * 10) / 10,
    referenceTrainImgPerS: reference.trainImgPerS,
    referenceDate: reference.date,
    speedFactor: Math.round((measured / reference.trainImgPerS) * 1000) / 1000,
    probedAt: new Date().toISOString(),
  };
  mkdirSync(join(cacheDir, 'calibration'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(calibration, null, 2)}\n`);
  renameSync(tmp, file);
  return calibration;
}

export function describeCalibration(c: Calibration): string {
  return (
    `${c.machine}, ${c.backend}: ${PROBE_ARCH} training at ${c.measuredTrainImgPerS} img per CPU-s here vs ${c.referenceTrainImgPerS} in throughput.json ` +
    `(${c.referenceDate.slice(0, 10)}), so estimates x${(1 / c.speedFactor).toFixed(2)}; probed ${c.probedAt.slice(0, 16).replace('T', ' ')} UTC`
  );
}
