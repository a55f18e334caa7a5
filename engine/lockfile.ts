/**
 * pipeline.lock.json: for each instance, the key and output digests of its
 * last good run, and the fingerprint that produced it (so that `status` can
 * say what changed since). Rewritten atomically after every `repro`.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Fingerprint } from './fingerprint.js';
import { UserError } from './errors.js';

export interface LockEntry {
  kind: string;
  key: string;
  outputsDigest: string;
  outputs: Record<string, string>;
  fingerprint: Fingerprint;
}

export interface LockData {
  version: 1;
  instances: Record<string, LockEntry>;
}

export function readLock(path: string): LockData {
  if (!existsSync(path)) return { version: 1, instances: {} };
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as LockData;
    if (data.version !== 1 || typeof data.instances !== 'object') throw new Error(`unknown lock format version ${String(data.version)}`);
    return data;
  } catch (err) {
    throw new UserError(`${path} is unreadable (${(err as Error).message}); delete it to start afresh (artifacts are kept and found again by key)`);
  }
}

export function writeLock(path: string, data: LockData): void {
  const sorted: LockData = { version: 1, instances: {} };
  for (const id of Object.keys(data.instances).sort()) sorted.instances[id] = data.instances[id];
  const text = `${JSON.stringify(sorted, null, 1)}\n`;
  // A no-op run changes nothing: leave the file (and its mtime) alone.
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  const tmp = `${path}.tmp${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
