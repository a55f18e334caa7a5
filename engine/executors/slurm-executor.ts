/**
 * Runs each instance as one Slurm batch job. The coordinator keeps the DAG
 * (the scheduler calls `run` only once an instance's inputs are complete);
 * this executor submits with `sbatch --parsable`, polls all of its jobs with
 * one rate-limited squeue call, reports state changes, and turns the job's end
 * into the engine's outcome. Job ids are recorded in `.slurm/jobs.json`, so a
 * restarted coordinator re-attaches to jobs still queued or running.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Executor, ExecutorSettings, Job, JobOutcome } from '../executor.js';
import { logTail } from '../local-executor.js';
import type { Progress } from '../stage.js';
import { ArtifactStore } from '../store.js';
import { cliSlurm, TERMINAL_STATES, type SlurmCommands, type SlurmJobState } from './slurm-commands.js';
import {
  instanceDir,
  readJsonIfPresent,
  readRecords,
  recordKey,
  writeJsonAtomic,
  writeRecords,
  type JobRecord,
  type JobRecords,
  type WorkerResult,
  type WorkerSpec,
} from './slurm-records.js';
import { resourceArgs, resourcesFor, type SlurmSettings } from './slurm-settings.js';

const WORKER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'slurm-worker.ts');
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Between checks for a finished job's files on the shared filesystem. */
const VISIBILITY_POLL_MS = 250;
const MISSES_BEFORE_GONE = 2;
const FAILED_RESULT_GRACE_MS = 2000;

export interface SlurmExecutorOptions {
  /** The Slurm client; a fake one in unit tests. */
  commands?: SlurmCommands;
  /** Where state changes are reported as plain lines (default: stderr). */
  log?: (line: string) => void;
  /** Identifies this coordinator run in job names (default: time + random). */
  runId?: string;
}

interface Tracked {
  job: Job;
  record: JobRecord;
  lastState?: string;
  lastProgressAt?: number;
  /** Consecutive polls that did not list the job. */
  misses: number;
  resolve(outcome: JobOutcome): void;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return `${t}-${randomBytes(2).toString('hex')}`;
}

/** Job names carry the run id and the instance id; Slurm tolerates most characters but not all tools do. */
export function jobName(prefix: string, runId: string, instanceId: string): string {
  return `${prefix}-${runId}-${instanceId}`.replace(/[^A-Za-z0-9_./:=+-]/g, '_').slice(0, 200);
}

export class SlurmExecutor implements Executor {
  readonly slots: number;
  readonly runId: string;
  private readonly commands: SlurmCommands;
  private readonly log: (line: string) => void;
  private readonly store: ArtifactStore;
  private readonly records: JobRecords;
  private readonly tracked = new Map<string, Tracked>();
  private pollTimer?: NodeJS.Timeout;
  private polling = false;
  private queryFailingSince?: number;
  private closed = false;
  private ping?: Promise<void>;
  private recorded?: Promise<Map<string, SlurmJobState>>;
  private submitting: Promise<unknown> = Promise.resolve();
  /** Jobs submitted by this coordinator, for tests and the summary. */
  readonly submitted: string[] = [];

  constructor(
    private readonly settings: ExecutorSettings,
    private readonly slurm: SlurmSettings,
    opts: SlurmExecutorOptions = {},
  ) {
    this.slots = slurm.maxSubmitted;
    this.commands = opts.commands ?? cliSlurm();
    this.log = opts.log ?? ((line) => void process.stderr.write(`${line}\n`));
    this.runId = opts.runId ?? newRunId();
    this.store = new ArtifactStore(settings.artifactsDir);
    this.records = readRecords(settings.artifactsDir);
  }

  async run(job: Job): Promise<JobOutcome> {
    if (this.closed) return { status: 'crashed', error: 'the Slurm executor was closed', logTail: '' };
    this.ping ??= this.commands.ping();
    try {
      await this.ping;
    } catch (err) {
      return { status: 'crashed', error: (err as Error).message, logTail: '' };
    }
    const rk = recordKey(job.kind, job.key);
    const earlier = this.records.jobs[rk];
    let record: JobRecord | undefined;
    if (earlier) {
      let state: SlurmJobState | undefined;
      try {
        state = (await this.recordedStates()).get(earlier.jobId);
      } catch (err) {
        // Submitting again could run the instance twice; better to fail it and let a later repro decide.
        return { status: 'crashed', error: `cannot ask Slurm about job ${earlier.jobId}, recorded for this instance: ${(err as Error).message}`, logTail: '' };
      }
      if (state && !TERMINAL_STATES.has(state.state)) {
        record = earlier;
        this.log(`[slurm] ${job.id}: re-attached to job ${earlier.jobId} (${state.state}, submitted by run ${earlier.runId})`);
      }
    }
    if (!record) {
      try {
        record = await this.serially(() => this.submit(job));
      } catch (err) {
        return { status: 'crashed', error: (err as Error).message, logTail: '' };
      }
    }
    const rec = record;
    if (this.closed) {
      // Ctrl-C came while sbatch ran: nobody would watch this job.
      await this.commands.cancel([rec.jobId]).catch(() => undefined);
      return { status: 'crashed', error: `Slurm job ${rec.jobId} cancelled by the coordinator`, logTail: '' };
    }
    return new Promise<JobOutcome>((resolve) => {
      this.tracked.set(rec.jobId, { job, record: rec, misses: 0, resolve });
      this.schedulePoll(0);
    });
  }

