import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateClaims, CLAIM_COUNT, type ClaimThresholds } from '../../domain/report/claims.js';
import { factKey, mergeFacts } from '../../domain/report/facts.js';
import { toCsv, toMarkdown, text, value, type ResultTable } from '../../domain/report/tables.js';
import { buildReport, lintReport, publishReport, type ReportEntry } from '../../domain/report/report.js';
import { claimsOverSeeds } from '../../domain/report/claims-over-seeds.js';

const oneSeed = (t: ClaimThresholds) => claimsOverSeeds(new Map([[0, {}]]), (f) => evaluateClaims(f, t));
import { defenseSecondsFromMeta, upstreamWallSeconds } from '../../domain/report/costs.js';
import { withWallSeconds } from '../../domain/report/entry.js';
import { TABLE1, TABLE2, TABLE3, TABLE4, TABLE6 } from '../../domain/report/paper-numbers.js';

const T: ClaimThresholds = {
  highAsr: 80, lowAsr: 20, maxCleanDrop: 5, maxShiftPixels: 3, sharpDrop: 50, fewPoints: 5, asrGap: 30, costFraction: 0.1, cdrpMargin: 0.05,
  saliencyMargin: 0.1, saliencyStandardErrors: 2, saliencyMinImages: 30,
};

describe('paper numbers', () => {
  it('hold the values printed in the paper, spot-checked', () => {
    expect(TABLE1.flip.vgg19.badnets).toEqual({ clean: 91.0, asr: 1.1 });
    expect(TABLE1['fine-pruning'].resnet34.consistent.asr).toBe(18.9);
    expect(TABLE2.vgg19.consistent.enhanced['shrinkpad-4']).toBe(90.9);
    expect(TABLE3.blended[15]).toEqual({ clean: 64.5, asr: 99.9 });
    expect(TABLE4.brightness.consistent['0.4']).toEqual({ clean: 91.9, asr: 92.6 });
    expect(TABLE6['neural-cleanse'].resnet34).toEqual({ clean: 73.3, asr: 100 });
  });
});

describe('claims', () => {
  it('reports every claim as not run when no facts exist', () => {
    const r = evaluateClaims({}, T);
    expect(r).toHaveLength(CLAIM_COUNT);
    expect(r.every((c) => c.status === 'not run in this profile')).toBe(true);
  });

  it('judges claim 3 from Flip/ShrinkPad facts in both directions', () => {
    const f = {
      [factKey.evalMetric('r', 'badnets', 'standard', 'none', 'asr')]: 100,
      [factKey.evalMetric('r', 'consistent', 'standard', 'none', 'asr')]: 98,
      [factKey.evalMetric('r', 'badnets', 'standard', 'flip', 'asr')]: 1,
      [factKey.evalMetric('r', 'consistent', 'standard', 'flip', 'asr')]: 97,
      [factKey.evalMetric('r', 'badnets', 'standard', 'shrinkpad-4', 'asr')]: 3,
    };
    expect(evaluateClaims(f, T)[2].status).toBe('holds');
    const g = { ...f, [factKey.evalMetric('r', 'badnets', 'standard', 'shrinkpad-4', 'asr')]: 55 };
    const c3 = evaluateClaims(g, T)[2];
    expect(c3.status).toBe('does not hold');
    expect(c3.ours).toContain('55.0%');
    // A defense cannot be judged against an attack that never worked.
    const k = { [factKey.evalMetric('r', 'badnets', 'standard', 'none', 'asr')]: 30, [factKey.evalMetric('r', 'badnets', 'standard', 'flip', 'asr')]: 1 };
    expect(evaluateClaims(k, T)[2].status).toBe('inconclusive');
  });

  it('judges claim 2 from the sensitivity facts and its thresholds', () => {
    // Every branch of claim 2 is in claims-criteria.test.ts; here, that the thresholds are read.
    const f = { [factKey.sensitivityPlain('r')]: 99, [factKey.sensitivityRingMean('r', 3)]: 12, [factKey.sensitivityTrainingValue('r')]: 128, [factKey.sensitivityValue('r', 64)]: 8, [factKey.sensitivityValue('r', 255)]: 98 };
    expect(evaluateClaims(f, T)[1].status).toBe('holds');
    expect(evaluateClaims(f, { ...T, sharpDrop: 90 })[1].status).toBe('does not hold');
    expect(evaluateClaims({ ...f, [factKey.sensitivityPlain('r')]: 40 }, T)[1].status).toBe('inconclusive');
  });

  it('judges claim 5 from Table 2 and the figure-12 sweep around s_max', () => {
    const f: Record<string, number> = {
      [factKey.evalMetric('r', 'badnets', 'enhanced', 'none', 'asr')]: 99,
      [factKey.evalMetric('r', 'badnets', 'enhanced', 'flip', 'asr')]: 97,
      [factKey.evalMetric('r', 'badnets', 'enhanced', 'shrinkpad-4', 'asr')]: 95,
      'ablation/sMax': 4,
      [factKey.ablationShrink('r', 'badnets', 'enhanced', 2)]: 96,
      [factKey.ablationShrink('r', 'badnets', 'enhanced', 4)]: 95,
      [factKey.ablationShrink('r', 'badnets', 'enhanced', 6)]: 20,
      [factKey.ablationShrink('r', 'badnets', 'enhanced', 8)]: 8,
    };
    expect(evaluateClaims(f, T)[4].status).toBe('holds');
    expect(evaluateClaims({ ...f, [factKey.ablationShrink('r', 'badnets', 'enhanced', 6)]: 90, [factKey.ablationShrink('r', 'badnets', 'enhanced', 8)]: 85 }, T)[4].status).toBe('does not hold');
    expect(evaluateClaims({ ...f, [factKey.evalMetric('r', 'badnets', 'enhanced', 'none', 'asr')]: 40 }, T)[4].status).toBe('inconclusive');
  });

  it('refuses contradictory facts', () => {
    expect(() => mergeFacts([{ a: 1 }, { a: 2 }])).toThrow(/published twice/);
  });
});

