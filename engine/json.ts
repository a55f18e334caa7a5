/**
 * Canonical JSON and hashing: the cache key must not depend on the order in
 * which a stage happened to build its params object.
 */
import { createHash } from 'node:crypto';
import type { Json, JsonObject } from './stage.js';

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export const isPlainObject = (v: unknown): v is JsonObject =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Objects merge key by key; arrays and scalars in `patch` replace what `base` had. */
export function deepMerge(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : structuredClone(value);
  }
  return out;
}

/** Differences between two JSON values as dotted paths with old and new values (undefined = absent). */
export interface JsonChange {
  path: string;
  before: Json | undefined;
  after: Json | undefined;
}

export function diffJson(before: Json | undefined, after: Json | undefined, path = ''): JsonChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffJson(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (canonicalJson(before) === canonicalJson(after)) return [];
  return [{ path: path || '(root)', before, after }];
}

/** Short readable rendering of a JSON value for messages. */
export function show(value: Json | undefined, max = 80): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
