import { describe, expect, it } from 'vitest';
import { seedStats, statsOverSeeds, formatStats } from '../../domain/report/seed-stats.js';
import { withSeedSpread, meanOfMetrics } from '../../domain/report/seed-tables.js';
import { toCsv, toMarkdown, toSeedCsv, text, value, type ResultTable } from '../../domain/report/tables.js';
import { claimsOverSeeds, factsBySeed, summarise, type SeedVerdict } from '../../domain/report/claims-over-seeds.js';
import type { ClaimResult, ClaimStatus } from '../../domain/report/claims.js';

// The CSVs here have no quoted fields, so a plain split reads them.
const parse = (csv: string): string[][] => csv.trim().split('\n').map((line) => line.split(','));

describe('stats over seeds', () => {
  it('mean, min, max, sample std and n, by hand', () => {
    // 60, 70, 80: mean 70; deviations -10, 0, 10; sample variance (100 + 0 + 100) / 2 = 100.
    expect(seedStats([60, 70, 80])).toEqual({ mean: 70, min: 60, max: 80, std: 10, n: 3 });
    expect(seedStats([undefined, 5, undefined])).toEqual({ mean: 5, min: 5, max: 5, std: 0, n: 1 });
    expect(seedStats([undefined])).toBeUndefined();
    expect(() => seedStats([1, Number.NaN])).toThrow(/non-finite/);
    expect(formatStats({ mean: 70, min: 60, max: 80, std: 10, n: 3 })).toBe('70.0 [60.0–80.0]');
    expect(formatStats({ mean: 5, min: 5, max: 5, std: 0, n: 1 })).toBe('5.0');
  });

  it('splits facts by their seed prefix and aggregates each key over the seeds that have it', () => {
    const bySeed = factsBySeed({ 'seed0/eval/a/asr': 90, 'seed1/eval/a/asr': 96, 'seed1/cost/x': 2 });
    expect([...bySeed.keys()]).toEqual([0, 1]);
    expect(bySeed.get(1)).toEqual({ 'eval/a/asr': 96, 'cost/x': 2 });
    expect(statsOverSeeds(bySeed)).toEqual({ 'cost/x': { mean: 2, min: 2, max: 2, std: 0, n: 1 }, 'eval/a/asr': { mean: 93, min: 90, max: 96, std: Math.sqrt(18), n: 2 } });
    expect(() => factsBySeed({ 'eval/a/asr': 1 })).toThrow(/fact 'eval\/a\/asr' has no seed prefix/);
  });
});

const tableOf = (asr: (number | undefined)[], clean: number[]): ResultTable => ({
  id: 't',
  title: 'T',
  caption: 'c',
  columns: [{ key: 'attack', title: 'Attack' }, { key: 'asr', title: 'ASR (%)' }, { key: 'clean', title: 'Clean (%)' }],
  rows: asr.map((a, i) => ({ attack: text(`A${i}`), asr: value(a, 100), clean: value(clean[i], undefined) })),
});