  /**
   * One sbatch at a time: when hundreds of evaluations become ready together,
   * a burst of parallel sbatch processes would only load the controller (and
   * this machine) without submitting any faster.
   */
  private serially<T>(task: () => Promise<T>): Promise<T> {
    const next = this.submitting.then(task, task);
    this.submitting = next.catch(() => undefined);
    return next;
  }

  /** States of every job recorded by earlier runs, asked once (one squeue call, not one per instance). */
  private recordedStates(): Promise<Map<string, SlurmJobState>> {
    this.recorded ??= this.commands.query(Object.values(this.records.jobs).map((r) => r.jobId));
    return this.recorded;
  }

  private async submit(job: Job): Promise<JobRecord> {
    if (this.closed) throw new Error('the Slurm executor was closed before this instance was submitted');
    const dir = instanceDir(this.settings.artifactsDir, job.kind, job.key);
    mkdirSync(dir, { recursive: true });
    const resultFile = join(dir, 'result.json');
    const progressFile = join(dir, 'progress.json');
    // What an earlier attempt left must not be taken for this attempt's result.
    rmSync(resultFile, { force: true });
    rmSync(progressFile, { force: true });
    const spec: WorkerSpec = {
      root: this.settings.root,
      artifactsDir: this.settings.artifactsDir,
      params: this.settings.params,
      environmentModule: this.settings.environmentModule,
      job,
      resultFile,
      progressFile,
    };
    const specFile = join(dir, 'spec.json');
    writeJsonAtomic(specFile, spec);
    const script = join(dir, 'job.sh');
    writeFileSync(
      script,
      `#!/bin/sh\n# ${job.id} (key ${job.key})\nexec ${[process.execPath, '--import', TSX_LOADER, WORKER_SCRIPT, specFile].map(shellQuote).join(' ')}\n`,
      { mode: 0o755 },
    );
    const name = jobName(this.slurm.jobNamePrefix, this.runId, job.id);
    const args = ['--job-name', name, '--output', join(dir, 'slurm-%j.out'), '--chdir', this.settings.root, '--ntasks=1', ...resourceArgs(resourcesFor(this.slurm, job.kind))];
    const jobId = await this.commands.submit(args, script);
    const record: JobRecord = { jobId, id: job.id, kind: job.kind, key: job.key, runId: this.runId, jobName: name, submittedAt: new Date().toISOString() };
    // Recorded before anything else can fail, so that a restarted coordinator finds it.
    this.records.jobs[recordKey(job.kind, job.key)] = record;
    writeRecords(this.settings.artifactsDir, this.records);
    this.submitted.push(jobId);
    this.log(`[slurm] ${job.id}: submitted job ${jobId} (${name})`);
    return record;
  }

