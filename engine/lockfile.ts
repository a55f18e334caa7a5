/**
 * pipeline.lock.json: for each instance, the key and output digests of its
 * last good run, and the fingerprint that produced it (so that `status` can
 * say what changed since). Rewritten atomically after every `repro` that
 * changed something. A kind's source and package lists are stored once, in
 * `code`, and referenced by digest, so that the file stays readable for
 * hundreds of instances of one kind.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Fingerprint } from './fingerprint.js';
import { UserError } from './errors.js';
import { canonicalJson, sha256 } from './json.js';

export interface LockEntry {
  kind: string;
  key: string;
  outputsDigest: string;
  outputs: Record<string, string>;
  fingerprint: Fingerprint;
}

export interface LockData {
  instances: Record<string, LockEntry>;
}

interface CodeSet {
  sources: Record<string, string>;
  packages: Record<string, string>;
}

interface StoredEntry extends Omit<LockEntry, 'fingerprint'> {
  fingerprint: Omit<Fingerprint, 'sources' | 'packages'> & { code: string };
}

interface StoredLock {
  version: 2;
  code: Record<string, CodeSet>;
  instances: Record<string, StoredEntry>;
}

export function readLock(path: string): LockData {
  if (!existsSync(path)) return { instances: {} };
  try {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as StoredLock;
    if (stored.version !== 2 || typeof stored.instances !== 'object') throw new Error(`unknown lock format version ${String(stored.version)}`);
    const instances: Record<string, LockEntry> = {};
    for (const [id, e] of Object.entries(stored.instances)) {
      const { code, ...rest } = e.fingerprint;
      const set = stored.code[code];
      if (!set) throw new Error(`instance ${id} refers to unknown code set ${code}`);
      instances[id] = { ...e, fingerprint: { ...rest, sources: set.sources, packages: set.packages } };
    }
    return { instances };
  } catch (err) {
    throw new UserError(`${path} is unreadable (${(err as Error).message}); delete it to start afresh (artifacts are kept and found again by key)`);
  }
}

export function writeLock(path: string, data: LockData): void {
  const stored: StoredLock = { version: 2, code: {}, instances: {} };
  const digests = new Map<object, string>();
  for (const id of Object.keys(data.instances).sort()) {
    const { fingerprint, ...rest } = data.instances[id];
    const { sources, packages, ...fp } = fingerprint;
    let code = digests.get(sources);
    if (code === undefined) {
      const set: CodeSet = { sources, packages };
      code = sha256(canonicalJson(set)).slice(0, 16);
      stored.code[code] = set;
      digests.set(sources, code);
    }
    stored.instances[id] = { ...rest, fingerprint: { ...fp, code } };
  }
  const text = `${JSON.stringify(stored, null, 1)}\n`;
  // A no-op run changes nothing: leave the file (and its mtime) alone.
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  const tmp = `${path}.tmp${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