describe('a table over two seeds', () => {
  // Seed 0 and seed 1 tables as the builders would give them; row 1's ASR ran on seed 0 only.
  const s0 = tableOf([97, 40], [60, 62]);
  const s1 = tableOf([91, undefined], [64, 58]);
  const mean = tableOf([94, 40], [62, 60]);
  const t = withSeedSpread(mean, [{ seed: 0, table: s0 }, { seed: 1, table: s1 }]);

  it('has the mean with its min-max and n in each value cell, computed by hand', () => {
    const cell = t.rows[0].asr;
    expect(cell.kind === 'value' && cell.ours).toBe(94);
    expect(cell.kind === 'value' && cell.spread).toEqual({ mean: 94, min: 91, max: 97, std: Math.sqrt(18), n: 2 });
    const md = toMarkdown(t);
    expect(md).toContain('| A0 | 94.0 [91.0–97.0] (paper 100) | 62.0 [60.0–64.0] |');
    // A cell fewer seeds ran says how many.
    expect(md).toContain('| A1 | 40.0 (n=1) (paper 100) | 60.0 [58.0–62.0] |');
  });

  it('writes the spread in CSV columns of its own, and every seed in the long CSV', () => {
    const rows = parse(toCsv(t)) as string[][];
    expect(rows[0]).toEqual(['Attack', 'ASR (%) (ours)', 'ASR (%) (ours min)', 'ASR (%) (ours max)', 'ASR (%) (ours std)', 'ASR (%) (n)', 'ASR (%) (paper)', 'Clean (%) (ours)', 'Clean (%) (ours min)', 'Clean (%) (ours max)', 'Clean (%) (ours std)', 'Clean (%) (n)', 'Clean (%) (paper)']);
    expect(rows[1]).toEqual(['A0', '94.0', '91.0', '97.0', '4.24', '2', '100', '62.0', '60.0', '64.0', '2.83', '2', 'not in paper']);
    const long = parse(toSeedCsv([{ seed: 0, table: s0 }, { seed: 1, table: s1 }])) as string[][];
    expect(long[0]).toEqual(['Attack', 'column', 'seed', 'ours']);
    expect(long).toContainEqual(['A0', 'ASR (%)', '1', '91.00']);
    expect(long).toContainEqual(['A1', 'Clean (%)', '0', '62.00']);
    expect(long.filter((r) => r[0] === 'A1' && r[1] === 'ASR (%)')).toEqual([['A1', 'ASR (%)', '0', '40.00']]);
  });

  it('refuses per-seed tables of another layout', () => {
    expect(() => withSeedSpread(mean, [{ seed: 0, table: tableOf([1], [2]) }])).toThrow(/another layout/);
  });

  it('averages metrics over the seeds that ran them', () => {
    expect(meanOfMetrics([{ clean: 60, asr: 90, targetRateClean: 2 }, undefined, { clean: 70, asr: 100, targetRateClean: 4, defenseSeconds: 3 }])).toEqual({ clean: 65, asr: 95, targetRateClean: 3, defenseSeconds: 3 });
    expect(meanOfMetrics([undefined, undefined])).toBeUndefined();
  });
});

describe('claims over seeds', () => {
  const v = (seed: number, status: ClaimStatus): SeedVerdict => ({ seed, status, ours: `s${seed}`, departures: [] });

  it('counts the seeds where a claim holds', () => {
    expect(summarise([v(0, 'holds'), v(1, 'holds'), v(2, 'holds')]).verdict).toBe('holds (3/3 seeds)');
    expect(summarise([v(0, 'holds'), v(1, 'does not hold'), v(2, 'holds')])).toEqual({ status: 'mixed', verdict: 'mixed (2/3 seeds)', holding: 2, judged: 3 });
    expect(summarise([v(0, 'does not hold'), v(1, 'does not hold'), v(2, 'does not hold')]).verdict).toBe('does not hold (0/3 seeds)');
    expect(summarise([v(0, 'holds'), v(1, 'inconclusive'), v(2, 'holds')]).verdict).toBe('holds (2/3 seeds; seed 1 inconclusive)');
    expect(summarise([v(0, 'inconclusive'), v(1, 'inconclusive')]).status).toBe('inconclusive');
    expect(summarise([v(0, 'holds where run'), v(1, 'holds')]).verdict).toBe('holds where run (2/2 seeds)');
    // A defense run on seed 0 only: judged on the seeds that ran it, and the others named.
    expect(summarise([v(0, 'holds'), v(1, 'not run in this profile'), v(2, 'not run in this profile')]).verdict).toBe('holds (1/1 seed; not run on seeds 1, 2)');
    expect(summarise([v(0, 'not run in this profile')]).verdict).toBe('not run in this profile');
  });

  it('judges each seed with the single-seed criteria and names departures in the verdict', () => {
    const judge = (f: Record<string, number>): ClaimResult[] => [
      { id: '1', claim: 'c', source: 's', paper: 'p', criterion: 'asr >= 80', ours: `ASR ${f.asr}`, status: f.asr >= 80 ? 'holds' : 'does not hold', departures: f.asr < 80 ? ['standard surrogate'] : [] },
    ];
    const [c] = claimsOverSeeds(new Map([[0, { asr: 90 }], [1, { asr: 70 }], [2, { asr: 85 }]]), judge);
    expect(c.verdict).toBe('mixed (2/3 seeds; standard surrogate)');
    expect(c.perSeed.map((s) => [s.seed, s.status, s.ours])).toEqual([[0, 'holds', 'ASR 90'], [1, 'does not hold', 'ASR 70'], [2, 'holds', 'ASR 85']]);
  });
});
