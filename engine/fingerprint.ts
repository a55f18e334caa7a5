/**
 * The fingerprint of an instance is a readable, sorted object; its sha256 is
 * the cache key, and diffing an old fingerprint against a new one says why an
 * instance is stale.
 */
import { canonicalJson, diffJson, sha256 } from './json.js';
import type { Json } from './stage.js';

export interface UpstreamRef {
  id: string;
  outputsDigest: string;
}

export interface Fingerprint {
  kind: string;
  sources: Record<string, string>;
  packages: Record<string, string>;
  params: Json;
  upstream: Record<string, UpstreamRef>;
}

export const fingerprintKey = (fp: Fingerprint): string => sha256(canonicalJson(fp));

/**
 * The same key as `fingerprintKey`, for many instances of one kind: the
 * canonical text of the kind's sources and packages is built once.
 */
export function keyerFor(kind: string, sources: Record<string, string>, packages: Record<string, string>): (params: Json, upstream: Record<string, UpstreamRef>) => string {
  // Keys in canonical (sorted) order: kind, packages, params, sources, upstream.
  const head = `{"kind":${JSON.stringify(kind)},"packages":${canonicalJson(packages)},"params":`;
  const mid = `,"sources":${canonicalJson(sources)},"upstream":`;
  return (params, upstream) => sha256(`${head}${canonicalJson(params)}${mid}${canonicalJson(upstream)}}`);
}

/** One digest for all of an artifact's files (relative path -> sha256). */
export const outputsDigest = (outputs: Record<string, string>): string => sha256(canonicalJson(outputs));

export type Reason =
  | { type: 'never-run' }
  | { type: 'forced' }
  | { type: 'artifact-missing'; key: string }
  /** The artifact at the current key no longer matches what was written (see engine/integrity.ts). */
  | { type: 'damaged'; key: string; problems: string[] }
  | { type: 'kind'; before: string; after: string }
  | { type: 'param'; path: string; before: Json | undefined; after: Json | undefined }
  | { type: 'source'; path: string; change: 'modified' | 'added' | 'removed' }
  | { type: 'package'; name: string; before?: string; after?: string }
  | { type: 'upstream'; name: string; id: string; change: 'will-rerun' | 'changed' | 'rewired' | 'added' | 'removed'; before?: string }
  | { type: 'unchanged-inputs' };

/**
 * Why `now` differs from `before`. `now.upstream` may lack entries for
 * upstreams that will rerun first (their digest is not known yet); `pending`
 * names them.
 */
export function explainChange(before: Fingerprint | undefined, now: Omit<Fingerprint, 'upstream'> & { upstream: Record<string, UpstreamRef | { id: string; pending: true }> }): Reason[] {
  if (!before) return [{ type: 'never-run' }];
  const reasons: Reason[] = [];
  if (before.kind !== now.kind) reasons.push({ type: 'kind', before: before.kind, after: now.kind });
  for (const c of diffJson(before.params, now.params)) reasons.push({ type: 'param', path: c.path, before: c.before, after: c.after });
  for (const path of union(before.sources, now.sources)) {
    const a = before.sources[path];
    const b = now.sources[path];
    if (a === b) continue;
    reasons.push({ type: 'source', path, change: a === undefined ? 'added' : b === undefined ? 'removed' : 'modified' });
  }
  for (const name of union(before.packages, now.packages)) {
    if (before.packages[name] !== now.packages[name]) reasons.push({ type: 'package', name, before: before.packages[name], after: now.packages[name] });
  }
  for (const name of union(before.upstream, now.upstream)) {
    const a = before.upstream[name];
    const b = now.upstream[name];
    if (!b) reasons.push({ type: 'upstream', name, id: a.id, change: 'removed' });
    else if ('pending' in b) reasons.push({ type: 'upstream', name, id: b.id, change: 'will-rerun' });
    else if (!a) reasons.push({ type: 'upstream', name, id: b.id, change: 'added' });
    else if (a.id !== b.id) reasons.push({ type: 'upstream', name, id: b.id, change: 'rewired', before: a.id });
    else if (a.outputsDigest !== b.outputsDigest) reasons.push({ type: 'upstream', name, id: b.id, change: 'changed' });
  }
  return reasons;
}

function union(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

const short = (v: Json | undefined): string => (v === undefined ? '(absent)' : canonicalJson(v).slice(0, 60));

export function describeReason(r: Reason): string {
  switch (r.type) {
    case 'never-run':
      return 'never run';
    case 'forced':
      return 'forced (--force)';
    case 'artifact-missing':
      return `its artifact ${r.key.slice(0, 12)} was deleted`;
    case 'damaged':
      return `its artifact ${r.key.slice(0, 12)} is damaged: ${r.problems.join('; ')}`;
    case 'kind':
      return `kind changed ${r.before} -> ${r.after}`;
    case 'param':
      return `param ${r.path}: ${short(r.before)} -> ${short(r.after)}`;
    case 'source':
      return `source ${r.path} ${r.change}`;
    case 'package':
      return `package ${r.name} ${r.before ?? '(none)'} -> ${r.after ?? '(none)'}`;
    case 'upstream':
      return r.change === 'will-rerun'
        ? `upstream ${r.name} (${r.id}) will rerun`
        : r.change === 'rewired'
          ? `upstream ${r.name} now ${r.id} (was ${r.before})`
          : `upstream ${r.name} (${r.id}) ${r.change}`;
    case 'unchanged-inputs':
      return 'inputs match the lock file but no artifact has this key';
  }
}
