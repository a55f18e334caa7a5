/**
 * The synthetic training step that `bench:train` times (a random batch of 128, training-mode forward,
 * backward and an SGD update), shared with `bench:train-profile` and `bench:peer` so that every
 * script compares against the same kernel-speed figure.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../domain/common/rng.js';
import { buildModel } from '../domain/models/zoo.js';
import { Sgd } from '../domain/training/sgd.js';

export interface Timing { wallMs: number; cpuMs: number }

export interface Figures {
  arch: string;
  batch: number;
  reps: number;
  /** Wall clock. */
  forwardMs: number;
  trainMs: number;
  forwardImgPerS: number;
  trainImgPerS: number;
  ratio: number;
  /** Process CPU time. */
  forwardCpuMs: number;
  trainCpuMs: number;
  forwardImgPerCpuS: number;
  trainImgPerCpuS: number;
  cpuRatio: number;
}


export function bestOf(reps: number, f: () => void): Timing {
  f(); // warm-up: operator creation, weight packing, heap growth
  let wallMs = Infinity;
  let cpuMs = Infinity;
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    wallMs = Math.min(wallMs, performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuMs = Math.min(cpuMs, (c.user + c.system) / 1000);
  }
  return { wallMs, cpuMs };
}

function randomBatch(rng: Rng, batch: number, classes: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const pixels = new Float32Array(batch * 32 * 32 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.uniform();
  const labels = Int32Array.from({ length: batch }, () => rng.int(0, classes));
  return { x: tf.tensor4d(pixels, [batch, 32, 32, 3]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), classes) as tf.Tensor2D };
}

export interface Workload { forward: () => void; step: () => void; dispose: () => void }

/** `--models` entries are `arch` or `arch@width` (channel multiplier, as params.models.width sets it). */
export function parseModelSpec(spec: string): { arch: string; width: number | null } {
  const [arch, w] = spec.split('@');
  if (w === undefined) return { arch, width: null };
  const width = Number(w);
  if (!(width > 0)) throw new Error(`--models: width in '${spec}' must be a positive number, got '${w}'`);
  return { arch, width };
}

export function workload(spec: string, batch: number, rng: Rng): Workload {
  const classes = 10;
  const { arch, width } = parseModelSpec(spec);
  const model = buildModel(arch, { numClasses: classes, inputShape: [32, 32, 3], seed: 0, ...(width !== null ? { width } : {}) });
  const { x, y } = randomBatch(rng, batch, classes);
  const params = model.trainableWeights.map((w) => ({ name: w.name, variable: (w as unknown as { val: tf.Variable }).val }));
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 5e-4 });
  const forward = () => { tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync()); };
  const step = () => {
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      params.map((p) => p.variable),
    );
    const byName: Record<string, tf.Tensor> = {};
    for (const p of params) byName[p.name] = grads[p.variable.name];
    sgd.step(params, byName, 0.01);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  return { forward, step, dispose: () => { tf.dispose([x, y]); model.dispose(); } };
}

export function measure(arch: string, batch: number, reps: number, rng: Rng): Figures {
  const { forward, step, dispose } = workload(arch, batch, rng);
  const fwd = bestOf(reps, forward);
  const trn = bestOf(reps, step);
  dispose();
  const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
  return {
    arch, batch, reps,
    forwardMs: round(fwd.wallMs), trainMs: round(trn.wallMs),
    forwardImgPerS: round((batch / fwd.wallMs) * 1000), trainImgPerS: round((batch / trn.wallMs) * 1000),
    ratio: round(trn.wallMs / fwd.wallMs, 2),
    forwardCpuMs: round(fwd.cpuMs), trainCpuMs: round(trn.cpuMs),
    forwardImgPerCpuS: round((batch / fwd.cpuMs) * 1000), trainImgPerCpuS: round((batch / trn.cpuMs) * 1000),
    cpuRatio: round(trn.cpuMs / fwd.cpuMs, 2),
  };
}

