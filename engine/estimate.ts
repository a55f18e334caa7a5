/**
 * The dry run's time estimate: sums the pipeline's cost model (`Estimator`) over the instances
 * that would run. Loaded only by a dry run with something to do.
 */
import type { Dag } from './graph.js';
import type { Estimator, JsonObject, StageInstance } from './stage.js';

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
}

export function estimateRun(dag: Dag, ids: string[], params: JsonObject, estimator: Estimator): DryRunEstimate {
  const byKind = new Map<string, KindEstimate>();
  for (const id of ids) {
    const node = dag.nodes.get(id);
    if (!node) throw new Error(`estimate: unknown instance ${id}`);
    const entry = byKind.get(node.kind) ?? { kind: node.kind, instances: 0, missing: 0, seconds: 0, bases: [] };
    byKind.set(node.kind, entry);
    entry.instances++;
    const instance: StageInstance = { id: node.id, params: node.params, deps: node.deps, aliases: node.aliases, description: node.description };
    const e = estimator(node.kind, params, instance);
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
  for (const k of e.byKind) {
    const missing = k.missing > 0 ? `, ${k.missing} without an estimate` : '';
    lines.push(`  ${k.kind}: ${k.instances} instance(s), ${hours(k.seconds)}${missing}${k.bases.length ? ` (${k.bases.slice(0, 3).join('; ')}${k.bases.length > 3 ? '; ...' : ''})` : ''}`);
  }
  return lines;
}
