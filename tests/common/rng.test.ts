import { describe, expect, it } from 'vitest';
import { Rng } from '../../domain/common/rng.js';

describe('Rng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Rng(7), b = new Rng(7), c = new Rng(8);
    const da = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(da);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(da);
  });

  it('resumes exactly from a saved state', () => {
    const a = new Rng('resume');
    for (let i = 0; i < 100; i++) a.normal();
    const saved = a.state();
    const next = Array.from({ length: 10 }, () => a.uniform());
    const b = new Rng(saved);
    expect(Array.from({ length: 10 }, () => b.uniform())).toEqual(next);
  });

  it('forks independent streams without advancing the parent', () => {
    const a = new Rng(1);
    const before = a.state();
    const f1 = a.fork('poison'), f2 = a.fork('augment');
    expect(a.state()).toEqual(before);
    expect(f1.nextUint32()).not.toBe(f2.nextUint32());
    expect(new Rng(1).fork('poison').nextUint32()).toBe(new Rng(1).fork('poison').nextUint32());
  });

  it('draws integers over the whole inclusive range and uniforms in [0, 1)', () => {
    const r = new Rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(0, 4);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(4);
      seen.add(v);
      const u = r.uniform();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(() => r.int(3, 2)).toThrow(/bad range/);
  });

  it('gives normals with mean ~0 and std ~1', () => {
    const r = new Rng(11);
    const xs = Array.from({ length: 20000 }, () => r.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(std - 1)).toBeLessThan(0.03);
  });

  it('samples k distinct sorted indices', () => {
    const s = new Rng(5).sample(100, 25);
    expect(s).toHaveLength(25);
    expect(new Set(s).size).toBe(25);
    expect([...s].sort((x, y) => x - y)).toEqual(s);
    expect(() => new Rng(5).sample(3, 4)).toThrow(/cannot draw 4 of 3/);
  });
});
