/**
 * Summary of one quantity over replicate seeds: the mean a table or figure shows, its min–max
 * range and sample standard deviation, and n. A reproduction reports each number with its spread,
 * so a single-seed flip can be told apart from an effect.
 */
export interface SeedStats {
  mean: number;
  min: number;
  max: number;
  /** Sample standard deviation (n − 1 in the denominator); 0 for one seed. */
  std: number;
  n: number;
}

/** Stats of the values present; undefined when none is (a cell no seed ran). */
export function seedStats(values: readonly (number | undefined)[]): SeedStats | undefined {
  const xs = values.filter((v): v is number => v !== undefined);
  if (xs.length === 0) return undefined;
  for (const x of xs) if (!Number.isFinite(x)) throw new RangeError(`seedStats: non-finite value ${x}`);
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const variance = n > 1 ? xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, min: Math.min(...xs), max: Math.max(...xs), std: Math.sqrt(variance), n };
}

/** "63.4 [61.2–65.0]" for several seeds; just the value for one. */
export function formatStats(s: SeedStats, digits = 1): string {
  const f = (v: number) => v.toFixed(digits);
  return s.n > 1 ? `${f(s.mean)} [${f(s.min)}–${f(s.max)}]` : f(s.mean);
}

/** Every fact's stats over the seeds that published it, e.g. for `metrics.json` aggregates. */
export function statsOverSeeds(bySeed: ReadonlyMap<number, Readonly<Record<string, number>>>): Record<string, SeedStats> {
  const keys = [...new Set([...bySeed.values()].flatMap((f) => Object.keys(f)))].sort();
  return Object.fromEntries(keys.map((k) => [k, seedStats([...bySeed.values()].map((f) => f[k]))!]));
}
