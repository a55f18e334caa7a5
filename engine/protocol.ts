/** Messages between the coordinator and a worker process (JSON over the IPC channel). */
import type { Job } from './executor.js';
import type { JsonObject, Progress } from './stage.js';
import type { StoredMeta } from './store.js';

export type ToWorker =
  | { type: 'init'; root: string; artifactsDir: string; params: JsonObject; environmentModule?: string }
  | { type: 'run'; job: Job };

export type FromWorker =
  | { type: 'ready'; environment: JsonObject }
  | { type: 'init-failed'; error: string }
  | { type: 'progress'; id: string; progress: Progress }
  | { type: 'done'; id: string; meta: StoredMeta }
  | { type: 'failed'; id: string; error: string };
