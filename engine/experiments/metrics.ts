/**
 * Metrics as data, by a convention the engine reads without knowing what is measured: an
 * artifact's `metrics.json` (an object) gives one metric per number, string or boolean leaf,
 * named `<instance id>: <path>` with nested keys joined by '/' (`evaluate/.../shrinkpad-4: asr`,
 * `report: claims/3`, `report: asr/mean`). Arrays are skipped: they hold lists (flagged classes,
 * curves), whose elements are not named quantities; a stage that wants one compared names it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPlainObject } from '../json.js';
import type { ArtifactStore } from '../store.js';
import type { Json } from '../stage.js';

export type MetricValue = number | string | boolean;
export const METRICS_FILE = 'metrics.json';
export const metricName = (id: string, path: string): string => `${id}: ${path}`;

/** The leaves of a metrics object, keyed by their '/'-joined path; arrays and nulls left out. */
export function flattenMetrics(value: Json, prefix = ''): Record<string, MetricValue> {
  const out: Record<string, MetricValue> = {};
  if (!isPlainObject(value)) return out;
  for (const [key, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}/${key}` : key;
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[path] = v;
    else if (isPlainObject(v)) Object.assign(out, flattenMetrics(v, path));
  }
  return out;
}

/** The named metrics of one artifact, or none when it has no metrics.json. */
export function readArtifactMetrics(store: ArtifactStore, id: string, kind: string, key: string): Record<string, MetricValue> {
  const file = join(store.artifactDir(kind, key), METRICS_FILE);
  if (!existsSync(file)) return {};
  let parsed: Json;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  const out: Record<string, MetricValue> = {};
  for (const [path, v] of Object.entries(flattenMetrics(parsed))) out[metricName(id, path)] = v;
  return out;
}

/**
 * Metric names matching any of the globs (all when none is given). A metric name is not a path,
 * so `*` matches any run of characters, '/' included (`*badnets*: asr`); `?` one character;
 * `{a,b}` either.
 */
export function metricMatcher(globs: string[]): (name: string) => boolean {
  if (globs.length === 0) return () => true;
  const res = globs.map(globToRegExp);
  return (name) => res.some((r) => r.test(name));
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  let depth = 0;
  for (const c of glob) {
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '{') {
      re += '(?:';
      depth += 1;
    } else if (c === '}' && depth > 0) {
      re += ')';
      depth -= 1;
    } else if (c === ',' && depth > 0) re += '|';
    else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}${')'.repeat(depth)}$`);
}
