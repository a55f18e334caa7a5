import { describe, expect, it } from 'vitest';
import { Rng } from '../../domain/common/rng.js';
import { countPerClass, makeSplit } from '../../domain/data/format.js';
import { holdOutValidation, selectPerClass, takeIndices } from '../../domain/data/subset.js';
import type { LabelledImages } from '../../domain/common/types.js';

/** 1x1 images whose single red value is the image's index, so selections can be traced back. */
function indexed(count: number, classes: number): LabelledImages {
  const images = new Uint8Array(count * 3);
  for (let i = 0; i < count; i++) images[i * 3] = i;
  return makeSplit(images, Uint8Array.from({ length: count }, (_, i) => i % classes), 1, 1, 3);
}
const origin = (s: LabelledImages): number[] => Array.from({ length: s.count }, (_, i) => s.images[i * 3]);

describe('selectPerClass', () => {
  it('takes exactly perClass images of each class, deterministically, in original order', () => {
    const split = indexed(100, 4);
    const a = selectPerClass(split, 4, 7, new Rng('s'));
    expect(countPerClass(a.split.labels, 4)).toEqual([7, 7, 7, 7]);
    expect(origin(a.split)).toEqual(a.indices);
    expect([...a.indices].sort((x, y) => x - y)).toEqual(a.indices);
    a.indices.forEach((src, i) => expect(a.split.labels[i]).toBe(split.labels[src]));
    expect(selectPerClass(split, 4, 7, new Rng('s')).indices).toEqual(a.indices);
    expect(selectPerClass(split, 4, 7, new Rng('t')).indices).not.toEqual(a.indices);
    expect(selectPerClass(split, 4, null, new Rng('s')).split).toBe(split);
  });

  it('names an impossible request', () => {
    expect(() => selectPerClass(indexed(20, 4), 4, 6, new Rng(0), 'data.perClassTrain')).toThrow(/data\.perClassTrain: class 0 has 5 images, fewer than the 6 requested/);
    expect(() => selectPerClass(indexed(20, 4), 4, 0, new Rng(0), 'data.perClassTest')).toThrow(/per-class count 0 must be a positive integer/);
  });
});

describe('holdOutValidation', () => {
  it('moves a stratified fraction of the test set into a disjoint validation split', () => {
    const test = indexed(40, 4);
    const { test: rest, val } = holdOutValidation(test, 4, 0.5, new Rng('v'));
    expect(countPerClass(val!.labels, 4)).toEqual([5, 5, 5, 5]);
    expect(countPerClass(rest.labels, 4)).toEqual([5, 5, 5, 5]);
    const used = [...origin(rest), ...origin(val!)].sort((a, b) => a - b);
    expect(used).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(origin(holdOutValidation(test, 4, 0.5, new Rng('v')).val!)).toEqual(origin(val!));
    expect(holdOutValidation(test, 4, 0, new Rng('v'))).toEqual({ test, val: null });
    expect(countPerClass(holdOutValidation(test, 4, 0.2, new Rng('v')).val!.labels, 4)).toEqual([2, 2, 2, 2]);
  });

  it('refuses fractions that leave a split empty', () => {
    expect(() => holdOutValidation(indexed(8, 4), 4, 0.2, new Rng(0))).toThrow(/valFraction 0\.2 of class 0's 2 test images leaves no validation image/);
    expect(() => holdOutValidation(indexed(8, 4), 4, 1, new Rng(0))).toThrow(/valFraction 1 must be in \[0, 1\)/);
  });

  it('takeIndices names an index out of range', () => {
    expect(() => takeIndices(indexed(3, 1), [0, 3])).toThrow(/index 3 outside 0\.\.2/);
  });
});
