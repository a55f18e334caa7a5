/**
 * The training loop: PyTorch-style SGD (sgd.ts) under a step schedule
 * (schedule.ts), softmax cross-entropy on logits, batch norm in training mode
 * during the step (tfjs-layers updates the moving averages itself when a
 * model is applied with training: true; tests check it; unlike PyTorch it
 * averages the biased batch variance, a factor n/(n-1) with n = batch x height
 * x width, under 0.1% at CIFAR sizes). The caller supplies
 * each epoch's batches (augmentation and poisoning are the attack's business)
 * and the loop disposes them. With a checkpoint directory, every epoch ends
 * with a checkpoint and a restarted run resumes from the newest one, drawing
 * the same random numbers and reaching the same weights as an uninterrupted run.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../common/rng.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint.js';
import type { Batch } from './batches.js';
import { checkSchedule, learningRateAt } from './schedule.js';
import { Sgd, type NamedVariable } from './sgd.js';
import { EPOCH_PHASE_KEYS, EPOCH_TIMING_KEYS, type EpochPhase, type EpochPhases, type EpochRecord, type TrainProgress } from './types.js';

export interface TrainOptions {
  epochs: number;
  /** Largest batch the recipe allows; a bigger batch from `batches` is an error. */
  batchSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  milestones: number[];
  gamma: number;
  seed: number;
  /** The 0-based epoch's batches; draw every random choice from `rng`. Tensors are disposed by the loop. */
  batches: (epoch: number, rng: Rng) => Iterable<Batch>;
  /** Evaluation after each epoch (the model is in inference mode there); its numbers join the curve. */
  onEpochEnd?: (epoch: number, model: tf.LayersModel) => Promise<Record<string, number>>;
  checkpointDir?: string;
  progress?: (p: TrainProgress) => void;
  signal?: AbortSignal;
}

export interface TrainResult {
  curve: EpochRecord[];
  /** Epochs found done in the checkpoint at start (0 for a fresh run). */
  resumedAt: number;
}

export class NonFiniteLossError extends Error {
  constructor(
    readonly epoch: number,
    readonly batch: number,
    readonly loss: number,
  ) {
    super(`training loss became ${loss} at epoch ${epoch + 1}, batch ${batch + 1} (0-based epoch ${epoch}, batch ${batch}); lower the learning rate or check the inputs`);
    this.name = 'NonFiniteLossError';
  }
}

const BUILTIN_KEYS = new Set<string>(['epoch', 'loss', 'trainAcc', 'lr', ...EPOCH_TIMING_KEYS]);

function checkOptions(opts: TrainOptions): void {
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new RangeError(`epochs must be an integer >= 1, got ${opts.epochs}`);
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError(`batchSize must be an integer >= 1, got ${opts.batchSize}`);
  if (!Number.isInteger(opts.seed)) throw new RangeError(`seed must be an integer, got ${opts.seed}`);
  checkSchedule({ lr: opts.lr, milestones: opts.milestones, gamma: opts.gamma });
}

/** The settings a checkpoint must agree on; `epochs` is left out so that a finished run can be extended. */
function fingerprint(opts: TrainOptions): CheckpointState['config'] {
  const { batchSize, lr, momentum, weightDecay, milestones, gamma, seed } = opts;
  return { batchSize, lr, momentum, weightDecay, milestones, gamma, seed };
}

function checkFingerprint(saved: CheckpointState['config'], now: CheckpointState['config'], dir: string): void {
  for (const key of Object.keys(now)) {
    if (JSON.stringify(saved[key]) !== JSON.stringify(now[key])) {
      throw new Error(`checkpoint in ${dir} was written with ${key}=${JSON.stringify(saved[key])}, this run has ${key}=${JSON.stringify(now[key])}; remove the checkpoint or restore the setting`);
    }
  }
}

/** Mean softmax cross-entropy of integer labels, as PyTorch's CrossEntropyLoss (reduction 'mean'). */
function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const oneHot = tf.oneHot(labels.toInt(), logits.shape[1]);
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1))) as tf.Scalar;
}

function trainableParams(model: tf.LayersModel): NamedVariable[] {
  return model.trainableWeights.map((w) => ({ name: w.originalName, variable: w.read() as tf.Variable }));
}

interface StepResult {
  loss: number;
  correct: number;
}

/** Adds the milliseconds since `since` to `phases[phase]` and returns now. */
function lap(phases: EpochPhases, phase: EpochPhase, since: number): number {
  const now = performance.now();
  phases[phase] += now - since;
  return now;
}

function trainStep(model: tf.LayersModel, params: NamedVariable[], sgd: Sgd, batch: Batch, lr: number, phases: EpochPhases): StepResult {
  // The count of right answers is computed in the same forward pass and kept out of its tidy.
  const kept: { correct?: tf.Tensor } = {};
  let t = performance.now();
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.apply(batch.x, { training: true }) as tf.Tensor2D;
    kept.correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), batch.y.toInt()), 'int32')));
    return crossEntropy(logits, batch.y);
  }, params.map((p) => p.variable));
  t = lap(phases, 'gradientSeconds', t);
  try {
    const loss = value.dataSync()[0];
    t = lap(phases, 'readSeconds', t);
    // Checked before the update, so that a diverged step leaves the weights as they were.
    if (!Number.isFinite(loss)) return { loss, correct: 0 };
    const byName: Record<string, tf.Tensor> = {};
    for (const p of params) byName[p.name] = grads[p.variable.name];
    sgd.step(params, byName, lr);
    t = lap(phases, 'updateSeconds', t);
    const correct = kept.correct!.dataSync()[0];
    lap(phases, 'readSeconds', t);
    return { loss, correct };
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
    kept.correct?.dispose();
  }
}