  private schedulePoll(delayMs: number): void {
    if (this.closed || this.polling || this.tracked.size === 0) return;
    if (this.pollTimer && delayMs > 0) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      void this.poll();
    }, delayMs);
  }

  /** One squeue call for all tracked jobs; at most one in flight, then the next after pollIntervalMs. */
  private async poll(): Promise<void> {
    if (this.closed || this.tracked.size === 0) return;
    this.polling = true;
    try {
      let states: Map<string, SlurmJobState>;
      // Jobs submitted while squeue runs are not in its answer: judge only those asked about.
      const asked = [...this.tracked.keys()];
      try {
        states = await this.commands.query(asked);
        if (this.queryFailingSince !== undefined) this.log('[slurm] squeue answers again');
        this.queryFailingSince = undefined;
      } catch (err) {
        this.queryFailing(err as Error);
        return;
      }
      for (const jobId of asked) {
        const t = this.tracked.get(jobId);
        // Cancelled by close() while squeue ran.
        if (!t) continue;
        const s = states.get(jobId);
        // A job missing once may be a controller hiccup; missing twice, it has been purged.
        if (!s && ++t.misses < MISSES_BEFORE_GONE) continue;
        if (s) t.misses = 0;
        if (s && !TERMINAL_STATES.has(s.state)) {
          this.noteState(t, s);
          this.forwardProgress(t);
          continue;
        }
        this.tracked.delete(jobId);
        if (s) this.noteState(t, s);
        void this.finish(t, s).then(t.resolve, (err: unknown) =>
          t.resolve({ status: 'crashed', error: `could not collect Slurm job ${jobId}: ${(err as Error)?.message ?? String(err)}`, logTail: '' }),
        );
      }
    } finally {
      this.polling = false;
      this.schedulePoll(this.slurm.pollIntervalMs);
    }
  }

  private queryFailing(err: Error): void {
    const now = Date.now();
    if (this.queryFailingSince === undefined) {
      this.queryFailingSince = now;
      this.log(`[slurm] cannot poll job states, retrying: ${err.message}`);
    }
    if (now - this.queryFailingSince < this.slurm.controllerTimeoutMs) return;
    // The jobs may still run; their records stay, so a later repro re-attaches.
    for (const [jobId, t] of [...this.tracked]) {
      this.tracked.delete(jobId);
      t.resolve({
        status: 'crashed',
        error: `lost contact with Slurm for ${Math.round((now - this.queryFailingSince) / 1000)} s while job ${jobId} was ${t.lastState ?? 'submitted'}: ${err.message}`,
        logTail: this.tail(t),
      });
    }
  }

  private noteState(t: Tracked, s: SlurmJobState): void {
    if (s.state === t.lastState) return;
    const where = s.nodes && s.state === 'RUNNING' ? ` on ${s.nodes}` : '';
    const why = s.reason && s.reason !== 'None' ? ` (${s.reason})` : '';
    this.log(`[slurm] ${t.job.id}: job ${t.record.jobId} ${t.lastState ? `${t.lastState} -> ` : ''}${s.state}${where}${why}`);
    t.lastState = s.state;
    this.settings.events.progress(t.job.id, { message: `slurm job ${t.record.jobId} ${s.state}${where}${why}` });
  }

  private forwardProgress(t: Tracked): void {
    const file = join(instanceDir(this.settings.artifactsDir, t.job.kind, t.job.key), 'progress.json');
    const p = readJsonIfPresent<{ at: number; progress: Progress }>(file);
    if (!p || p.at === t.lastProgressAt) return;
    t.lastProgressAt = p.at;
    this.settings.events.progress(t.job.id, { ...p.progress, message: [p.progress.message, `job ${t.record.jobId}`].filter(Boolean).join('  ') });
  }

  private resultFile(t: Tracked): string {
    return join(instanceDir(this.settings.artifactsDir, t.job.kind, t.job.key), 'result.json');
  }

  /** The stage's own log, then what Slurm wrote for the job (e.g. "CANCELLED AT ... DUE TO TIME LIMIT"). */
  private tail(t: Tracked): string {
    const n = this.slurm.logTailLines;
    const stage = logTail(this.store.logFile(t.job.kind, t.job.key), n);
    const slurmOut = logTail(join(instanceDir(this.settings.artifactsDir, t.job.kind, t.job.key), `slurm-${t.record.jobId}.out`), n);
    return [stage, slurmOut ? `[slurm output of job ${t.record.jobId}]\n${slurmOut}` : ''].filter(Boolean).join('\n');
  }

  /** Waits, bounded, until the result file or the artifact of a finished job is visible on this node. */
  private async awaitVisible(t: Tracked, timeoutMs: number): Promise<WorkerResult | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Listing the directories makes NFS clients revalidate their cached view of them.
      const kindDir = dirname(this.store.artifactDir(t.job.kind, t.job.key));
      if (existsSync(kindDir)) readdirSync(kindDir);
      const result = readJsonIfPresent<WorkerResult>(this.resultFile(t));
      if (result?.status === 'failed') return result;
      if (this.store.has(t.job.kind, t.job.key)) {
        try {
          return { status: 'done', meta: this.store.readMeta(t.job.kind, t.job.key) };
        } catch {
          // meta.json half-visible: look again.
        }
      }
      if (Date.now() >= deadline) return undefined;
      await sleep(VISIBILITY_POLL_MS);
    }
  }

  private async finish(t: Tracked, s: SlurmJobState | undefined): Promise<JobOutcome> {
    const jobId = t.record.jobId;
    const state = s?.state;
    // Only a job that may have written something is worth waiting for. A FAILED job wrote a
    // result only if its stage threw (a killed worker writes none), so it gets a short grace.
    const wait = state === 'FAILED' ? Math.min(FAILED_RESULT_GRACE_MS, this.slurm.visibilityTimeoutMs) : this.slurm.visibilityTimeoutMs;
    const mayHaveOutput = state === undefined || state === 'COMPLETED' || state === 'FAILED';
    const result = mayHaveOutput ? await this.awaitVisible(t, wait) : readJsonIfPresent<WorkerResult>(this.resultFile(t));
    this.forget(t);
    // A job killed between installing its artifact and writing its result still did its work.
    if (this.store.has(t.job.kind, t.job.key)) {
      this.log(`[slurm] ${t.job.id}: job ${jobId} ${state ?? 'finished'}; artifact ${t.job.key.slice(0, 12)} in place`);
      // The artifact keeps the stage's log; the job's spec, script and Slurm output are only needed after a failure.
      rmSync(instanceDir(this.settings.artifactsDir, t.job.kind, t.job.key), { recursive: true, force: true });
      const meta = this.store.readMeta(t.job.kind, t.job.key);
      this.settings.events.environment(`slurm job ${jobId}`, meta.environment);
      return { status: 'done', meta };
    }
    if (result?.status === 'failed') return { status: 'failed', error: result.error, logTail: this.tail(t) };
    const error =
      state === undefined
        ? `Slurm job ${jobId} is no longer known to squeue and left no artifact (it ended more than MinJobAge ago, or was purged)`
        : state === 'COMPLETED'
          ? `Slurm job ${jobId} COMPLETED but its artifact did not appear within ${this.slurm.visibilityTimeoutMs} ms (shared filesystem not shared, or slow)`
          : `Slurm job ${jobId} ended ${state}${s?.reason && s.reason !== 'None' ? ` (${s.reason})` : ''}`;
    return { status: 'crashed', error, logTail: this.tail(t) };
  }

  /** A finished job no longer stands for its instance: a later repro submits afresh. */
  private forget(t: Tracked): void {
    const rk = recordKey(t.job.kind, t.job.key);
    if (this.records.jobs[rk]?.jobId !== t.record.jobId) return;
    delete this.records.jobs[rk];
    writeRecords(this.settings.artifactsDir, this.records);
    this.cleanTmp(t);
  }

  /** Removes half-built outputs of this key's killed attempts (the worker removes its own on a clean failure). */
  private cleanTmp(t: Tracked): void {
    const root = join(this.settings.artifactsDir, '.slurm', 'tmp');
    if (!existsSync(root)) return;
    const prefix = `${t.job.kind}-${t.job.key.slice(0, 16)}-`;
    for (const name of readdirSync(root)) {
      const p = join(root, name);
      if (name.startsWith(prefix) && statSync(p).isDirectory()) rmSync(p, { recursive: true, force: true });
    }
  }

  /**
   * Drops records of jobs that ended while no coordinator watched them (their
   * artifacts were then found complete, so nothing re-attached). Records of
   * jobs still queued or running stay, and so does everything if squeue fails.
   */
  private async pruneRecords(): Promise<void> {
    const records = Object.entries(this.records.jobs);
    if (records.length === 0) return;
    let states: Map<string, SlurmJobState>;
    try {
      states = await this.commands.query(records.map(([, r]) => r.jobId));
    } catch {
      return;
    }
    let dropped = 0;
    for (const [rk, r] of records) {
      const s = states.get(r.jobId);
      if (s && !TERMINAL_STATES.has(s.state)) continue;
      delete this.records.jobs[rk];
      dropped += 1;
    }
    if (dropped) writeRecords(this.settings.artifactsDir, this.records);
  }

  /**
   * Called on Ctrl-C (and after every run, when nothing is left): cancels the
   * jobs still queued or running, so that nothing runs on unattended.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    const left = [...this.tracked.values()];
    this.tracked.clear();
    if (left.length === 0) return this.pruneRecords();
    const ids = left.map((t) => t.record.jobId);
    this.log(`[slurm] cancelling ${ids.length} job(s): ${ids.join(' ')}`);
    try {
      await this.commands.cancel(ids);
    } catch (err) {
      this.log(`[slurm] scancel failed (${(err as Error).message}); cancel by hand: scancel ${ids.join(' ')}`);
    }
    for (const t of left) {
      this.forget(t);
      t.resolve({ status: 'crashed', error: `Slurm job ${t.record.jobId} cancelled by the coordinator`, logTail: '' });
    }
  }
}