const table: ResultTable = {
  id: 'table1',
  title: 't',
  caption: 'c',
  columns: [{ key: 'attack', title: 'Attack' }, { key: 'asr', title: 'ASR (%)' }],
  rows: [{ attack: text('BadNets'), asr: value(97.25, 100) }, { attack: text('Blended|x'), asr: value(undefined, 100) }],
};

describe('tables', () => {
  it('writes CSV with ours and the paper side by side, and Markdown with no empty cell', () => {
    const rows = toCsv(table).trim().split('\n').map((l) => l.split(','));
    expect(rows[0]).toEqual(['Attack', 'ASR (%) (ours)', 'ASR (%) (paper)']);
    expect(rows[1]).toEqual(['BadNets', '97.3', '100']);
    expect(rows[2][1]).toBe('not run in this profile');
    const md = toMarkdown(table);
    expect(md).toContain('97.3 (paper 100)');
    expect(lintReport(md, [])).toEqual([]);
  });
});

describe('report', () => {
  it('opens with the claims, lists every entry, has no empty cell, and publishes', async () => {
    const entry = (kind: 'figure' | 'table', id: string): ReportEntry => ({
      kind, id, title: id, caption: 'cap', paper: 'paper says', image: kind === 'figure' ? `figures/${id}.png` : undefined, markdown: kind === 'table' ? toMarkdown(table) : undefined,
      lines: ['X in the paper; here Y'], provenance: { profile: 'smoke', dataset: 'synthetic', synthetic: true, backend: 'cpu', seed: '0', wallSeconds: 3 },
    });
    const md = buildReport({ title: 'R', profile: 'smoke', claims: oneSeed(T), thresholds: T, entries: [entry('figure', 'fig3'), entry('table', 'table1')], notes: ['lambda chosen by us'], scale: ['Replicates: 1 seed (0)'] });
    expect(md.indexOf('**Replicates: 1 seed (0)**')).toBeLessThan(md.indexOf('## Claims'));
    expect(md.indexOf('## Claims')).toBeLessThan(md.indexOf('## Table 1'));
    expect(md).toContain('**synthetic**');
    expect(lintReport(md, ['fig3', 'table1'])).toEqual([]);
    expect(lintReport(md, ['fig5'])).toEqual(['entry fig5 missing']);
    expect(lintReport('| a |  |\n', [])).toHaveLength(1);

    const art = mkdtempSync(join(tmpdir(), 'rep-'));
    mkdirSync(join(art, 'figures'));
    writeFileSync(join(art, 'figures', 'fig3.png'), 'x');
    writeFileSync(join(art, 'REPORT.md'), md);
    const dest = join(mkdtempSync(join(tmpdir(), 'pub-')), 'reports');
    const copied = await publishReport(art, dest);
    expect(copied).toContain('REPORT.md');
    expect(existsSync(join(dest, 'figures', 'fig3.png'))).toBe(true);
    expect(readFileSync(join(dest, 'REPORT.md'), 'utf8')).toBe(md);
  });
});

