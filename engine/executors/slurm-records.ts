/**
 * Where the Slurm executor keeps its state, under `<artifacts>/.slurm/`:
 * `jobs.json` (the job id of every instance submitted and not yet finished,
 * so that a restarted coordinator re-attaches instead of submitting again),
 * and one directory per instance key holding the job's spec, batch script,
 * Slurm output, progress and result files.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import type { Job } from '../executor.js';
import type { JsonObject, Progress } from '../stage.js';
import type { StoredMeta } from '../store.js';

export interface JobRecord {
  jobId: string;
  /** Instance id, kind and key of what the job runs. */
  id: string;
  kind: string;
  key: string;
  /** The coordinator run that submitted it. */
  runId: string;
  jobName: string;
  submittedAt: string;
}

export interface JobRecords {
  version: 1;
  /** `<kind>/<key>` -> the job currently responsible for that artifact. */
  jobs: Record<string, JobRecord>;
}

/** What the coordinator hands a Slurm job: everything needed to run one instance without planning. */
export interface WorkerSpec {
  root: string;
  artifactsDir: string;
  params: JsonObject;
  environmentModule?: string;
  job: Job;
  resultFile: string;
  progressFile: string;
}

/** Written by the worker as its last act. */
export type WorkerResult = { status: 'done'; meta: StoredMeta } | { status: 'failed'; error: string };

export const recordKey = (kind: string, key: string): string => `${kind}/${key}`;

export function slurmDir(artifactsDir: string): string {
  return join(artifactsDir, '.slurm');
}

export function jobsFile(artifactsDir: string): string {
  return join(slurmDir(artifactsDir), 'jobs.json');
}

/** The per-instance directory; keyed by content key, so a resubmission reuses it. */
export function instanceDir(artifactsDir: string, kind: string, key: string): string {
  return join(slurmDir(artifactsDir), 'jobs', kind, key);
}

/** Where a Slurm job builds its output before the rename: outside `.tmp`, which a restarted coordinator clears. */
export function workerTmpRoot(artifactsDir: string): string {
  return join(slurmDir(artifactsDir), 'tmp');
}

export function readRecords(artifactsDir: string): JobRecords {
  const path = jobsFile(artifactsDir);
  if (!existsSync(path)) return { version: 1, jobs: {} };
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as JobRecords;
    if (data.version !== 1 || typeof data.jobs !== 'object' || data.jobs === null) throw new Error(`unknown format version ${String(data.version)}`);
    return data;
  } catch (err) {
    throw new UserError(
      `${path} is unreadable (${(err as Error).message}); check squeue for jobs still running from an earlier run, then delete it`,
    );
  }
}

/** Atomic, so that a coordinator killed mid-write leaves the previous version. */
export function writeJsonAtomic(path: string, data: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 1)}\n`);
  renameSync(tmp, path);
}

export function writeRecords(artifactsDir: string, records: JobRecords): void {
  writeJsonAtomic(jobsFile(artifactsDir), records);
}

/** undefined when absent or half-written (the writer renames into place, but a reader may race an NFS cache). */
export function readJsonIfPresent<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export type { Progress };
