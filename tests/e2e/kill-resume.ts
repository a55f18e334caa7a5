/**
 * A real kill-and-resume of one pipeline instance through the CLI, in worker processes: start
 * `repro --force ID`, SIGKILL the whole process group as soon as the instance has written a
 * checkpoint (so mid-run, with work still to do), run the same command again (it resumes from the
 * checkpoint), then run it once more uninterrupted (the checkpoint is gone after a success), and
 * hand both artifacts' files back for a byte-for-byte comparison.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';

const REPO = resolve(import.meta.dirname, '../..');

export interface PipelineEnv {
  TRIGGER_LAB_ARTIFACTS: string;
  TRIGGER_LAB_LOCKFILE: string;
  TRIGGER_LAB_REPORTS: string;
}

export interface ResumeCase {
  /** The instance id, e.g. train/small-cnn/badnets/standard/seed0. */
  id: string;
  /** Extra `--set` values (the backend is pinned to wasm here). */
  sets: string[];
  /** Whether the running instance has a checkpoint a rerun can resume from, given its kind's checkpoint folder. */
  checkpointed(kindCheckpoints: string): boolean;
  /** How much the run took from a checkpoint, read from its meta.json `extra`. */
  resumed(extra: Record<string, unknown>): number;
}

export interface ResumeOutcome {
  /** Files (relative path -> bytes) of the artifact that resumed after the kill. */
  resumedFiles: Map<string, Buffer>;
  /** The same for an uninterrupted run of the same instance. */
  uninterruptedFiles: Map<string, Buffer>;
  resumedExtra: Record<string, unknown>;
  uninterruptedExtra: Record<string, unknown>;
  /** What the checkpoint folder held when the run was killed. */
  checkpointAtKill: string[];
  seconds: { killed: number; resumed: number; uninterrupted: number };
}

/** Files that measure the run rather than its result; the engine leaves them out of output digests. */
const RUN_RECORDS = new Set(['meta.json', 'log.txt']);

function filesOf(dir: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of filesOf(join(dir, e.name), rel)) out.set(k, v);
    else if (!RUN_RECORDS.has(rel)) out.set(rel, readFileSync(join(dir, e.name)));
  }
  return out;
}

function listRecursive(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? [rel + '/', ...listRecursive(join(dir, e.name), rel)] : [rel];
  });
}

function reproArgs(c: ResumeCase): string[] {
  const sets = ['compute.backend="wasm"', ...c.sets].flatMap((s) => ['--set', s]);
  return ['--import', 'tsx', 'pipeline.ts', 'repro', c.id, '--force', '--profile', 'smoke', '--json', '-j', '1', ...sets];
}

interface Stored {
  key: string;
  extra: Record<string, unknown>;
  files: Map<string, Buffer>;
}

/** The instance's artifact as the lock file names it, or null when it has none. */
function stored(env: PipelineEnv, id: string): Stored | null {
  if (!existsSync(env.TRIGGER_LAB_LOCKFILE)) return null;
  const lock = JSON.parse(readFileSync(env.TRIGGER_LAB_LOCKFILE, 'utf8')) as { instances: Record<string, { key: string }> };
  const key = lock.instances[id]?.key;
  const dir = key && join(env.TRIGGER_LAB_ARTIFACTS, id.split('/')[0], key);
  if (!dir || !existsSync(join(dir, 'meta.json'))) return null;
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { extra?: Record<string, unknown> };
  return { key, extra: meta.extra ?? {}, files: filesOf(dir) };
}

async function repro(env: PipelineEnv, c: ResumeCase): Promise<Stored & { seconds: number }> {
  const t0 = Date.now();
  const r = await execa(process.execPath, reproArgs(c), { cwd: REPO, env: { ...env }, reject: false, timeout: 300_000 });
  const seconds = (Date.now() - t0) / 1000;
  if (r.exitCode !== 0) throw new Error(`repro ${c.id} exited ${r.exitCode}:\n${String(r.stderr).slice(-3000)}`);
  const s = stored(env, c.id);
  if (!s) throw new Error(`the lock file names no complete artifact for ${c.id} after repro`);
  return { ...s, seconds };
}

export async function killAndResume(env: PipelineEnv, c: ResumeCase): Promise<ResumeOutcome> {
  const kindCheckpoints = join(env.TRIGGER_LAB_ARTIFACTS, '.checkpoints', c.id.split('/')[0]);
  const t0 = Date.now();
  const child = execa(process.execPath, reproArgs(c), { cwd: REPO, env: { ...env }, reject: false, detached: true });
  let exited = false;
  void child.finally(() => (exited = true));
  while (!exited && !c.checkpointed(kindCheckpoints)) {
    if (Date.now() - t0 > 240_000) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const checkpointAtKill = listRecursive(kindCheckpoints);
  if (!exited) process.kill(-child.pid!, 'SIGKILL');
  const killed = await child;
  if (killed.signal !== 'SIGKILL') {
    throw new Error(`${c.id}: the run ended (exit ${killed.exitCode}) before it could be killed after a checkpoint:\n${String(killed.stderr).slice(-2000)}`);
  }
  const killedSeconds = (Date.now() - t0) / 1000;
  const resumed = await repro(env, c);
  const uninterrupted = await repro(env, c);
  if (uninterrupted.key !== resumed.key) throw new Error(`${c.id}: the uninterrupted run has key ${uninterrupted.key}, the resumed one ${resumed.key}; did the code change mid-test?`);
  return {
    resumedFiles: resumed.files,
    uninterruptedFiles: uninterrupted.files,
    resumedExtra: resumed.extra,
    uninterruptedExtra: uninterrupted.extra,
    checkpointAtKill,
    seconds: { killed: killedSeconds, resumed: resumed.seconds, uninterrupted: uninterrupted.seconds },
  };
}

/** Some instance folder under `kindCheckpoints` holds a file whose name passes `test`. */
export function someCheckpointFile(kindCheckpoints: string, test: (relativePath: string) => boolean): boolean {
  return listRecursive(kindCheckpoints).some(test);
}
