/**
 * Which instances are up to date, their keys, and for the stale ones why,
 * without running anything (`status`, `repro --dry-run`). An instance whose
 * upstream will rerun has no key yet: it depends on outputs not made yet.
 */
import { explainChange, keyerFor, type Fingerprint, type Reason, type UpstreamRef } from './fingerprint.js';
import type { DagNode } from './graph.js';
import { damagedReason, integrityOf } from './integrity.js';
import type { Project } from './project.js';

export interface PlanItem {
  id: string;
  kind: string;
  state: 'fresh' | 'stale';
  /** Known unless an upstream is stale. */
  key?: string;
  outputsDigest?: string;
  reasons: Reason[];
}

export function fingerprintOf(project: Project, node: DagNode, upstream: Record<string, UpstreamRef>): Fingerprint {
  const closure = project.closures.get(node.kind)!;
  return { kind: node.kind, sources: closure.sources, packages: closure.packages, params: node.params, upstream };
}

const keyers = new WeakMap<Project, Map<string, ReturnType<typeof keyerFor>>>();

/** The cache key of `fingerprintOf(project, node, upstream)`, computed without re-serialising the kind's sources. */
export function keyOf(project: Project, node: DagNode, upstream: Record<string, UpstreamRef>): string {
  let byKind = keyers.get(project);
  if (!byKind) keyers.set(project, (byKind = new Map()));
  let keyer = byKind.get(node.kind);
  if (!keyer) {
    const closure = project.closures.get(node.kind)!;
    byKind.set(node.kind, (keyer = keyerFor(node.kind, closure.sources, closure.packages)));
  }
  return keyer(node.params, upstream);
}

/** The outputs digest of a complete artifact, from the lock when it agrees (no disk read), else from meta.json. */
export function artifactDigest(project: Project, id: string, kind: string, key: string): { outputsDigest: string; outputs: Record<string, string> } {
  const entry = project.lock.instances[id];
  if (entry && entry.key === key && entry.kind === kind) return { outputsDigest: entry.outputsDigest, outputs: entry.outputs };
  const meta = project.store.readMeta(kind, key);
  return { outputsDigest: meta.outputsDigest, outputs: meta.outputs };
}

export type ArtifactCheck =
  | { state: 'ok'; outputs: Record<string, string>; outputsDigest: string }
  | { state: 'absent' }
  | { state: 'damaged'; problems: string[] };

/**
 * Whether instance `id`'s artifact at `key` can be reused: present and intact (with its output
 * digests), absent, or damaged (a file missing, modified or stray; meta.json missing).
 */
export function checkArtifact(project: Project, id: string, kind: string, key: string): ArtifactCheck {
  let digest: { outputsDigest: string; outputs: Record<string, string> } | undefined;
  const c = integrityOf(project).check(kind, key, () => (digest ??= artifactDigest(project, id, kind, key)).outputs);
  if (c.state !== 'ok') return c;
  digest ??= artifactDigest(project, id, kind, key);
  return { state: 'ok', outputs: digest.outputs, outputsDigest: digest.outputsDigest };
}

/** Why an instance whose key is `key` (fingerprint `fp`) must run. */
export function staleReasons(project: Project, id: string, fp: Fingerprint, key: string, forced: boolean): Reason[] {
  if (forced) return [{ type: 'forced' }];
  const prev = project.lock.instances[id];
  const reasons = explainChange(prev?.fingerprint, fp);
  if (reasons.length === 0) return prev && prev.key === key ? [{ type: 'artifact-missing', key }] : [{ type: 'unchanged-inputs' }];
  return reasons;
}

export function plan(project: Project, ids: string[], forced: ReadonlySet<string>): Map<string, PlanItem> {
  const items = new Map<string, PlanItem>();
  for (const id of ids) {
    const node = project.dag.nodes.get(id)!;
    const upstream: Record<string, UpstreamRef> = {};
    const pending: Record<string, { id: string; pending: true }> = {};
    for (const [local, dep] of Object.entries(node.deps)) {
      const up = items.get(dep)!;
      if (up.state === 'fresh') upstream[local] = { id: dep, outputsDigest: up.outputsDigest! };
      else pending[local] = { id: dep, pending: true };
    }
    const fp = fingerprintOf(project, node, upstream);
    if (Object.keys(pending).length > 0) {
      const prev = project.lock.instances[id]?.fingerprint;
      const reasons = explainChange(prev, { ...fp, upstream: { ...upstream, ...pending } });
      items.set(id, { id, kind: node.kind, state: 'stale', reasons: forced.has(id) ? [{ type: 'forced' }, ...reasons] : reasons });
      continue;
    }
    const key = keyOf(project, node, upstream);
    const found = forced.has(id) ? undefined : checkArtifact(project, id, node.kind, key);
    if (found?.state === 'ok') {
      items.set(id, { id, kind: node.kind, state: 'fresh', key, outputsDigest: found.outputsDigest, reasons: [] });
    } else if (found?.state === 'damaged') {
      items.set(id, { id, kind: node.kind, state: 'stale', key, reasons: [damagedReason(key, found.problems)] });
    } else {
      items.set(id, { id, kind: node.kind, state: 'stale', key, reasons: staleReasons(project, id, fp, key, forced.has(id)) });
    }
  }
  // What was found intact is remembered, so that the next check need not read meta.json or rehash.
  integrityOf(project).save();
  return items;
}
