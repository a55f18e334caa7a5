/**
 * `--sweep dotted.key=v1,v2,...` flags -> param axes -> one named variant per point of their
 * cartesian product, through the pipeline's one expansion mechanism (param-space.ts).
 */
import { closest } from 'fastest-levenshtein';
import { UserError } from '../errors.js';
import { isPlainObject } from '../json.js';
import { assignmentLabel, expandAxes, getPath, valueLabel, type Assignment, type Axis } from '../param-space.js';
import type { Json, JsonObject } from '../stage.js';

/** Splits on commas outside brackets, braces and quotes, so JSON values may be swept (`k=[1,2],[3]`). */
function splitValues(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i += 1;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '[' || c === '{') depth += 1;
    else if (c === ']' || c === '}') depth -= 1;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Each value is parsed as JSON, else taken as a string, as `--set` does. */
export function parseSweep(text: string): Axis {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`--sweep ${JSON.stringify(text)}: expected dotted.key=v1,v2,..., e.g. --sweep attacks.definitions.badnets.ratio=0.05,0.1`);
  const path = text.slice(0, eq);
  if (path.split('.').some((p) => p === '')) throw new UserError(`--sweep ${JSON.stringify(text)}: empty segment in key ${JSON.stringify(path)}`);
  const raw = splitValues(text.slice(eq + 1));
  if (raw.some((v) => v.trim() === '')) throw new UserError(`--sweep ${JSON.stringify(text)}: an empty value; give comma-separated values, e.g. ${path}=1,2`);
  const values = raw.map((v): Json => {
    try {
      return JSON.parse(v) as Json;
    } catch {
      return v;
    }
  });
  const labels = values.map(valueLabel);
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup !== undefined) throw new UserError(`--sweep ${path}: the value ${dup} is given twice`);
  return { path, values };
}

/** Every dotted path to a leaf or object of the params, for suggestions. */
function paramPaths(params: JsonObject, prefix = ''): string[] {
  return Object.entries(params).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return isPlainObject(v) ? [p, ...paramPaths(v, p)] : [p];
  });
}

/** A sweep may only vary a setting that exists: a typo would otherwise run N copies of the same DAG. */
export function checkAxesExist(axes: Axis[], params: JsonObject): void {
  for (const axis of axes) {
    if (getPath(params, axis.path) !== undefined) continue;
    throw new UserError(`--sweep ${axis.path}: no such param in the effective params (closest: ${closest(axis.path, paramPaths(params))}); a sweep varies an existing setting`);
  }
}

export interface Variant {
  name: string;
  assignment: Assignment;
}

/**
 * The experiments a run records: NAME alone without axes; else one per point, named
 * `NAME-<value>` for one axis (`ratio-0.05`) and `NAME-<assignment label>` for several
 * (`abl-ratio-0.05_epochs-4`).
 */
export function sweepVariants(name: string, axes: Axis[]): Variant[] {
  if (axes.length === 0) return [{ name, assignment: [] }];
  return expandAxes(axes).map((assignment) => ({
    name: `${name}-${axes.length === 1 ? assignmentLabel(assignment, () => '').replace(/^-/, '') : assignmentLabel(assignment)}`,
    assignment,
  }));
}
