/**
 * Params bounds that depend on the data set, which the JSON schema cannot express: class
 * indices against the data set's class count, and pixel positions and sizes against the image
 * side. Run by the engine after the schema check, before anything runs (PipelineDefinition
 * `paramsCheckModule`). Not imported by any stage, so not in any cache key.
 */
import type { JsonObject } from '../engine/stage.js';
import { CIFAR10_CLASSES } from '../domain/data/cifarBinary.js';
import { SYNTHETIC_CLASS_NAMES } from '../domain/data/synthetic.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** The data set's class count and where it comes from; undefined when only the data itself can tell (image folders, classes from folder names). */
export function classCount(data: Obj): { count: number; why: string } | undefined {
  if (Array.isArray(data.classes)) return { count: data.classes.length, why: `data.classes names ${data.classes.length} classes` };
  if (data.source === 'synthetic') return { count: SYNTHETIC_CLASS_NAMES.length, why: `the synthetic data set has ${SYNTHETIC_CLASS_NAMES.length} classes` };
  if (data.source === 'cifar10') return { count: CIFAR10_CLASSES, why: `CIFAR-10 has ${CIFAR10_CLASSES} classes` };
  return undefined;
}

/** One message per problem, naming the value and the bound; empty when the params are fine. */
export function checkParams(params: JsonObject): string[] {
  const problems: string[] = [];
  const data = obj(params.data);
  const side = num(data.imageSize) ?? 32;
  const sideWhy = `data.imageSize is ${side}`;

  const classes = classCount(data);
  const target = num(obj(params.attacks).target);
  if (classes && target !== undefined && target >= classes.count) {
    problems.push(`attacks.target: ${target} is out of range; allowed: 0 to ${classes.count - 1} (${classes.why})`);
  }

  for (const [name, raw] of Object.entries(obj(obj(params.attacks).definitions))) {
    const def = obj(raw);
    const where = `attacks.definitions.${name}`;
    const layout = arr(def.layout);
    const rows = layout.length;
    const cols = Math.max(0, ...layout.map((r) => arr(r).length));
    if (rows > side || cols > side) problems.push(`${where}.layout: ${rows}x${cols} cells do not fit in the image; allowed: at most ${side}x${side} (${sideWhy})`);
    const br = arr(def.bottomRight).map(num);
    if (br.length === 2 && br[0] !== undefined && br[1] !== undefined) {
      const [row, col] = br;
      if (row >= side || col >= side) problems.push(`${where}.bottomRight: [${row}, ${col}] is outside the image; allowed: 0 to ${side - 1} (${sideWhy})`);
      else if (row < rows - 1 || col < cols - 1) {
        problems.push(`${where}.bottomRight: [${row}, ${col}] leaves the ${rows}x${cols} trigger partly outside the image; allowed: row >= ${rows - 1}, col >= ${cols - 1}`);
      }
    }
    const radius = num(def.radius);
    if (def.type === 'uap' && def.norm === 'linf' && radius !== undefined && radius > 255) {
      problems.push(`${where}.radius: ${radius} is out of range for an L-inf ball on the 0-255 scale; allowed: <= 255`);
    }
  }

  const shrinkBound = (where: string, size: number | undefined): void => {
    if (size !== undefined && size >= side) problems.push(`${where}: ${size} shrinks the image to nothing; allowed: 1 to ${side - 1} (${sideWhy})`);
  };
  arr(obj(params.defenses).transformSets).forEach((set, i) => {
    arr(obj(set).defenses).forEach((d, j) => {
      if (obj(d).type === 'shrinkpad') shrinkBound(`defenses.transformSets[${i}].defenses[${j}].size`, num(obj(d).size));
    });
  });
  const analyses = obj(params.analyses);
  shrinkBound('analyses.saliency.shrinkSize', num(obj(analyses.saliency).shrinkSize));
  shrinkBound('analyses.cdrp.shrinkSize', num(obj(analyses.cdrp).shrinkSize));
  shrinkBound('analyses.ablation.sMaxDefense', num(obj(analyses.ablation).sMaxDefense));
  for (const axis of ['dx', 'dy'] as const) {
    for (const d of arr(obj(analyses.sensitivity)[axis]).map(num)) {
      if (d !== undefined && Math.abs(d) >= side) problems.push(`analyses.sensitivity.${axis}: ${d} moves the trigger off the image; allowed: -${side - 1} to ${side - 1} (${sideWhy})`);
    }
  }
  return problems;
}
