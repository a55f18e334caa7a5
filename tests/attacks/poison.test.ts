import { describe, it, expect } from 'vitest';
import { choosePoisoned } from '../../domain/attacks/poison.js';

// 1000 labels, 100 per class, in a scrambled but fixed order.
const labels = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 10);

describe('choosePoisoned', () => {
  it('non-target: ratio of the whole set, drawn among non-target images, relabelled', () => {
    const s = choosePoisoned(labels, { mode: 'non-target', ratio: 0.25, target: 4, seed: 0 });
    expect(s.indices.length).toBe(250);
    for (const i of s.indices) {
      expect(labels[i]).not.toBe(4);
      expect(s.labels[i]).toBe(4);
      expect(s.isPoisoned[i]).toBe(1);
    }
    const changed = labels.reduce((n, l, i) => n + (l !== s.labels[i] ? 1 : 0), 0);
    expect(changed).toBe(250);
    expect(s.isPoisoned.reduce((a, b) => a + b, 0)).toBe(250);
    expect(Array.from(s.indices)).toEqual([...s.indices].sort((a, b) => a - b));
  });

  it('target-class: 25% of the target class, labels kept', () => {
    const s = choosePoisoned(labels, { mode: 'target-class', ratio: 0.25, target: 4, seed: 3 });
    expect(s.indices.length).toBe(25);
    for (const i of s.indices) expect(labels[i]).toBe(4);
    expect(Array.from(s.labels)).toEqual(Array.from(labels));
  });

  it('is deterministic in the seed and changes with it', () => {
    const o = { mode: 'non-target' as const, ratio: 0.1, target: 4 };
    const a = choosePoisoned(labels, { ...o, seed: 1 }).indices;
    expect(Array.from(choosePoisoned(labels, { ...o, seed: 1 }).indices)).toEqual(Array.from(a));
    expect(Array.from(choosePoisoned(labels, { ...o, seed: 2 }).indices)).not.toEqual(Array.from(a));
  });

  it('names bad inputs', () => {
    expect(() => choosePoisoned(labels, { mode: 'non-target', ratio: 1.5, target: 4, seed: 0 })).toThrow(/\[0, 1\], got 1.5/);
    expect(() => choosePoisoned(labels, { mode: 'non-target', ratio: 0.95, target: 4, seed: 0 })).toThrow(/cannot poison 950.*only 900/);
    expect(() => choosePoisoned(labels, { mode: 'target-class', ratio: 0.2, target: 11, seed: 0 })).toThrow(/target label 11 does not occur/);
  });
});
