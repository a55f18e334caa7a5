/**
 * The dry run's time estimate: sums the pipeline's cost model (`Estimator`) over the instances
 * that would run. Loaded only by a dry run with something to do.
 */
import { pathToFileURL } from 'node:url';
import type { Dag, DagNode } from './graph.js';
import { resolvePath, type PipelineDefinition } from './project.js';
import type { Estimator, JsonObject, StageInstance } from './stage.js';

/**
 * What an estimator module may export beside (or instead of) `estimateSeconds`: the cost model
 * scaled to this machine. `probe: false` must not measure anything (it may use an earlier,
 * cached measurement). `calibration` says which calibration the estimate uses, for the user.
 */
export type CalibratedEstimatorFactory = (params: JsonObject, options: { cacheDir: string; probe: boolean }) => Promise<{ estimate: Estimator; calibration: string }>;

export interface CostModel {
  estimate: Estimator;
  /** Which calibration is applied; null when the module offers none. */
  calibration: string | null;
}

/** The pipeline's cost model, or null when it has none. */
export async function loadCostModel(def: PipelineDefinition, params: JsonObject, cacheDir: string, probe: boolean): Promise<CostModel | null> {
  const module = def.estimatorModule;
  if (!module) return null;
  const loaded = (await import(pathToFileURL(resolvePath(def, module)).href)) as { estimateSeconds?: Estimator; calibratedEstimator?: CalibratedEstimatorFactory };
  if (typeof loaded.calibratedEstimator === 'function') return loaded.calibratedEstimator(params, { cacheDir, probe });
  if (typeof loaded.estimateSeconds !== 'function') throw new Error(`${module} must export a function estimateSeconds(kind, params, instance)`);
  return { estimate: loaded.estimateSeconds, calibration: null };
}

const asInstance = (node: DagNode): StageInstance => ({ id: node.id, params: node.params, deps: node.deps, aliases: node.aliases, description: node.description });

/** Seconds per instance, for those the cost model has a figure for (the run's progress line). */
export function estimateInstances(dag: Dag, ids: string[], params: JsonObject, estimator: Estimator): Map<string, number> {
  const out = new Map<string, number>();
  for (const id of ids) {
    const node = dag.nodes.get(id);
    if (!node) continue;
    const e = estimator(node.kind, params, asInstance(node));
    if (e !== null && Number.isFinite(e.seconds) && e.seconds >= 0) out.set(id, e.seconds);
  }
  return out;
}

export interface KindEstimate {
  kind: string;
  instances: number;
  /** Instances the kind gave no estimate for. */
  missing: number;
  seconds: number;
  bases: string[];
}

export interface DryRunEstimate {
  totalSeconds: number;
  byKind: KindEstimate[];
  /** Which calibration of the cost model was used (see CalibratedEstimatorFactory). */
  calibration?: string | null;
}

export function estimateRun(dag: Dag, ids: string[], params: JsonObject, estimator: Estimator): DryRunEstimate {
  const byKind = new Map<string, KindEstimate>();
  for (const id of ids) {
    const node = dag.nodes.get(id);
    if (!node) throw new Error(`estimate: unknown instance ${id}`);
    const entry = byKind.get(node.kind) ?? { kind: node.kind, instances: 0, missing: 0, seconds: 0, bases: [] };
    byKind.set(node.kind, entry);
    entry.instances++;
    const e = estimator(node.kind, params, asInstance(node));
    if (e === null) {
      entry.missing++;
      continue;
    }
    if (!(Number.isFinite(e.seconds) && e.seconds >= 0)) throw new Error(`estimator: ${id} got ${e.seconds}; expected a finite number >= 0`);
    entry.seconds += e.seconds;
    if (!entry.bases.includes(e.basis)) entry.bases.push(e.basis);
  }
  const list = [...byKind.values()].sort((a, b) => b.seconds - a.seconds);
  return { totalSeconds: list.reduce((t, k) => t + k.seconds, 0), byKind: list };
}

const hours = (s: number): string => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);

/** Lines for the dry run's output: the total, the ideal wall time with `jobs` workers, and each kind's share. */
export function describeEstimate(e: DryRunEstimate, jobs: number): string[] {
  const lines = [
    `estimate (rough, from the pipeline's cost model): ${hours(e.totalSeconds)} of compute in all; at best ${hours(e.totalSeconds / Math.max(1, jobs))} wall with -j ${jobs} (ignores waits on dependencies)`,
  ];
  if (e.calibration !== undefined) lines.push(`  calibration: ${e.calibration ?? 'none (the cost model offers none)'}`);
  for (const k of e.byKind) {
    const missing = k.missing > 0 ? `, ${k.missing} without an estimate` : '';
    lines.push(`  ${k.kind}: ${k.instances} instance(s), ${hours(k.seconds)}${missing}${k.bases.length ? ` (${k.bases.slice(0, 3).join('; ')}${k.bases.length > 3 ? '; ...' : ''})` : ''}`);
  }
  return lines;
}
