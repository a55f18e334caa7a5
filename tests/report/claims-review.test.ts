import { describe, expect, it } from 'vitest';
import { evaluateClaims, type ClaimThresholds } from '../../domain/report/claims.js';
import { factKey } from '../../domain/report/facts.js';

const T: ClaimThresholds = {
  highAsr: 80, lowAsr: 20, maxCleanDrop: 5, maxShiftPixels: 3, sharpDrop: 50, fewPoints: 5, asrGap: 30, costFraction: 0.1, cdrpMargin: 0.05,
  saliencyMargin: 0.1, saliencyStandardErrors: 2, saliencyMinImages: 30,
};

describe('claim 1 (high ASR with little clean-accuracy loss)', () => {
  const asr = { [factKey.evalMetric('vgg', 'badnets', 'standard', 'none', 'asr')]: 99, [factKey.evalMetric('vgg', 'badnets', 'standard', 'none', 'clean')]: 90 };

  it('does not hold vacuously when the benign model that measures the clean cost was not run', () => {
    const c1 = evaluateClaims(asr, T)[0];
    expect(c1.status).toBe('inconclusive');
    expect(c1.ours).toContain('benign model not run');
  });

  it('holds when the cost is measured for every model and within the bound', () => {
    expect(evaluateClaims({ ...asr, [factKey.benignClean('vgg')]: 92 }, T)[0].status).toBe('holds');
  });

  it('is inconclusive when only some models have their clean cost', () => {
    const f = { ...asr, [factKey.benignClean('vgg')]: 92, [factKey.evalMetric('res', 'badnets', 'standard', 'none', 'asr')]: 95 };
    const c1 = evaluateClaims(f, T)[0];
    expect(c1.status).toBe('inconclusive');
    expect(c1.ours).toContain('1 model(s) without');
  });

  it('fails on a low ASR or a large clean drop even with missing figures', () => {
    expect(evaluateClaims({ ...asr, [factKey.evalMetric('vgg', 'badnets', 'standard', 'none', 'asr')]: 50 }, T)[0].status).toBe('does not hold');
    expect(evaluateClaims({ ...asr, [factKey.benignClean('vgg')]: 99 }, T)[0].status).toBe('does not hold');
  });
});

describe('claim 7b (CDRP), its own verdict', () => {
  const cdrp = (arch: string, variant: string, bt: number, at: number) => ({
    [factKey.cdrpMean(arch, 'badnets', variant, 'benign-transformed')]: bt,
    [factKey.cdrpMean(arch, 'badnets', variant, 'attacked-transformed')]: at,
    [factKey.evalMetric(arch, 'badnets', variant, 'none', 'asr')]: 100,
  });
  const c7b = (facts: Record<string, number>) => evaluateClaims(facts, T).find((c) => c.id === '7b')!;
  const cdrpPart = (facts: Record<string, number>) => c7b(facts).ours;

  it('holds when every standard and every enhanced model shows its gap, whatever saliency and capture say', () => {
    const f = { ...cdrp('a', 'standard', 0.9, 0.4), ...cdrp('a', 'enhanced', 0.4, 0.9), ...cdrp('b', 'standard', 0.8, 0.3), ...cdrp('b', 'enhanced', 0.3, 0.8) };
    expect(c7b(f).status).toBe('holds');
    const all = evaluateClaims(f, T);
    expect(all.find((c) => c.id === '7a')!.status).toBe('not run in this profile');
    expect(all.find((c) => c.id === '7c')!.status).toBe('not run in this profile');
  });

  it('judges every model, not only the first one in key order', () => {
    // Model 'b' (second in key order) reverses the standard pattern: the claim must fail.
    const f = { ...cdrp('a', 'standard', 0.9, 0.4), ...cdrp('a', 'enhanced', 0.4, 0.9), ...cdrp('b', 'standard', 0.3, 0.8), ...cdrp('b', 'enhanced', 0.3, 0.8) };
    expect(c7b(f).status).toBe('does not hold');
    expect(cdrpPart(f)).toContain('b/badnets/standard 0.30 vs 0.80');
  });

  it('is not run without both variants', () => {
    expect(c7b(cdrp('a', 'standard', 0.9, 0.4)).status).toBe('not run in this profile');
  });
});

describe('claims 4 and 5 read the ASR against the clean->target baseline', () => {
  const m = (arch: string, attack: string, variant: string, defense: string, metric: 'asr' | 'clean' | 'targetRateClean', v: number) => ({ [factKey.evalMetric(arch, attack, variant, defense, metric)]: v });

  it('claim 4: a high ASR under noise does not count when clean images also go to the target', () => {
    const f = { ...m('r', 'badnets', 'standard', 'none', 'asr', 100), ...m('r', 'badnets', 'standard', 'noise-20', 'asr', 99), ...m('r', 'badnets', 'standard', 'noise-20', 'targetRateClean', 90) };
    const c4 = evaluateClaims(f, T)[3];
    expect(c4.status).toBe('inconclusive');
    expect(c4.ours).toContain('r/badnets under noise-20');
    expect(evaluateClaims({ ...f, ...m('r', 'badnets', 'standard', 'noise-20', 'targetRateClean', 2) }, T)[3].status).toBe('holds');
  });

  it('claim 4: a low ASR still fails the claim beside a flooded row', () => {
    const f = {
      ...m('r', 'badnets', 'standard', 'none', 'asr', 100),
      ...m('r', 'badnets', 'standard', 'noise-20', 'asr', 99), ...m('r', 'badnets', 'standard', 'noise-20', 'targetRateClean', 90),
      ...m('r', 'badnets', 'standard', 'noise-5', 'asr', 10), ...m('r', 'badnets', 'standard', 'noise-5', 'targetRateClean', 1),
    };
    expect(evaluateClaims(f, T)[3].status).toBe('does not hold');
  });

  it('claim 5: an enhanced ASR under ShrinkPad-4 does not count when the defended model floods the target', () => {
    const f = { ...m('r', 'badnets', 'enhanced', 'none', 'asr', 100), ...m('r', 'badnets', 'enhanced', 'shrinkpad-4', 'asr', 100), ...m('r', 'badnets', 'enhanced', 'shrinkpad-4', 'targetRateClean', 95) };
    expect(evaluateClaims(f, T)[4].status).toBe('inconclusive');
    expect(evaluateClaims({ ...f, ...m('r', 'badnets', 'enhanced', 'shrinkpad-4', 'targetRateClean', 3) }, T)[4].status).toBe('holds where run');
  });
});

describe('claim 3: the consistent attack surviving Flip needs its baseline too', () => {
  it('is inconclusive when Flip makes the model send clean images to the target', () => {
    const k = (d: string, m: 'asr' | 'targetRateClean', v: number) => ({ [factKey.evalMetric('r', 'consistent', 'standard', d, m)]: v });
    const f = { ...k('none', 'asr', 99), ...k('flip', 'asr', 97), ...k('flip', 'targetRateClean', 60) };
    expect(evaluateClaims(f, T)[2].status).toBe('inconclusive');
    // ShrinkPad-4 was not evaluated here: the Flip half holds, the claim only where run.
    expect(evaluateClaims({ ...f, ...k('flip', 'targetRateClean', 1) }, T)[2].status).toBe('holds where run');
  });
});
