/**
 * Per-class subsets and the validation split, drawn from a seeded Rng so the
 * same params always select the same images. The validation split is held out
 * of the TEST set (stratified by class), as Fine-Pruning needs: it tunes on the
 * clean validation part and is evaluated on the remaining test images.
 */
import type { Rng } from '../common/rng.js';
import type { LabelledImages } from '../common/types.js';
import { makeSplit } from './format.js';
import { gatherPixels } from '../common/pixels.js';

/** The images at `indices` (in that order), copied. */
export function takeIndices(split: LabelledImages, indices: readonly number[]): LabelledImages {
  for (const src of indices) {
    if (!Number.isInteger(src) || src < 0 || src >= split.count) throw new RangeError(`takeIndices: index ${src} outside 0..${split.count - 1}`);
  }
  const labels = Uint8Array.from(indices, (src) => split.labels[src]);
  return makeSplit(gatherPixels(split.images, split, indices), labels, split.height, split.width, split.channels);
}

function indicesByClass(labels: Uint8Array, numClasses: number): number[][] {
  const byClass = Array.from({ length: numClasses }, () => [] as number[]);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label >= numClasses) throw new RangeError(`label ${label} at index ${i} is out of range for ${numClasses} classes`);
    byClass[label].push(i);
  }
  return byClass;
}

/**
 * Indices of `perClass` images of every class, drawn without replacement, in
 * increasing order; null when `perClass` is null (keep all). Needs only the labels,
 * so an importer can decide what to decode before decoding anything.
 */
export function pickPerClass(labels: Uint8Array, numClasses: number, perClass: number | null, rng: Rng, what = 'split'): number[] | null {
  if (perClass === null) return null;
  if (!Number.isInteger(perClass) || perClass < 1) throw new RangeError(`${what}: per-class count ${perClass} must be a positive integer or null (all)`);
  const byClass = indicesByClass(labels, numClasses);
  const chosen: number[] = [];
  byClass.forEach((members, c) => {
    if (members.length < perClass) throw new RangeError(`${what}: class ${c} has ${members.length} images, fewer than the ${perClass} requested`);
    for (const k of rng.sample(members.length, perClass)) chosen.push(members[k]);
  });
  return chosen.sort((a, b) => a - b);
}

/** `pickPerClass` applied to a split in memory; null keeps the whole split. Asking for more than a class has is an error. */
export function selectPerClass(split: LabelledImages, numClasses: number, perClass: number | null, rng: Rng, what = 'split'): { split: LabelledImages; indices: number[] } {
  const chosen = pickPerClass(split.labels, numClasses, perClass, rng, what);
  if (chosen === null) return { split, indices: Array.from({ length: split.count }, (_, i) => i) };
  return { split: takeIndices(split, chosen), indices: chosen };
}

/**
 * Moves round(valFraction x class size) images of each class from `test` to a
 * validation split. Returns the split of the rest as `test`. valFraction 0 returns no validation split.
 */
export function holdOutValidation(test: LabelledImages, numClasses: number, valFraction: number, rng: Rng): { test: LabelledImages; val: LabelledImages | null } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new RangeError(`valFraction ${valFraction} must be in [0, 1)`);
  if (valFraction === 0) return { test, val: null };
  const byClass = indicesByClass(test.labels, numClasses);
  const val: number[] = [];
  const rest: number[] = [];
  byClass.forEach((members, c) => {
    const k = Math.round(members.length * valFraction);
    if (members.length > 0 && (k === 0 || k === members.length)) {
      throw new RangeError(`valFraction ${valFraction} of class ${c}'s ${members.length} test images leaves ${k === 0 ? 'no validation' : 'no test'} image; use more test images or another fraction`);
    }
    const picked = new Set(rng.sample(members.length, k));
    members.forEach((idx, j) => (picked.has(j) ? val : rest).push(idx));
  });
  val.sort((a, b) => a - b);
  rest.sort((a, b) => a - b);
  return { test: takeIndices(test, rest), val: takeIndices(test, val) };
}
