/**
 * Reading experiments back: `baseline` resolved from the cache, the rows of `exp show`, and
 * `exp diff`'s metrics (A, B, Δ) and differing instances with the reasons the fingerprints give.
 */
import { describeReason, explainChange, type Fingerprint, type Reason } from '../fingerprint.js';
import { canonicalJson } from '../json.js';
import { plan } from '../plan.js';
import { loadProject, type PipelineDefinition } from '../project.js';
import type { ArtifactStore } from '../store.js';
import { UserError } from '../errors.js';
import { metricMatcher, readArtifactMetrics, type MetricValue } from './metrics.js';
import { BASELINE, type ExperimentFiles, type ExperimentRecord, type RecordedInstance } from './record.js';
import { gitVersion, sourcesDigest } from './version.js';
import type { Cell } from './format.js';

/**
 * `baseline`: the plain repro of a profile, resolved now from the profile's params, the current
 * code and the cache (every instance whose artifact exists), not from pipeline.lock.json, which
 * records whatever the last `repro` ran, overrides included.
 */
export async function resolveBaseline(def: PipelineDefinition, profile: string | undefined): Promise<ExperimentRecord> {
  const project = await loadProject(def, { profile, overrides: [] });
  const instances: Record<string, RecordedInstance> = {};
  const metrics: Record<string, MetricValue> = {};
  for (const item of plan(project, project.dag.order, new Set()).values()) {
    if (item.state !== 'fresh') continue;
    instances[item.id] = { kind: item.kind, key: item.key!, outputsDigest: item.outputsDigest! };
    Object.assign(metrics, readArtifactMetrics(project.store, item.id, item.kind, item.key!));
  }
  return {
    version: 1,
    name: BASELINE,
    ...(project.profile !== undefined ? { profile: project.profile } : {}),
    overrides: [],
    assignment: [],
    targets: [],
    paramsChanged: [],
    createdAt: new Date().toISOString(),
    code: { ...gitVersion(def.root), sourcesDigest: sourcesDigest(project) },
    instances,
    metrics,
  };
}

/**
 * The named experiments (and the members of each `--sweep` group), in the order given. `baseline`
 * is of `--profile`, else of the first named experiment's profile.
 */
export async function resolveExperiments(def: PipelineDefinition, files: ExperimentFiles, names: string[], sweeps: string[], profile: string | undefined): Promise<ExperimentRecord[]> {
  const wanted: string[] = [...names];
  for (const group of sweeps) {
    const members = files.all().filter((r) => r.sweep === group).map((r) => r.name);
    if (members.length === 0) {
      const groups = [...new Set(files.all().flatMap((r) => (r.sweep ? [r.sweep] : [])))];
      throw new UserError(`--sweep ${JSON.stringify(group)}: no recorded sweep of that name${groups.length ? `; recorded sweeps: ${groups.join(', ')}` : ''}`);
    }
    wanted.push(...members);
  }
  if (wanted.length === 0) wanted.push(...files.names());
  const unique = [...new Set(wanted)];
  // Every name is checked before the baseline (a whole DAG plan) is resolved.
  const records = new Map(unique.filter((n) => n !== BASELINE).map((n) => [n, files.read(n)]));
  if (unique.includes(BASELINE)) records.set(BASELINE, await resolveBaseline(def, profile ?? [...records.values()][0]?.profile));
  return unique.map((n) => records.get(n)!);
}

/** The longest common prefix of the names that ends at a '/', so that table headers stay short. */
function commonPrefix(names: string[]): string {
  if (names.length < 2) return '';
  let p = names[0];
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  return p.slice(0, p.lastIndexOf('/') + 1);
}

export interface Table {
  headers: string[];
  rows: Cell[][];
  /** Stripped from the metric headers (table and md formats). */
  prefix: string;
}

/**
 * `exp show`: one row per experiment, the params it changed (against its profile), then the
 * metrics the globs select; without globs, the metrics whose values differ between the rows
 * (every metric for one row).
 */
