/**
 * How the scheduler hands an instance to something that runs it. The local
 * executor keeps a pool of long-lived worker processes; a cluster executor
 * (Slurm) can implement the same interface.
 */
import type { Fingerprint } from './fingerprint.js';
import type { Json, JsonObject, Progress } from './stage.js';
import type { StoredMeta } from './store.js';

/** Everything a worker needs to run one instance; plain JSON so that it crosses process boundaries. */
export interface Job {
  id: string;
  kind: string;
  key: string;
  /** The kind's module, relative to the root. */
  module: string;
  params: Json;
  fingerprint: Fingerprint;
  upstream: Record<string, { id: string; kind: string; key: string }>;
}

export type JobOutcome =
  | { status: 'done'; meta: StoredMeta }
  /** `run` threw or rejected: `error` is its message (the stack is in the log). */
  | { status: 'failed'; error: string; logTail: string }
  /** The process running it died (signal, OOM, exit). */
  | { status: 'crashed'; error: string; signal?: string; exitCode?: number; logTail: string };

export interface ExecutorEvents {
  progress(id: string, update: Progress): void;
  /** A worker finished its set-up hook; `environment` is what it returned. */
  environment(worker: string, environment: JsonObject): void;
}

export interface Executor {
  /** How many instances may run at once. */
  readonly slots: number;
  run(job: Job): Promise<JobOutcome>;
  /** Stops every worker; running jobs end as crashed. */
  close(): Promise<void>;
}

/** What every executor is given. */
export interface ExecutorSettings {
  root: string;
  artifactsDir: string;
  params: JsonObject;
  environmentModule?: string;
  jobs: number;
  events: ExecutorEvents;
}
