/**
 * A param space: named axes over dotted params paths, expanded into one assignment per point of
 * their cartesian product. It is the one expansion mechanism of the pipeline: experiment sweeps
 * (`exp run --sweep k=v1,v2`) expand it into variants of the whole params, and replicate seeds
 * (`training.seeds`) expand it into per-seed instances inside one DAG. Both name a point the same
 * way, so a seed's instances and a sweep's variants read alike in ids, files and tables.
 */
import type { Json, JsonObject } from './stage.js';
import { isPlainObject } from './json.js';
import { UserError } from './errors.js';

/** One axis: the params path it sets, and the values it takes, in order. */
export interface Axis {
  path: string;
  values: Json[];
}

/** One point of a param space: a value for each axis, in axis order. */
export type Assignment = { path: string; value: Json }[];

/**
 * The cartesian product of the axes, the first axis varying slowest (so a sweep over a, then b
 * lists a=1,b=1; a=1,b=2; a=2,b=1 ...). No axes give one empty assignment: the space of one point.
 */
export function expandAxes(axes: readonly Axis[]): Assignment[] {
  const seen = new Set<string>();
  for (const axis of axes) {
    if (axis.values.length === 0) throw new UserError(`param axis ${axis.path}: no values to expand`);
    if (seen.has(axis.path)) throw new UserError(`param axis ${axis.path} is given twice; give its values once, comma-separated`);
    seen.add(axis.path);
  }
  let points: Assignment[] = [[]];
  for (const axis of axes) points = points.flatMap((p) => axis.values.map((value) => [...p, { path: axis.path, value }]));
  return points;
}

/** `1`, `0.05`, `true`, `vgg`; arrays and objects as compact JSON. */
export function valueLabel(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * A point's short name: each axis's last path segment (or a given alias) and its value, joined by
 * '-' and '_' (`ratio-0.05`, `ratio-0.05_epochs-4`, `seed-2`). Characters that a file name or an
 * instance id cannot carry become '_'.
 */
export function assignmentLabel(a: Assignment, alias: (path: string) => string = (p) => p.split('.').at(-1) ?? p): string {
  return a.map(({ path, value }) => `${alias(path)}-${valueLabel(value)}`.replace(/[^A-Za-z0-9._+-]/g, '_')).join('_');
}

/** The value at a dotted path, or undefined where a segment is missing. */
export function getPath(params: JsonObject, path: string): Json | undefined {
  let node: Json | undefined = params;
  for (const key of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = (node as JsonObject)[key];
  }
  return node;
}

/** A copy of params with each axis path set to the point's value (parents created as objects). */
export function applyAssignment(params: JsonObject, a: Assignment): JsonObject {
  const out = structuredClone(params);
  for (const { path, value } of a) {
    const keys = path.split('.');
    let node: JsonObject = out;
    keys.slice(0, -1).forEach((key, i) => {
      const next = node[key];
      if (next === undefined) node[key] = {};
      else if (!isPlainObject(next)) throw new UserError(`${keys.slice(0, i + 1).join('.')} is not an object, so ${path} cannot be set`);
      node = node[key] as JsonObject;
    });
    node[keys[keys.length - 1]] = structuredClone(value);
  }
  return out;
}