describe('measurements come from meta, not from output files', () => {
  it('defense cost: optimisation time, or per-image overhead times the test images; bad values are named', () => {
    expect(defenseSecondsFromMeta({ costMs: 1500 }, 'fp')).toBe(1.5);
    expect(defenseSecondsFromMeta({ overheadMsPerImage: 0.5, testImages: 4000 }, 'ev')).toBe(2);
    expect(defenseSecondsFromMeta({ defense: 'none' } as never, 'ev')).toBeUndefined();
    expect(() => defenseSecondsFromMeta({ costMs: 'slow' }, 'fp/x')).toThrow(/fp\/x: meta extra.costMs .* got "slow"/);
    expect(() => defenseSecondsFromMeta({ overheadMsPerImage: 0.5 }, 'ev/y')).toThrow(/ev\/y: meta extra.testImages .* got undefined/);
    expect(upstreamWallSeconds([1500, 500])).toBe(2);
  });

  it('the report adds an entry\'s wall time from its artifact\'s meta and prints it', () => {
    const base: ReportEntry = { kind: 'table', id: 'table1', title: 't', caption: 'c', paper: 'p', markdown: toMarkdown(table), lines: [], provenance: { profile: 'smoke', dataset: 'd', synthetic: false, backend: 'cpu', seed: '0' } };
    expect(withWallSeconds(base, {})).toBe(base);
    const timed = withWallSeconds(base, { upstreamWallSeconds: 90 });
    expect(timed.provenance.wallSeconds).toBe(90);
    expect(base.provenance.wallSeconds).toBeUndefined();
    expect(() => withWallSeconds(base, { upstreamWallSeconds: -1 })).toThrow(/table table1: meta extra.upstreamWallSeconds .* got -1/);
    const md = buildReport({ title: 'R', profile: 'smoke', claims: oneSeed(T), thresholds: T, entries: [timed], notes: [], scale: [] });
    expect(md).toContain('wall time 1.5 min.');
    expect(buildReport({ title: 'R', profile: 'smoke', claims: oneSeed(T), thresholds: T, entries: [timed], notes: [], scale: [] })).toBe(md);
  });
});

describe('Table 1: Neural Cleanse detection', () => {
  const defenseIds = { standard: 'none', 'fine-pruning': 'fine-pruning', 'neural-cleanse': 'neural-cleanse', 'auto-encoder': 'autoencoder', flip: 'flip', 'shrinkpad-4': 'shrinkpad-4' };

  it('says which class Neural Cleanse flagged, and when it was not the target', async () => {
    const { table1 } = await import('../../domain/report/paper-tables.js');
    const lookup = (_arch: string, attack: string, _variant: string, defense: string) => {
      if (defense !== 'neural-cleanse') return { clean: 60, asr: 100, targetRateClean: 5 };
      return attack === 'badnets'
        ? { clean: 55, asr: 99.9, targetRateClean: 9, detection: { flagged: [6], target: 4, targetFlagged: false, targetAnomalyIndex: 0.14, targetNormRank: 3, classes: 10 } }
        : { clean: 58, asr: 1, targetRateClean: 2, detection: { flagged: [4], target: 4, targetFlagged: true, targetAnomalyIndex: 3.2 } };
    };
    const { detections: lines } = table1({ archs: [{ arch: 'vgg-narrow', paper: 'vgg19' }], attacks: ['badnets', 'blended'], defenseIds, lookup });
    expect(lines).toContain("Neural Cleanse on vgg-narrow / BadNets: flagged class 6, not the target (target 4: anomaly index 0.14; its reversed trigger ranked 3 of 10 by size); its unlearning used the flagged class's reversed trigger, not the backdoor's");
    expect(lines).toContain('Neural Cleanse on vgg-narrow / Blended Attack: flagged class 4, the target among them (target 4: anomaly index 3.20)');
  });

  it('reads the detection from metrics.json and rejects a malformed one', async () => {
    const { readDetection } = await import('../../domain/report/detection.js');
    const dir = mkdtempSync(join(tmpdir(), 'nc-metrics-'));
    writeFileSync(join(dir, 'metrics.json'), JSON.stringify({ cleanAccuracy: 0.5, asr: 0.9, targetRateClean: 0.1, detected: [6], target: 4, targetFlagged: false, targetAnomalyIndex: 0.14 }));
    expect(await readDetection(dir)).toEqual({ flagged: [6], target: 4, targetFlagged: false, targetAnomalyIndex: 0.14 });
    writeFileSync(join(dir, 'anomaly.json'), JSON.stringify({ norms: [50, 60, 40, 70, 13, 80] }));
    expect(await readDetection(dir)).toEqual({ flagged: [6], target: 4, targetFlagged: false, targetAnomalyIndex: 0.14, targetNormRank: 1, classes: 6 });
    writeFileSync(join(dir, 'metrics.json'), JSON.stringify({ cleanAccuracy: 0.5, detected: 'six', target: 4 }));
    await expect(readDetection(dir)).rejects.toThrow(/'detected' needs integer labels/);
    writeFileSync(join(dir, 'metrics.json'), JSON.stringify({ cleanAccuracy: 0.5, asr: 0.1 }));
    expect(await readDetection(dir)).toBeUndefined();
  });
});
