/**
 * The gap to PyTorch (issue 17): `bench:train`'s training step on our wasm backend and the same
 * step in PyTorch on the CPU (bench/peer_torch.py), same models, batch and optimizer, one thread
 * each, measured one after the other in one run so that the ratio compares like with like.
 * PyTorch is a benchmark fixture only (Debian's python3-torch); where `python3` cannot import
 * torch the script says so and exits 0 without a table.
 *
 * Each side runs `--trials` times (PyTorch in a fresh process each time: on this project's VMs one
 * PyTorch process can run the same step 3x slower than the next, whatever the repetitions inside
 * it), and the table gives the best trial with the range of all trials.
 *
 * Prints a table and, as its last line, one JSON object; `--write` also rewrites its section of
 * BENCHMARKS.md.
 *
 * Without --python it tries `python3` on the PATH, then /usr/bin/python3 (where Debian's package
 * installs torch, when a pyenv or venv python3 comes first on the PATH).
 *
 *   npx tsx bench/peer.ts [--models small-cnn,vgg-narrow,resnet20] [--batch 128] [--reps 5] [--python PATH] [--write]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describeBackend, selectBackend } from '../domain/backend/select.js';
import { Rng } from '../domain/common/rng.js';
import { measure } from './lib-train-step.js';
import { writeMarkedSection } from './lib-sections.js';

const FIXTURE = join(fileURLToPath(import.meta.url), '..', 'peer_torch.py');
const SECTION_START = '<!-- bench:peer:start -->';
const SECTION_END = '<!-- bench:peer:end -->';

interface TorchRow { arch: string; trainImgPerS: number; forwardImgPerS: number }
interface TorchResult { torch: string; threads: number; models: TorchRow[] }

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

/** The torch version, or why it cannot be used. */
function probeTorch(python: string): { ok: true; version: string } | { ok: false; why: string } {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return { ok: false, why: `${python} cannot be run (${r.error.message})` };
  if (r.status !== 0) return { ok: false, why: `${python} cannot import torch (${(r.stderr.trim().split('\n').at(-1) ?? '').slice(0, 200)})` };
  return { ok: true, version: r.stdout.trim() };
}

function runTorch(python: string, models: string[], batch: number, reps: number): TorchResult {
  const r = spawnSync(python, [FIXTURE, '--models', models.join(','), '--batch', String(batch), '--reps', String(reps), '--threads', '1'], {
    encoding: 'utf8',
    // One thread for every library PyTorch may call, as our wasm backend runs on one.
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  if (r.status !== 0) fail(`${FIXTURE} failed (exit ${r.status}): ${r.stderr.trim().slice(-500)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as TorchResult;
}

const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

/** Trials of one figure: the best (highest img/s) is `max`. */
interface Spread { min: number; max: number }
const spread = (values: number[]): Spread => ({ min: Math.min(...values), max: Math.max(...values) });
const cell = (s: Spread) => (s.min === s.max ? `${s.max}` : `${s.max} (${s.min}-${s.max})`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      models: { type: 'string', default: 'small-cnn,vgg-narrow,resnet20' },
      batch: { type: 'string', default: '128' },
      reps: { type: 'string', default: '5' },
      trials: { type: 'string', default: '3' },
      python: { type: 'string' },
      write: { type: 'boolean', default: false },
      out: { type: 'string', default: 'BENCHMARKS.md' },
    },
  });
  const batch = Number(values.batch);
  const reps = Number(values.reps);
  if (!Number.isInteger(batch) || batch < 1) fail(`--batch must be a positive integer, got '${values.batch}'`);
  if (!Number.isInteger(reps) || reps < 1) fail(`--reps must be a positive integer, got '${values.reps}'`);
  const trials = Number(values.trials);
  if (!Number.isInteger(trials) || trials < 1) fail(`--trials must be a positive integer, got '${values.trials}'`);
  const models = values.models!.split(',');
  const candidates = values.python ? [values.python] : ['python3', '/usr/bin/python3'];
  const probes = candidates.map((python) => ({ python, probe: probeTorch(python) }));
  const found = probes.find((p) => p.probe.ok);
  if (!found || !found.probe.ok) {
    const why = probes.map((p) => (p.probe.ok ? '' : p.probe.why)).join('; ');
    console.log(`bench:peer skipped: ${why}. Install the fixture with \`apt-get install -y python3-torch python3-numpy\` (not a dependency of trigger-lab), or name an interpreter with --python.`);
    console.log(JSON.stringify({ skipped: true, reason: why }));
    return;
  }
  const python = found.python;
  const torch = found.probe;
  const info = await selectBackend('wasm');
  console.log(`ours: ${info.detail}; theirs: PyTorch ${torch.version} on the CPU, 1 thread`);
  const rng = new Rng('bench-train');
  const oursTrials = Array.from({ length: trials }, () => models.map((m) => measure(m, batch, reps, rng.fork(m))));
  const theirsTrials = Array.from({ length: trials }, () => runTorch(python, models, batch, reps).models);
  const rows = models.map((model, k) => {
    const ours = spread(oursTrials.map((t) => t[k].trainImgPerS));
    const theirs = spread(theirsTrials.map((t) => t[k].trainImgPerS));
    const oursForward = spread(oursTrials.map((t) => t[k].forwardImgPerS));
    const theirsForward = spread(theirsTrials.map((t) => t[k].forwardImgPerS));
    return {
      model,
      ours, theirs, ratio: round(ours.max / theirs.max),
      oursForward, theirsForward, ratioForward: round(oursForward.max / theirsForward.max),
    };
  });
  const date = new Date().toISOString();
  const table = [
    SECTION_START,
    '## Against PyTorch on the CPU (`npm run bench:peer`)',
    '',
    `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(2)} at the end; Node ${process.version}, ${info.detail}; PyTorch ${torch.version}, 1 thread; ${date}.`,
    `Training step (forward, backward, SGD) on random 32x32x3 batches of ${batch}; img/s by wall clock, best of ${reps} repetitions after a warm-up;`,
    `each side ran ${trials} trials (PyTorch in a fresh process each): the best trial, then the range over trials. Ratio = ours / PyTorch, best against best.`,
    '',
    '| model | ours train img/s | PyTorch train img/s | ratio | ours forward img/s | PyTorch forward img/s | ratio (forward) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.model} | ${cell(r.ours)} | ${cell(r.theirs)} | ${r.ratio} | ${cell(r.oursForward)} | ${cell(r.theirsForward)} | ${r.ratioForward} |`),
    SECTION_END,
  ].join('\n');
  console.log(table);
  if (values.write) await writeMarkedSection(values.out!, SECTION_START, SECTION_END, table);
  console.log(JSON.stringify({ date, cpus: os.cpus().length, backend: describeBackend(info), torch: torch.version, batch, reps, trials, models: rows }));
}

await main();
