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

/**
 * How the pipeline groups instances in the dry run's estimate (e.g. by replicate seed): a group
 * label, or null for instances shared by every group. The engine only counts and sums per label.
 */
export type EstimateGroup = (kind: string, instance: StageInstance) => string | null;

export interface CostModel {
  estimate: Estimator;
  /** The module's `estimateGroup`, if it exports one. */
  group?: EstimateGroup;
  /** Which calibration is applied; null when the module offers none. */
  calibration: string | null;
}

/** The pipeline's cost model, or null when it has none. */
export async function loadCostModel(def: PipelineDefinition, params: JsonObject, cacheDir: string, probe: boolean): Promise<CostModel | null> {
  const module = def.estimatorModule;
  if (!module) return null;
  const loaded = (await import(pathToFileURL(resolvePath(def, module)).href)) as { estimateSeconds?: Estimator; calibratedEstimator?: CalibratedEstimatorFactory; estimateGroup?: EstimateGroup };
  const group = typeof loaded.estimateGroup === 'function' ? { group: loaded.estimateGroup } : {};
  if (typeof loaded.calibratedEstimator === 'function') return { ...(await loaded.calibratedEstimator(params, { cacheDir, probe })), ...group };
  if (typeof loaded.estimateSeconds !== 'function') throw new Error(`${module} must export a function estimateSeconds(kind, params, instance)`);
  return { estimate: loaded.estimateSeconds, calibration: null, ...group };
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
  /** Instances and seconds per group (see EstimateGroup), shared instances under null; absent without a grouping. */
  byGroup?: { group: string | null; instances: number; seconds: number }[];
}

export function estimateRun(dag: Dag, ids: string[], params: JsonObject, estimator: Estimator, groupOf?: EstimateGroup): DryRunEstimate {
  const byKind = new Map<string, KindEstimate>();
  const byGroup = new Map<string | null, { group: string | null; instances: number; seconds: number }>();
  for (const id of ids) {
    const node = dag.nodes.get(id);
    if (!node) throw new Error(`estimate: unknown instance ${id}`);
    const entry = byKind.get(node.kind) ?? { kind: node.kind, instances: 0, missing: 0, seconds: 0, bases: [] };
    byKind.set(node.kind, entry);
    entry.instances++;
    const e = estimator(node.kind, params, asInstance(node));
    const g = groupOf ? groupOf(node.kind, asInstance(node)) : undefined;
    const groupEntry = g === undefined ? undefined : byGroup.get(g) ?? byGroup.set(g, { group: g, instances: 0, seconds: 0 }).get(g)!;
    if (groupEntry) groupEntry.instances++;
    if (e === null) {
      entry.missing++;
      continue;
    }
    if (!(Number.isFinite(e.seconds) && e.seconds >= 0)) throw new Error(`estimator: ${id} got ${e.seconds}; expected a finite number >= 0`);
    entry.seconds += e.seconds;
    if (groupEntry) groupEntry.seconds += e.seconds;
    if (!entry.bases.includes(e.basis)) entry.bases.push(e.basis);
  }
  const list = [...byKind.values()].sort((a, b) => b.seconds - a.seconds);
  const groups = [...byGroup.values()].sort((a, b) => (a.group === null ? 1 : b.group === null ? -1 : a.group.localeCompare(b.group, undefined, { numeric: true })));
  return { totalSeconds: list.reduce((t, k) => t + k.seconds, 0), byKind: list, ...(groupOf ? { byGroup: groups } : {}) };
}

const hours = (s: number): string => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);

/** Lines for the dry run's output: the total, the ideal wall time with `jobs` workers, and each kind's share. */
export function describeEstimate(e: DryRunEstimate, jobs: number): string[] {
  const lines = [
    `estimate (rough, from the pipeline's cost model): ${hours(e.totalSeconds)} of compute in all; at best ${hours(e.totalSeconds / Math.max(1, jobs))} wall with -j ${jobs} (ignores waits on dependencies)`,
  ];
  if (e.calibration !== undefined) lines.push(`  calibration: ${e.calibration ?? 'none (the cost model offers none)'}`);
  if (e.byGroup && e.byGroup.some((g) => g.group !== null)) {
    const named = e.byGroup.filter((g) => g.group !== null);
    lines.push(`  ${named.length} group(s): ${e.byGroup.map((g) => `${g.group ?? 'shared'} ${g.instances} instance(s), ${hours(g.seconds)}`).join('; ')}`);
  }
  for (const k of e.byKind) {
    const missing = k.missing > 0 ? `, ${k.missing} without an estimate` : '';
    lines.push(`  ${k.kind}: ${k.instances} instance(s), ${hours(k.seconds)}${missing}${k.bases.length ? ` (${k.bases.slice(0, 3).join('; ')}${k.bases.length > 3 ? '; ...' : ''})` : ''}`);
  }
  return lines;
}