/** The record with the phase times in seconds (they are accumulated in milliseconds). */
function withPhases(record: EpochRecord, phases: EpochPhases): EpochRecord {
  const out: EpochRecord = { ...record };
  for (const key of EPOCH_PHASE_KEYS) out[key] = phases[key] / 1000;
  return out;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function batchLength(source: Iterable<Batch>): number | undefined {
  const n = (source as { length?: unknown }).length;
  return typeof n === 'number' ? n : undefined;
}

export async function train(model: tf.LayersModel, opts: TrainOptions): Promise<TrainResult> {
  checkOptions(opts);
  const sgd = new Sgd({ momentum: opts.momentum, weightDecay: opts.weightDecay });
  const params = trainableParams(model);
  const config = fingerprint(opts);
  let rng = new Rng(`train/${opts.seed}`);
  let curve: EpochRecord[] = [];
  let start = 0;

  try {
    if (opts.checkpointDir) {
      const saved = await loadCheckpoint(opts.checkpointDir, model);
      if (saved) {
        checkFingerprint(saved.state.config, config, opts.checkpointDir);
        sgd.setState(saved.optimizer);
        rng = new Rng(saved.state.rng);
        curve = saved.state.curve;
        start = saved.state.epochsDone;
      }
    }

    for (let epoch = start; epoch < opts.epochs; epoch++) {
      const lr = learningRateAt(epoch, opts);
      const source = opts.batches(epoch, rng);
      const batches = batchLength(source);
      const phases = Object.fromEntries(EPOCH_PHASE_KEYS.map((k) => [k, 0])) as EpochPhases;
      const t0 = performance.now();
      let images = 0;
      let lossSum = 0;
      let correct = 0;
      let b = 0;
      const iterator = source[Symbol.iterator]();
      // Driven by hand to time each batch's building; on an error or abort the source is closed as
      // for..of would close it, so that generators run their finally blocks (and dispose tensors).
      try {
        for (;;) {
          let t = performance.now();
          const next = iterator.next();
          t = lap(phases, 'prepareSeconds', t);
          if (next.done) break;
          const batch = next.value;
          try {
            opts.signal?.throwIfAborted();
            const n = batch.x.shape[0];
            if (n > opts.batchSize) throw new RangeError(`batch ${b} of epoch ${epoch} (0-based) has ${n} images, more than batchSize ${opts.batchSize}`);
            if (batch.y.shape[0] !== n) throw new RangeError(`batch ${b} of epoch ${epoch} (0-based): ${n} images but ${batch.y.shape[0]} labels`);
            const step = trainStep(model, params, sgd, batch, lr, phases);
            if (!Number.isFinite(step.loss)) throw new NonFiniteLossError(epoch, b, step.loss);
            images += n;
            lossSum += step.loss * n;
            correct += step.correct;
          } finally {
            tf.dispose([batch.x, batch.y]);
          }
          const elapsed = (performance.now() - t0) / 1000;
          opts.progress?.({ epoch, epochs: opts.epochs, batch: b, batches, loss: lossSum / images, imagesPerSecond: images / elapsed });
          b += 1;
          // Let the event loop run, so that progress messages go out and an abort can arrive mid-epoch.
          await yieldToEventLoop();
        }
      } finally {
        iterator.return?.();
      }
      if (images === 0) throw new Error(`epoch ${epoch} (0-based) had no batches`);
      const loopMs = performance.now() - t0;
      const seconds = loopMs / 1000;
      phases.otherSeconds = loopMs - phases.prepareSeconds - phases.gradientSeconds - phases.readSeconds - phases.updateSeconds;
      const record: EpochRecord = { epoch, loss: lossSum / images, trainAcc: correct / images, lr, seconds, imagesPerSecond: images / seconds };
      if (opts.onEpochEnd) {
        const t = performance.now();
        const metrics = await opts.onEpochEnd(epoch, model);
        lap(phases, 'evalSeconds', t);
        for (const [key, value] of Object.entries(metrics)) {
          if (BUILTIN_KEYS.has(key)) throw new Error(`onEpochEnd metric '${key}' clashes with the curve's own field; rename it`);
          record[key] = value;
        }
      }
      if (opts.checkpointDir) {
        // The checkpoint's own time is known only after it is written: the saved curve has it as 0
        // for this epoch, the returned one has it measured.
        const t = performance.now();
        const saved = [...curve, withPhases(record, phases)];
        await saveCheckpoint(opts.checkpointDir, model, sgd.getState(), { epochsDone: epoch + 1, rng: rng.state(), curve: saved, config });
        lap(phases, 'checkpointSeconds', t);
      }
      curve = [...curve, withPhases(record, phases)];
    }
    return { curve, resumedAt: start };
  } finally {
    sgd.dispose();
  }
}
