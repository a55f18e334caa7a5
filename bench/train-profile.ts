/**
 * Where a real training instance's time goes (issue 17), next to the kernel speed that
 * `bench:train` measures for the same model, in the same run.
 *
 * It runs the train stage itself (stages/train.ts `run`, on a stand-in stage context): the same
 * batch source, augmentation, stamping and enhanced transforms, the same loop, per-epoch
 * evaluation and checkpoints. The loop records each epoch's phases (domain/training/types.ts
 * EPOCH_PHASE_KEYS); this script adds the garbage collector's time and prints them with their
 * share of the epoch, the instance's img/s and its ratio to `bench:train`'s img/s alone.
 *
 * `--parallel 2` runs that many copies of each instance at once in child processes, as
 * `repro -j 2` runs two workers; the kernel figure is still measured alone first, then in that
 * many processes at once, to tell what the kernels lose to sharing the machine from what the
 * rest of a training loses.
 *
 * Data: the quick profile's shapes (15,000 training images, 32x32x3) drawn by the synthetic
 * generator, unless `--data DIR` names a data artifact (real CIFAR-10, for instance). The
 * content of the images does not change the arithmetic.
 *
 *   npx tsx bench/train-profile.ts [--ids train/vgg-narrow/badnets/standard/seed0,...] [--epochs 1]
 *        [--parallel 1|2] [--profile quick] [--data DIR] [--no-write]
 */
import os from 'node:os';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseParamsFile, effectiveParams } from '../engine/params.js';
import type { Json, JsonObject, StageContext } from '../engine/stage.js';
import trainStage, { type TrainStageParams } from '../stages/train.js';
import { buildDataset, type DataOptions } from '../domain/data/build.js';
import { saveDataset } from '../domain/data/format.js';
import { describeBackend, selectBackend } from '../domain/backend/select.js';
import { EPOCH_PHASE_KEYS, type EpochPhase } from '../domain/training/types.js';
import { Rng } from '../domain/common/rng.js';
import { measure } from './lib-train-step.js';
import { writeMarkedSection } from './lib-sections.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const DEFAULT_IDS = ['train/vgg-narrow/badnets/standard/seed0', 'train/vgg-narrow/badnets/enhanced/seed0'];
const SECTION_START = '<!-- bench:train-profile:start -->';
const SECTION_END = '<!-- bench:train-profile:end -->';

/** One instance's measured epochs, summed. */
interface InstanceProfile {
  id: string;
  epochs: number;
  images: number;
  /** The batch loop's wall time (what imagesPerSecond divides by). */
  loopSeconds: number;
  imagesPerSecond: number;
  phases: Record<EpochPhase, number>;
  gcSeconds: number;
  cpuSeconds: number;
  wallSeconds: number;
}

interface Options {
  profile: string;
  epochs: number;
  data: string | null;
}

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

async function quickParams(profile: string): Promise<JsonObject> {
  const path = join(ROOT, 'params.json');
  const file = parseParamsFile(JSON.parse(await readFile(path, 'utf8')) as Json, path);
  return effectiveParams(file, { profile, overrides: [] }).params;
}

/** A data artifact directory: `--data`, or a synthetic set of the profile's split sizes written to a temp dir. */
async function dataDir(params: JsonObject, opts: Options, scratch: string): Promise<string> {
  if (opts.data) {
    if (!existsSync(join(opts.data, 'dataset.json'))) fail(`--data ${opts.data} is not a data artifact (no dataset.json there)`);
    return opts.data;
  }
  const data = params.data as unknown as DataOptions;
  const perClassTrain = data.perClassTrain ?? 1500;
  const perClassTest = data.perClassTest ?? 200;
  const synthetic: DataOptions = {
    ...data, source: 'synthetic', archive: null, perClassTrain: null, perClassTest: null,
    synthetic: { ...(data.synthetic ?? {}), trainPerClass: perClassTrain, testPerClass: perClassTest } as DataOptions['synthetic'],
  };
  const { dataset, selection } = await buildDataset(synthetic, { seed: Number(params.seed ?? 0), cacheDir: join(scratch, 'download') });
  const dir = join(scratch, 'data');
  await saveDataset(dir, dataset, selection);
  return dir;
}

