/**
 * The few Slurm client commands the executor uses, behind an interface so
 * that the coordinator's logic can be tested against a fake cluster. Without
 * an accounting database (sacct), squeue is the only source of a job's state,
 * and only while slurmctld still remembers it (MinJobAge).
 */
import { execa } from 'execa';

/** Job states that will not change any more. */
export const TERMINAL_STATES = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'BOOT_FAIL',
  'DEADLINE',
  'PREEMPTED',
  'SPECIAL_EXIT',
  'REVOKED',
]);

export interface SlurmJobState {
  jobId: string;
  /** e.g. PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, TIMEOUT, OUT_OF_MEMORY, CANCELLED. */
  state: string;
  /** squeue's reason, e.g. Resources, Priority, NonZeroExitCode; "None" when there is none. */
  reason: string;
  /** Nodes the job runs or ran on; empty while pending. */
  nodes: string;
}

export interface SlurmCommands {
  /** Submits a batch script; resolves to the job id. */
  submit(sbatchArgs: string[], scriptPath: string): Promise<string>;
  /** States of the given jobs that slurmctld still knows; unknown ids are absent. Rejects when the controller cannot be asked. */
  query(jobIds: string[]): Promise<Map<string, SlurmJobState>>;
  cancel(jobIds: string[]): Promise<void>;
  /** Resolves when the cluster answers (used to fail early with a clear message). */
  ping(): Promise<void>;
}

/**
 * `cleanup: false`: execa's default installs signal-exit handlers while a
 * command runs, and those re-raise SIGINT when they see no other listener,
 * killing the coordinator mid-Ctrl-C before it can scancel its jobs.
 */
const RUN_OPTIONS = (timeout: number) => ({ reject: false, timeout, cleanup: false }) as const;

const FIELD_SEP = '|';
/** squeue accepts a limited command line; ask about this many ids per call. */
const IDS_PER_QUERY = 500;

export function parseSqueue(stdout: string): Map<string, SlurmJobState> {
  const out = new Map<string, SlurmJobState>();
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const [jobId, state, reason, nodes] = line.trim().split(FIELD_SEP);
    // A state may carry a suffix such as "CANCELLED by 0" in some versions.
    if (jobId && state) out.set(jobId, { jobId, state: state.split(' ')[0], reason: reason ?? 'None', nodes: nodes ?? '' });
  }
  return out;
}

/** sbatch --parsable prints "id" or "id;cluster". */
export function parseSbatch(stdout: string): string {
  const id = stdout.trim().split(';')[0];
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed ${JSON.stringify(stdout.trim())}, not a job id`);
  return id;
}

export function cliSlurm(): SlurmCommands {
  return {
    async submit(sbatchArgs, scriptPath) {
      const r = await execa('sbatch', ['--parsable', ...sbatchArgs, scriptPath], RUN_OPTIONS(60_000));
      if (r.exitCode !== 0) throw new Error(`sbatch ${[...sbatchArgs, scriptPath].join(' ')} failed (exit ${String(r.exitCode)}): ${String(r.stderr || r.stdout).trim()}`);
      return parseSbatch(String(r.stdout));
    },
    async query(jobIds) {
      const all = new Map<string, SlurmJobState>();
      for (let i = 0; i < jobIds.length; i += IDS_PER_QUERY) {
        const ids = jobIds.slice(i, i + IDS_PER_QUERY);
        const r = await execa('squeue', ['-h', '-t', 'all', '-j', ids.join(','), '-o', ['%i', '%T', '%r', '%N'].join(FIELD_SEP)], RUN_OPTIONS(30_000));
        if (r.exitCode !== 0) {
          // Asked only about jobs slurmctld has already forgotten: none of them is known.
          if (/Invalid job id/i.test(String(r.stderr))) continue;
          throw new Error(`squeue failed (exit ${String(r.exitCode)}): ${String(r.stderr || r.stdout).trim()}`);
        }
        for (const [id, s] of parseSqueue(String(r.stdout))) all.set(id, s);
      }
      return all;
    },
    async cancel(jobIds) {
      if (jobIds.length === 0) return;
      await execa('scancel', jobIds, RUN_OPTIONS(30_000));
    },
    async ping() {
      const r = await execa('sinfo', ['-h', '-o', '%P'], RUN_OPTIONS(30_000));
      if (r.exitCode !== 0) throw new Error(`the Slurm cluster does not answer (sinfo: ${String(r.stderr || r.stdout || (r as { shortMessage?: string }).shortMessage).trim()})`);
    },
  };
}