export function showTable(records: ExperimentRecord[], globs: string[], shorten: boolean): Table {
  const paramPaths = [...new Set(records.flatMap((r) => [...r.paramsChanged.map((c) => c.path), ...r.assignment.map((a) => a.path)]))].sort();
  const match = metricMatcher(globs);
  const all = [...new Set(records.flatMap((r) => Object.keys(r.metrics)))].filter(match).sort();
  const metrics = globs.length > 0 || records.length < 2 ? all : all.filter((m) => new Set(records.map((r) => canonicalJson(r.metrics[m] ?? null))).size > 1);
  const prefix = shorten ? commonPrefix(metrics) : '';
  const headers = ['experiment', 'profile', ...paramPaths, ...metrics.map((m) => m.slice(prefix.length))];
  const rows = records.map((r): Cell[] => [
    r.name,
    r.profile ?? '',
    ...paramPaths.map((p): Cell => {
      // A sweep point may equal the profile's value (then it changed nothing), yet it is the row's x.
      const set = r.assignment.find((a) => a.path === p)?.value ?? r.paramsChanged.find((x) => x.path === p)?.after;
      if (set === undefined) return r.paramsChanged.some((x) => x.path === p) ? '(absent)' : '(profile)';
      return set !== null && typeof set === 'object' ? canonicalJson(set) : set;
    }),
    ...metrics.map((m) => r.metrics[m]),
  ]);
  return { headers, rows, prefix };
}

export interface MetricDiff {
  metric: string;
  a: MetricValue;
  b: MetricValue;
  /** b - a, for numbers. */
  delta?: number;
}

export interface InstanceDiff {
  id: string;
  keyA: string;
  keyB: string;
  reasons: Reason[] | null;
}

export interface ExperimentDiff {
  metrics: MetricDiff[];
  /** Metrics that only one side has (an instance only one ran). */
  onlyA: string[];
  onlyB: string[];
  instances: InstanceDiff[];
  instancesOnlyA: string[];
  instancesOnlyB: string[];
}

const fingerprintIn = (store: ArtifactStore, kind: string, key: string): Fingerprint | null => {
  if (!store.has(kind, key)) return null;
  return store.readMeta(kind, key).fingerprint ?? null;
};

/**
 * Every metric both have with different values, and every instance both have with different
 * keys, with why (the same diff of fingerprints that `status` uses, read from the artifacts'
 * meta.json; null when an artifact is no longer in the cache).
 */
export function diffExperiments(a: ExperimentRecord, b: ExperimentRecord, globs: string[], store: ArtifactStore): ExperimentDiff {
  const match = metricMatcher(globs);
  const metrics: MetricDiff[] = [];
  for (const m of Object.keys(a.metrics).filter(match).sort()) {
    if (!(m in b.metrics)) continue;
    const va = a.metrics[m];
    const vb = b.metrics[m];
    if (va === vb) continue;
    metrics.push({ metric: m, a: va, b: vb, ...(typeof va === 'number' && typeof vb === 'number' ? { delta: vb - va } : {}) });
  }
  const instances: InstanceDiff[] = [];
  for (const id of Object.keys(a.instances).sort()) {
    const ia = a.instances[id];
    const ib = b.instances[id];
    if (!ib || ia.key === ib.key) continue;
    const fa = fingerprintIn(store, ia.kind, ia.key);
    const fb = fingerprintIn(store, ib.kind, ib.key);
    instances.push({ id, keyA: ia.key, keyB: ib.key, reasons: fa && fb ? explainChange(fa, fb) : null });
  }
  return {
    metrics,
    onlyA: Object.keys(a.metrics).filter((m) => match(m) && !(m in b.metrics)).sort(),
    onlyB: Object.keys(b.metrics).filter((m) => match(m) && !(m in a.metrics)).sort(),
    instances,
    instancesOnlyA: Object.keys(a.instances).filter((id) => !(id in b.instances)).sort(),
    instancesOnlyB: Object.keys(b.instances).filter((id) => !(id in a.instances)).sort(),
  };
}

export const describeReasons = (r: Reason[] | null): string =>
  r === null ? 'artifact no longer in the cache: cannot say why' : r.length === 0 ? 'same inputs' : r.map(describeReason).join('; ');
