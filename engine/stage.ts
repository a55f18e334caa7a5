/**
 * The contract between the engine and the stage kinds. The engine knows
 * nothing of what a stage computes: a kind expands itself into instances from
 * the effective params, and each instance's `run` writes files into a fresh
 * directory that becomes a content-addressed artifact.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** One node of the DAG, expanded from params by its kind. */
/*
 * `P` is the params slice's type. It is not constrained to `Json` so that a kind may describe
 * its slice with an `interface`; the values must still be plain JSON (they are hashed and sent to workers).
 */
export interface StageInstance<P = Json> {
  /** Unique across the whole DAG, e.g. `train/resnet20/badnets/standard/seed0`. */
  id: string;
  /** The slice of the params this instance reads. Its canonical JSON is part of the cache key. */
  params: P;
  /** Upstream instances this one consumes: local name -> instance id. */
  deps?: Record<string, string>;
  /** Readable extra ids that select this instance as a target, e.g. `figure:fig3`, `table:table1`. */
  aliases?: string[];
  /** One line for `dag` and `status`. */
  description?: string;
}

export interface ArtifactMeta {
  id: string;
  kind: string;
  key: string;
  params: Json;
  upstream: Record<string, { id: string; key: string }>;
  /** Relative path -> sha256 hex, for every file of the artifact except meta.json and log.txt (the stage's log). */
  outputs: Record<string, string>;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** Whatever the pipeline's worker environment hook reported (backend, versions...). */
  environment: JsonObject;
  /** Whatever the stage recorded with `ctx.recordMeta`. */
  extra: JsonObject;
}

export interface UpstreamArtifact {
  id: string;
  kind: string;
  key: string;
  /** The artifact's directory; read-only for consumers. */
  dir: string;
  meta: ArtifactMeta;
}

export interface Progress {
  message?: string;
  current?: number;
  total?: number;
  unit?: string;
  /** Small numbers worth showing live, e.g. { loss: 0.41, 'img/s': 120 }. */
  metrics?: Record<string, number>;
}

export interface StageContext<P = Json> {
  id: string;
  kind: string;
  key: string;
  params: P;
  /** Fresh, empty directory; everything written here becomes the artifact once `run` resolves. */
  outDir: string;
  /** Kept across failed or killed attempts of the same key (resume), removed once the artifact is complete. */
  checkpointDir: string;
  inputs: Record<string, UpstreamArtifact>;
  progress(update: Progress): void;
  log(message: string): void;
  /** Merged into meta.json's `extra` (timings, costs, which surrogate was used...). */
  recordMeta(extra: JsonObject): void;
  signal: AbortSignal;
}

export interface StageKind<P = Json> {
  /** Short name; artifacts live at `artifacts/<kind>/<key>/`. */
  kind: string;
  /** Expand this kind's instances from the effective params (already validated). */
  instances(params: JsonObject): StageInstance<P>[];
  run(ctx: StageContext<P>): Promise<void>;
}

/**
 * A pipeline's optional cost model for `repro --dry-run` (PipelineDefinition.estimatorModule
 * exports one as `estimateSeconds`). It lives outside the stage modules on purpose: a stage's
 * cache key covers the source of every module it imports, and a better estimate must never
 * make results stale.
 */
export type Estimator = (kind: string, params: JsonObject, instance: StageInstance) => TimeEstimate | null;

export interface TimeEstimate {
  seconds: number;
  /** Where the figure comes from, e.g. `measured wasm throughput of resnet20@0.5`. */
  basis: string;
}