function stageContext(id: string, p: TrainStageParams, data: string, scratch: string, meta: JsonObject[]): StageContext<TrainStageParams> {
  const name = id.replace(/\//g, '_');
  return {
    id, kind: 'train', key: 'bench', params: p,
    outDir: join(scratch, 'out', name),
    checkpointDir: join(scratch, 'checkpoint', name),
    inputs: { data: { id: 'data', kind: 'data', key: 'bench', dir: data, meta: { extra: {} } as never } },
    progress: () => {},
    log: () => {},
    recordMeta: (extra) => { meta.push(extra); },
    signal: new AbortController().signal,
  };
}

async function profileInstance(id: string, params: JsonObject, data: string, opts: Options, scratch: string): Promise<InstanceProfile> {
  const instance = trainStage.instances(params).find((i) => i.id === id);
  if (!instance) fail(`no train instance '${id}' in profile ${opts.profile} (lc-poison and UAP instances need their upstream and are not supported here)`);
  if (instance.params.definition && ['consistent', 'uap'].includes(instance.params.definition.type)) fail(`${id} needs an upstream artifact (label-consistent poison or UAP); pick a BadNets, Blended or benign instance`);
  const p: TrainStageParams = { ...instance.params, recipe: { ...instance.params.recipe, epochs: opts.epochs } };
  const meta: JsonObject[] = [];
  const ctx = stageContext(id, p, data, scratch, meta);
  await mkdir(ctx.outDir, { recursive: true });
  await mkdir(ctx.checkpointDir, { recursive: true });

  let gcMs = 0;
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMs += e.duration; });
  observer.observe({ entryTypes: ['gc'] });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await trainStage.run(ctx);
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  await new Promise((r) => setImmediate(r)); // let the observer deliver the last entries
  observer.disconnect();

  const timings = (meta.at(-1)?.epochTimings ?? []) as Array<Record<string, number>>;
  const trainImages = Number(meta.at(-1)?.trainImages ?? 0);
  const phases = Object.fromEntries(EPOCH_PHASE_KEYS.map((k) => [k, timings.reduce((s, t) => s + (t[k] ?? 0), 0)])) as Record<EpochPhase, number>;
  const loopSeconds = timings.reduce((s, t) => s + t.seconds, 0);
  const images = trainImages * timings.length;
  return {
    id, epochs: timings.length, images, loopSeconds, imagesPerSecond: images / loopSeconds, phases,
    gcSeconds: gcMs / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds,
  };
}

