/**
 * Training-speed benchmark (issue 3): per model, forward (inference) images/s,
 * training-step images/s (forward in training mode, backward, SGD update) and
 * their ratio, at batch 128 on the selected backend (default wasm; override
 * with --backend or TRIGGER_LAB_BACKEND). Other processes share the CPU, so
 * every figure is the best of several timed repetitions after a warm-up, and
 * each is given twice: by wall clock and by this process's CPU time (user +
 * system). The wasm backend runs on one thread, so on an idle machine the two
 * agree; on a shared one the CPU-time figure is the better estimate of what an
 * idle machine would do (it still pays for caches shared with other work).
 * Rewrites the training-speed section of BENCHMARKS.md and prints one JSON
 * object as its last line.
 *
 *   npx tsx bench/train.ts [--models small-cnn,resnet20] [--batch 128] [--reps 5] [--no-write]
 *   npx tsx bench/train.ts --profile resnet20   (per-kernel time of one training step; writes nothing)
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Rng } from '../domain/common/rng.js';
import { measure, workload, type Figures } from './lib-train-step.js';
import { writeMarkedSection } from './lib-sections.js';
import { describeBackend, parseBackendChoice, selectBackend } from '../domain/backend/select.js';
import { THROUGHPUT_FILE, mergeThroughput, readThroughputFile, type ThroughputEntry } from '../domain/backend/throughput.js';

interface ModelPlan { arch: string; reps: number }

/** The large models take seconds per step: fewer repetitions; the small ones get more, as the shared machine's load comes and goes. */
const DEFAULT_PLAN: ModelPlan[] = [
  { arch: 'small-cnn', reps: 8 },
  { arch: 'resnet20', reps: 8 },
  { arch: 'vgg-narrow', reps: 8 },
  { arch: 'resnet18', reps: 2 },
  { arch: 'vgg19-bn', reps: 2 },
];

const SECTION_START = '<!-- bench:train:start -->';
const SECTION_END = '<!-- bench:train:end -->';

function markdownSection(rows: Figures[], backend: string, date: string): string {
  const lines = [
    SECTION_START,
    '## Training speed (`npm run bench:train`)',
    '',
    `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}; backend: ${backend}; ${date}.`,
    'Batch of random 32x32x3 images; forward = inference-mode `predict`; training step = training-mode forward,',
    'backward and an SGD (momentum 0.9, weight decay 5e-4) update. Each figure is the best of the listed repetitions after',
    'one warm-up, because other processes share the CPU; "per CPU-second" divides by this process\'s CPU time instead of',
    'wall time (one wasm thread: equal on an idle machine, the better estimate of it on a shared one).',
    '',
    '| model | batch | forward img/s | training img/s | step / forward | forward img per CPU-s | training img per CPU-s | step / forward (CPU) | reps |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.arch} | ${r.batch} | ${r.forwardImgPerS} | ${r.trainImgPerS} | ${r.ratio} | ${r.forwardImgPerCpuS} | ${r.trainImgPerCpuS} | ${r.cpuRatio} | ${r.reps} |`),
    SECTION_END,
  ];
  return lines.join('\n');
}

/** Merges these figures into the throughput table the dry-run estimate reads (per backend, per `arch` or `arch@width`). */
async function recordThroughput(path: string, backend: string, date: string, rows: Figures[]): Promise<void> {
  const entries: ThroughputEntry[] = rows.map((r) => ({
    backend, model: r.arch, batch: r.batch, date,
    // CPU-time figures: the machine is shared, and one wasm thread does one CPU-second of work per second when idle.
    trainImgPerS: r.trainImgPerCpuS, forwardImgPerS: r.forwardImgPerCpuS,
  }));
  const old = existsSync(path) ? await readThroughputFile(path) : { entries: [] };
  await writeFile(path, JSON.stringify(mergeThroughput(old, entries), null, 2) + '\n');
}

/** Prints where one training step's time goes, per kernel name (and the heaviest kernel calls by shape). */
async function profileStep(arch: string, batch: number, rng: Rng): Promise<void> {
  const { step, dispose } = workload(arch, batch, rng);
  step(); // warm-up
  const c0 = process.cpuUsage();
  const info = await tf.profile(step);
  const c = process.cpuUsage(c0);
  const byName = new Map<string, { ms: number; calls: number }>();
  const byCall = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = await k.kernelTimeMs as number;
    total += ms;
    const n = byName.get(k.name) ?? { ms: 0, calls: 0 };
    byName.set(k.name, { ms: n.ms + ms, calls: n.calls + 1 });
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const m = byCall.get(key) ?? { ms: 0, calls: 0 };
    byCall.set(key, { ms: m.ms + ms, calls: m.calls + 1 });
  }
  dispose();
  console.log(`${arch}: ${info.kernels.length} kernel calls, ${total.toFixed(1)} ms in kernels, ${((c.user + c.system) / 1000).toFixed(1)} ms CPU for the profiled step`);
  for (const [name, v] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
    console.log(`  ${name.padEnd(32)} ${v.ms.toFixed(1).padStart(8)} ms  ${(100 * v.ms / total).toFixed(1).padStart(5)}%  ${v.calls} calls`);
  }
  console.log('heaviest calls by input shapes:');
  for (const [key, v] of [...byCall].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
    console.log(`  ${v.ms.toFixed(1).padStart(8)} ms  x${v.calls}  ${key}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      models: { type: 'string' },
      batch: { type: 'string', default: '128' },
      reps: { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
      out: { type: 'string', default: 'BENCHMARKS.md' },
      'no-write': { type: 'boolean', default: false },
      profile: { type: 'string' },
      throughput: { type: 'string', default: THROUGHPUT_FILE },
    },
  });
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch must be a positive integer, got ${values.batch}`);
  const repsOverride = values.reps === undefined ? undefined : Number(values.reps);
  if (repsOverride !== undefined && !(Number.isInteger(repsOverride) && repsOverride >= 1)) throw new Error(`--reps must be a positive integer, got ${values.reps}`);
  const plan = values.models
    ? values.models.split(',').map((arch) => ({ arch, reps: DEFAULT_PLAN.find((p) => p.arch === arch)?.reps ?? 2 }))
    : DEFAULT_PLAN;
  const info = await selectBackend(parseBackendChoice(values.backend!, '--backend'));
  console.log(`backend: ${info.detail}`);
  const rng = new Rng('bench-train');
  if (values.profile !== undefined) {
    for (const arch of values.profile.split(',')) await profileStep(arch, batch, rng.fork(arch));
    return;
  }
  const rows: Figures[] = [];
  for (const { arch, reps } of plan) {
    const r = measure(arch, batch, repsOverride ?? reps, rng.fork(arch));
    rows.push(r);
    console.log(`${arch.padEnd(10)} wall: forward ${r.forwardImgPerS} img/s, train ${r.trainImgPerS} img/s, ratio ${r.ratio}; ` +
      `cpu time: forward ${r.forwardImgPerCpuS} img/s, train ${r.trainImgPerCpuS} img/s, ratio ${r.cpuRatio}`);
  }
  const date = new Date().toISOString();
  if (!values['no-write']) {
    await writeMarkedSection(values.out!, SECTION_START, SECTION_END, markdownSection(rows, info.detail, date));
    await recordThroughput(values.throughput!, info.name, date, rows);
  }
  console.log(JSON.stringify({ date, backend: describeBackend(info), cpus: os.cpus().length, models: rows }));
}

await main();
