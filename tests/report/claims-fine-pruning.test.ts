/**
 * Issue 18, Fine-Pruning beside the claims: the fraction read at the paper's own clean-accuracy
 * loss (chosen on validation), the paper's loss per row, the metrics.json round trip and the lines
 * and facts Table 1 gets from it. Also the sensitivity ring mean the claim-2 location part reads.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fractionAtLoss, type PruningPoint } from '../../domain/defenses/fine-pruning.js';
import { paperFinePruningLoss } from '../../stages/fine-pruning.js';
import { readEvalMetrics } from '../../domain/analyses/inputs.js';
import { finePruningAtPaperLoss } from '../../domain/report/fine-pruning-lines.js';
import { table1, type TableMetrics } from '../../domain/report/paper-tables.js';
import { factKey } from '../../domain/report/facts.js';
import { ringMean, ringMaximum } from '../../domain/analyses/sensitivity.js';

const point = (fraction: number, cleanAccuracy: number): PruningPoint =>
  ({ fraction, prunedChannels: Math.round(fraction * 10), validation: { cleanAccuracy, asr: 0.5, targetRateClean: 0.1, counts: { total: 100, nonTarget: 90 } } }) as unknown as PruningPoint;

describe('fractionAtLoss', () => {
  const curve = [point(0, 0.8), point(0.2, 0.79), point(0.4, 0.75), point(0.6, 0.6)];
  it('takes the smallest fraction whose validation loss reaches the target, the target itself included', () => {
    expect(fractionAtLoss(curve, 5).point.fraction).toBe(0.4);
    expect(fractionAtLoss(curve, 5).validationLoss).toBeCloseTo(5, 9);
    expect(fractionAtLoss(curve, 5.1).point.fraction).toBe(0.6);
    expect(fractionAtLoss(curve, 0).point.fraction).toBe(0);
  });
  it('says when no fraction loses that much, and returns the largest', () => {
    const r = fractionAtLoss(curve, 43);
    expect(r.reached).toBe(false);
    expect(r.point.fraction).toBe(0.6);
    expect(r.validationLoss).toBeCloseTo(20, 9);
  });
  it('rejects a bad target', () => {
    expect(() => fractionAtLoss(curve, -1)).toThrow(/non-negative/);
    expect(() => fractionAtLoss([], 1)).toThrow(/empty/);
  });
});

describe("the paper's own Fine-Pruning loss per row", () => {
  it('is Standard clean minus Fine-Pruning clean, Table 1 or Table 6', () => {
    expect(paperFinePruningLoss('vgg19', 'badnets', 'standard')).toBe(0.6);
    expect(paperFinePruningLoss('vgg19', 'blended', 'standard')).toBe(7.9);
    expect(paperFinePruningLoss('vgg19', 'consistent', 'standard')).toBe(18.7);
    expect(paperFinePruningLoss('resnet34', 'consistent', 'standard')).toBe(1.1);
    expect(paperFinePruningLoss('vgg19', 'uap', 'standard')).toBe(43);
    expect(paperFinePruningLoss('resnet34', 'uap', 'standard')).toBe(6.1);
  });
  it('is absent for rows the paper does not have', () => {
    expect(paperFinePruningLoss('vgg19', 'badnets-gray', 'standard')).toBeNull();
    expect(paperFinePruningLoss('vgg19', 'badnets', 'enhanced')).toBeNull();
  });
});

describe('Fine-Pruning in metrics.json and Table 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fp-'));
  const metrics = {
    cleanAccuracy: 0.7, asr: 0.9, targetRateClean: 0.05, chosenFraction: 0.2, maxAccuracyDrop: 0.04,
    atPaperLoss: { paperLoss: 18.7, fraction: 0.6, validationLoss: 20, reached: true, cleanAccuracy: 0.5, asr: 0.1, targetRateClean: 0.02 },
  };
  writeFileSync(join(dir, 'metrics.json'), JSON.stringify(metrics));

  it('reads the rule and the paper-loss reading as percentages', async () => {
    const m = await readEvalMetrics(dir);
    expect(m.finePruning).toEqual({ maxAccuracyDrop: 0.04, chosenFraction: 0.2, atPaperLoss: { paperLoss: 18.7, fraction: 0.6, validationLoss: 20, reached: true, clean: 50, asr: 10, targetRateClean: 2 } });
  });

  it('an evaluate artifact without them reads as before', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ev-'));
    writeFileSync(join(d, 'metrics.json'), JSON.stringify({ cleanAccuracy: 0.7, asr: 0.9 }));
    expect((await readEvalMetrics(d)).finePruning).toBeUndefined();
  });

  it('Table 1 states where the rule comes from and compares like with like', async () => {
    const fp = await readEvalMetrics(dir);
    const lookup = (arch: string, attack: string, variant: string, defense: string): TableMetrics | undefined =>
      arch === 'v' && attack === 'consistent' && variant === 'standard' && defense === 'fine-pruning' ? fp : undefined;
    const ctx = { archs: [{ arch: 'v', paper: 'vgg19' as const }], attacks: ['consistent'], defenseIds: { standard: 'none', 'fine-pruning': 'fine-pruning', 'neural-cleanse': 'nc', 'auto-encoder': 'ae', flip: 'flip', 'shrinkpad-4': 'shrinkpad-4' }, lookup };
    const t = table1(ctx);
    const lines = t.lines.join('\n');
    expect(lines).toContain('"is determined through grid-search on the validation set"');
    expect(lines).toContain('at most 4.0 points below');
    expect(lines).toContain("at the paper's own clean-accuracy loss (18.7 points, VGG-19 row)");
    expect(lines).toContain('there ASR 10.0%, clean 50.0%');
    expect(lines).toContain('at our 4-point rule: pruned 20%, ASR 90.0%');
    expect(lines).toContain('the paper: ASR 0.1%');
    expect(t.facts[factKey.finePruningAtPaperLoss('v', 'consistent', 'standard', 'asr')]).toBe(10);
    expect(t.facts[factKey.finePruningAtPaperLoss('v', 'consistent', 'standard', 'paperLoss')]).toBe(18.7);
    // Without a Fine-Pruning artifact there is nothing to say.
    expect(finePruningAtPaperLoss({ ...ctx, lookup: () => undefined }, ['consistent'], () => undefined)).toEqual({ facts: {}, lines: [] });
  });
});

describe('ringMean (claim 2 location)', () => {
  it('averages the positions at one Chebyshev distance, where ringMaximum takes the worst', () => {
    const grid = [{ dx: 0, dy: 0, asr: 100 }, { dx: -1, dy: 0, asr: 90 }, { dx: 0, dy: -1, asr: 30 }, { dx: -1, dy: -1, asr: 0 }, { dx: -2, dy: 0, asr: 5 }];
    expect(ringMean(grid, 1)).toBe(40);
    expect(ringMaximum(grid, 1)).toBe(90);
    expect(ringMean(grid, 3)).toBeUndefined();
  });
});

describe('the fine-pruning stage gives each instance its paper row', () => {
  it('quick profile: vgg-narrow stands for VGG-19, so BadNets 0.6, Blended 7.9, Consistent 18.7 points', async () => {
    const { readJsonFile, parseParamsFile, effectiveParams } = await import('../../engine/params.js');
    const stage = (await import('../../stages/fine-pruning.js')).default;
    const file = parseParamsFile(readJsonFile('params.json', 'params'), 'params.json');
    const params = effectiveParams(file, { profile: 'quick', overrides: [] }).params;
    const losses = Object.fromEntries(stage.instances(params).map((i) => [(i.params.model as { attack: string }).attack, i.params.paperCleanLoss]));
    expect(losses).toEqual({ badnets: 0.6, blended: 7.9, consistent: 18.7 });
  });
});
