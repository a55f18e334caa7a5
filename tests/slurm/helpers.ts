/**
 * The engine's toy pipeline (tests/engine/fixtures) in a temp directory, with
 * `executor` added to its schema and a CLI that can run it on Slurm; plus
 * bounded waits and a check that the local Slurm cluster is up.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { EXECUTOR_PARAMS_SCHEMA } from '../../engine/executors/slurm-settings.js';
import type { JsonObject } from '../../engine/stage.js';
import { TOY_DEFINITION } from '../engine/helpers.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ENGINE_FIXTURES = join(HERE, '..', 'engine', 'fixtures');
export const REPO = join(HERE, '..', '..');

/** Why the Slurm tests cannot run here, or undefined when the cluster answers. */
export function clusterProblem(): string | undefined {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 15_000 });
  if (r.error) return `sinfo cannot run (${r.error.message}); start the cluster with .ci/slurm/start-cluster.sh`;
  if (r.status !== 0) return `sinfo failed: ${(r.stderr || r.stdout).trim()}; start the cluster with .ci/slurm/start-cluster.sh`;
  if (!/idle|mixed|alloc|completing/.test(r.stdout)) return `no usable node (sinfo says ${JSON.stringify(r.stdout.trim())})`;
  return undefined;
}

/** CI sets SLURM_TESTS_REQUIRED=1: there a cluster that is not up is a failure, not a skip. */
export const clusterRequired = (): boolean => process.env.SLURM_TESTS_REQUIRED === '1';

export const slurmExecutorParams = (): JsonObject => ({
  type: 'slurm',
  slurm: { pollIntervalMs: 300, visibilityTimeoutMs: 10_000, logTailLines: 10, defaults: { cpus: 1, memoryMB: 256, gpus: 0, time: '5', partition: '', extraArgs: [] } },
});

export const toyParams = (extra: JsonObject = {}): JsonObject => ({
  gen: { a: { value: 1 }, b: { value: 2 } },
  sum: { factor: 10 },
  executor: slurmExecutorParams(),
  ...extra,
});

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface ReproSummary extends CliResult {
  ran: string[];
  cached: string[];
  failed: { id: string; status: string; error: string; logTail: string }[];
  skipped: { id: string; because: string }[];
}

export interface SlurmToy {
  root: string;
  artifacts: string;
  writeParams(p: JsonObject): void;
  spawn(...argv: string[]): ReturnType<typeof execa>;
  cli(...argv: string[]): Promise<CliResult>;
  repro(...argv: string[]): Promise<ReproSummary>;
}

export function parseSummary(r: CliResult): ReproSummary {
  if (r.code > 1) throw new Error(`repro exited ${r.code}:\n${r.err}\n${r.out}`);
  const s = JSON.parse(r.out) as Omit<ReproSummary, 'ran' | keyof CliResult> & { ran: { id: string }[] };
  return { ...r, ...s, ran: s.ran.map((x) => x.id).sort(), cached: [...s.cached].sort() };
}

export function slurmToy(params: JsonObject = toyParams()): SlurmToy {
  // The system temp dir: the one-node cluster's jobs run on this machine and see it as it is.
  const root = mkdtempSync(join(tmpdir(), 'slurm-test-'));
  cpSync(join(ENGINE_FIXTURES, 'stages'), join(root, 'stages'), { recursive: true });
  const schema = JSON.parse(readFileSync(join(ENGINE_FIXTURES, 'schema.json'), 'utf8')) as { properties: JsonObject };
  schema.properties.executor = EXECUTOR_PARAMS_SCHEMA;
  writeFileSync(join(root, 'params.schema.json'), JSON.stringify(schema, null, 2));
  writeFileSync(join(root, 'pipeline.json'), JSON.stringify(TOY_DEFINITION));
  const toy: SlurmToy = {
    root,
    artifacts: join(root, 'artifacts'),
    writeParams: (p) => writeFileSync(join(root, 'params.json'), JSON.stringify(p, null, 2)),
    spawn: (...argv) =>
      execa(process.execPath, ['--import', 'tsx', join(HERE, 'fixtures', 'cli.ts'), root, ...argv], {
        cwd: REPO,
        reject: false,
        timeout: 120_000,
      }),
    async cli(...argv) {
      const r = await toy.spawn(...argv);
      return { code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) };
    },
    repro: async (...argv) => parseSummary(await toy.cli('repro', '--json', ...argv)),
  };
  toy.writeParams(params);
  return toy;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns a value, failing with `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, check: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export const readJson = <T>(path: string): T | undefined => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined);

/** Ids of the jobs a coordinator says it submitted, by instance id. */
export function submittedJobs(stderr: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of stderr.matchAll(/^\[slurm\] (\S+): submitted job (\d+)/gm)) out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
  return out;
}

export function squeueState(jobId: string): string | undefined {
  const r = spawnSync('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%T'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}