/** Runs `copies` child processes of this script at once with `args` and parses each one's last JSON line. */
async function childrenAtOnce<T>(copies: number, args: string[]): Promise<T[]> {
  const script = fileURLToPath(import.meta.url);
  return Promise.all(Array.from({ length: copies }, () => new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += String(d); });
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`child ${args.join(' ')} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as T);
    });
  })));
}

/** `copies` copies of the train instance `id` at once, as `repro -j copies` runs them. */
async function parallelCopies(id: string, copies: number, opts: Options, data: string): Promise<InstanceProfile[]> {
  const results = await childrenAtOnce<{ instances: InstanceProfile[] }>(copies, ['--child', '--ids', id, '--epochs', String(opts.epochs), '--profile', opts.profile, '--data', data]);
  return results.map((r) => r.instances[0]);
}

/** bench:train's synthetic step in `copies` processes at once: what the kernels alone lose to running side by side. */
async function parallelKernels(model: string, batch: number, copies: number): Promise<number[]> {
  const results = await childrenAtOnce<{ trainImgPerS: number }>(copies, ['--child-kernel', model, '--batch', String(batch)]);
  return results.map((r) => r.trainImgPerS);
}

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const pct = (part: number, whole: number) => `${round((100 * part) / whole)}%`;

function report(kernelImgPerS: number, kernelsSideBySide: number[], kernelModel: string, alone: InstanceProfile[], parallel: InstanceProfile[][], copies: number, backend: string, date: string): string {
  const lines = [
    SECTION_START,
    '## A training instance against its kernels (`npm run bench:train-profile`)',
    '',
    `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(2)} at the end, Node ${process.version}; backend: ${backend}; ${date}.`,
    `Kernel speed: \`bench:train\`'s synthetic step on ${kernelModel}, alone, the better of a measurement at the start and one at the end of this run: **${round(kernelImgPerS)} img/s**` +
      (kernelsSideBySide.length > 0 ? `; ${kernelsSideBySide.length} copies of it at once: ${kernelsSideBySide.map((v) => round(v)).join(' and ')} img/s (${kernelsSideBySide.map((v) => pct(v, kernelImgPerS)).join(' and ')} of alone), what sharing the machine costs the kernels themselves.` : '.'),
    '',
    '| instance | run | epochs | img/s | of bench:train | prepare | gradient | read | update | other | GC | eval + checkpoint per epoch |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const row = (r: InstanceProfile, run: string) => `| ${r.id} | ${run} | ${r.epochs} | ${round(r.imagesPerSecond)} | ${pct(r.imagesPerSecond, kernelImgPerS)} | ` +
    `${pct(r.phases.prepareSeconds, r.loopSeconds)} | ${pct(r.phases.gradientSeconds, r.loopSeconds)} | ${pct(r.phases.readSeconds, r.loopSeconds)} | ` +
    `${pct(r.phases.updateSeconds, r.loopSeconds)} | ${pct(r.phases.otherSeconds, r.loopSeconds)} | ${pct(r.gcSeconds, r.loopSeconds)} | ` +
    `${round((r.phases.evalSeconds + r.phases.checkpointSeconds) / r.epochs, 2)} s |`;
  for (const r of alone) lines.push(row(r, 'alone'));
  parallel.forEach((rs) => rs.forEach((r, k) => lines.push(row(r, `${copies} at once, copy ${k + 1}`))));
  lines.push('', 'Shares are of the batch loop\'s wall time (what img/s divides by); GC time overlaps the phases.', SECTION_END);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ids: { type: 'string' },
      epochs: { type: 'string', default: '1' },
      parallel: { type: 'string', default: '1' },
      profile: { type: 'string', default: 'quick' },
      data: { type: 'string' },
      child: { type: 'boolean', default: false },
      'child-kernel': { type: 'string' },
      batch: { type: 'string', default: '128' },
      out: { type: 'string', default: 'BENCHMARKS.md' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const epochs = Number(values.epochs);
  if (!Number.isInteger(epochs) || epochs < 1) fail(`--epochs must be a positive integer, got '${values.epochs}'`);
  const copies = Number(values.parallel);
  if (!Number.isInteger(copies) || copies < 1) fail(`--parallel must be a positive integer, got '${values.parallel}'`);
  const opts: Options = { profile: values.profile!, epochs, data: values.data ?? null };
  const ids = values.ids ? values.ids.split(',') : DEFAULT_IDS;
  const params = await quickParams(opts.profile).catch((e: Error) => fail(e.message));
  const info = await selectBackend('wasm');
  if (values['child-kernel']) {
    const model = values['child-kernel'];
    console.log(JSON.stringify({ trainImgPerS: measure(model, Number(values.batch), 8, new Rng('bench-train').fork(model)).trainImgPerS }));
    return;
  }
  const scratch = await mkdtemp(join(tmpdir(), 'train-profile-'));
  try {
    const data = await dataDir(params, opts, scratch);
    if (values.child) {
      const instances = [];
      for (const id of ids) instances.push(await profileInstance(id, params, data, opts, scratch));
      console.log(JSON.stringify({ instances }));
      return;
    }
    console.log(`backend: ${info.detail}`);
    const first = trainStage.instances(params).find((i) => i.id === ids[0]);
    if (!first) fail(`no train instance '${ids[0]}' in profile ${opts.profile}`);
    const kernelModel = first.params.width !== null ? `${first.params.arch}@${first.params.width}` : first.params.arch;
    const kernelAlone = () => measure(kernelModel, first.params.recipe.batchSize, 8, new Rng('bench-train').fork(kernelModel)).trainImgPerS;
    const kernelFirst = kernelAlone();
    console.log(`bench:train ${kernelModel}: ${kernelFirst} img/s alone`);
    const kernelsSideBySide = copies > 1 ? await parallelKernels(kernelModel, first.params.recipe.batchSize, copies) : [];
    if (copies > 1) console.log(`bench:train ${kernelModel}, ${copies} processes at once: ${kernelsSideBySide.join(', ')} img/s`);
    const alone: InstanceProfile[] = [];
    const parallel: InstanceProfile[][] = [];
    for (const id of ids) {
      const r = await profileInstance(id, params, data, opts, scratch);
      alone.push(r);
      console.log(`${id} alone: ${round(r.imagesPerSecond)} img/s (${pct(r.imagesPerSecond, kernelFirst)} of bench:train at the start); ` +
        EPOCH_PHASE_KEYS.map((k) => `${k} ${round(r.phases[k], 2)}`).join(', ') + `, gc ${round(r.gcSeconds, 2)}`);
      if (copies > 1) {
        const rs = await parallelCopies(id, copies, opts, data);
        parallel.push(rs);
        for (const [k, q] of rs.entries()) {
          console.log(`${id} copy ${k + 1}/${copies}: ${round(q.imagesPerSecond)} img/s (${pct(q.imagesPerSecond, kernelFirst)}); ` +
            EPOCH_PHASE_KEYS.map((key) => `${key} ${round(q.phases[key], 2)}`).join(', ') + `, gc ${round(q.gcSeconds, 2)}`);
        }
      }
    }
    // Measured again at the end, and the better figure kept: a neighbour's burst during one
    // measurement would otherwise make every ratio look better than it is.
    const kernelLast = kernelAlone();
    const kernel = { trainImgPerS: Math.max(kernelFirst, kernelLast), first: kernelFirst, last: kernelLast };
    console.log(`bench:train ${kernelModel} again: ${kernelLast} img/s alone; ratios use ${kernel.trainImgPerS}`);
    const date = new Date().toISOString();
    const table = report(kernel.trainImgPerS, kernelsSideBySide, kernelModel, alone, parallel, copies, info.detail, date);
    console.log(table);
    if (!values['no-write']) await writeMarkedSection(values.out!, SECTION_START, SECTION_END, table);
    console.log(JSON.stringify({ date, backend: describeBackend(info), cpus: os.cpus().length, kernel: { model: kernelModel, ...kernel, sideBySide: kernelsSideBySide }, alone, parallel }));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
