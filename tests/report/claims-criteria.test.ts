/**
 * Every claim's criterion (issue 18) against hand-built facts: holds, does not hold and
 * inconclusive (and not run), with values on both sides of each threshold.
 */
import { describe, expect, it } from 'vitest';
import { evaluateClaims, verdictText, departuresOf, departureProblems, CLAIM_IDS, type ClaimThresholds, type Departure } from '../../domain/report/claims.js';
import { factKey, modelOfFact, type Facts } from '../../domain/report/facts.js';

const T: ClaimThresholds = {
  highAsr: 80, lowAsr: 20, maxCleanDrop: 5, maxShiftPixels: 3, sharpDrop: 50, fewPoints: 5, asrGap: 30, costFraction: 0.1, cdrpMargin: 0.05,
  saliencyMargin: 0.1, saliencyStandardErrors: 2, saliencyMinImages: 30,
};
const claim = (id: string, f: Facts, t: ClaimThresholds = T, d: Departure[] = []) => evaluateClaims(f, t, d).find((c) => c.id === id)!;
const ev = (arch: string, attack: string, variant: string, defense: string, metric: 'asr' | 'clean' | 'targetRateClean', v: number): Facts => ({ [factKey.evalMetric(arch, attack, variant, defense, metric)]: v });

describe('the claims table', () => {
  it('has claims 1-6 and 7a-7c, each its own verdict', () => {
    expect(CLAIM_IDS).toEqual(['1', '2', '3', '4', '5', '6', '7a', '7b', '7c']);
  });
});

describe('claim 1', () => {
  const f = (asr: number, clean: number) => ({ ...ev('r', 'badnets', 'standard', 'none', 'asr', asr), ...ev('r', 'badnets', 'standard', 'none', 'clean', clean), [factKey.benignClean('r')]: 90 });
  it('holds at the thresholds and fails just past them', () => {
    expect(claim('1', f(80, 85)).status).toBe('holds');
    expect(claim('1', f(79.9, 85)).status).toBe('does not hold');
    expect(claim('1', f(80, 84.9)).status).toBe('does not hold');
  });
  it('names the models below the ASR bound', () => {
    expect(claim('1', f(79.9, 85)).ours).toContain('below 80%: r/badnets 79.9%');
  });
  it('is not run without standard attacks', () => {
    expect(claim('1', {}).status).toBe('not run in this profile');
  });
});

describe('claim 2: location and appearance on the paper\'s words', () => {
  const base = (over: Record<string, number> = {}): Facts => ({
    [factKey.sensitivityPlain('r')]: 99,
    [factKey.sensitivityTrainingValue('r')]: 128,
    [factKey.sensitivityRingMean('r', 1)]: 95,
    [factKey.sensitivityRingMean('r', 2)]: 70,
    [factKey.sensitivityRingMean('r', 3)]: 40,
    [factKey.sensitivityRingMean('r', 4)]: 10,
    [factKey.sensitivityValue('r', 0)]: 5,
    [factKey.sensitivityValue('r', 64)]: 30,
    [factKey.sensitivityValue('r', 96)]: 60,
    [factKey.sensitivityValue('r', 128)]: 99,
    [factKey.sensitivityValue('r', 160)]: 98,
    [factKey.sensitivityValue('r', 255)]: 97,
    ...over,
  });

  it('holds when ASR drops sharply within the small distance, falls with the value and keeps up above it', () => {
    const c = claim('2', base());
    expect(c.status).toBe('holds');
    expect(c.ours).toContain('first below half the unmoved value at 3 px');
    expect(c.ours).toContain('1 px away 95.0%');
  });

  it('location: a drop of exactly sharpDrop within maxShiftPixels holds, a smaller one does not', () => {
    expect(claim('2', base({ [factKey.sensitivityRingMean('r', 3)]: 49 })).status).toBe('holds');
    expect(claim('2', base({ [factKey.sensitivityRingMean('r', 3)]: 49.5 })).status).toBe('does not hold');
  });

  it('location: a drop beyond maxShiftPixels does not count', () => {
    const c = claim('2', base({ [factKey.sensitivityRingMean('r', 3)]: 60, [factKey.sensitivityRingMean('r', 4)]: 0 }));
    expect(c.status).toBe('does not hold');
  });

  it('location reads the mean over positions, not the worst one', () => {
    // The ring maximum (published beside it) stays high; the mean decides.
    expect(claim('2', base({ [factKey.sensitivityRing('r', 3)]: 95 })).status).toBe('holds');
  });

  it('appearance: higher values must stay within fewPoints of the unmoved ASR', () => {
    expect(claim('2', base({ [factKey.sensitivityValue('r', 255)]: 94 })).status).toBe('holds');
    const c = claim('2', base({ [factKey.sensitivityValue('r', 255)]: 93.9 }));
    expect(c.status).toBe('does not hold');
    expect(c.ours).toContain('higher values: at least 93.9%');
  });

  it('appearance: ASR must fall as the value drops, with fewPoints of slack between neighbours', () => {
    expect(claim('2', base({ [factKey.sensitivityValue('r', 0)]: 35 })).status).toBe('holds');
    const c = claim('2', base({ [factKey.sensitivityValue('r', 0)]: 35.1 }));
    expect(c.status).toBe('does not hold');
    expect(c.ours).toContain('not falling steadily');
  });

  it('appearance: the lowest value must have lost at least sharpDrop points', () => {
    const soft = { [factKey.sensitivityValue('r', 96)]: 60, [factKey.sensitivityValue('r', 64)]: 55 };
    expect(claim('2', base({ ...soft, [factKey.sensitivityValue('r', 0)]: 49 })).status).toBe('holds');
    expect(claim('2', base({ ...soft, [factKey.sensitivityValue('r', 0)]: 50 })).status).toBe('does not hold');
  });

  it('is inconclusive when the unmoved trigger does not work', () => {
    expect(claim('2', base({ [factKey.sensitivityPlain('r')]: 79.9 })).status).toBe('inconclusive');
  });

  it('holds only where run when the grid misses the small distances or the values above', () => {
    const f = base();
    for (const d of [1, 2, 3]) delete f[factKey.sensitivityRingMean('r', d)];
    expect(claim('2', f).status).toBe('holds where run');
    const g = base();
    delete g[factKey.sensitivityValue('r', 160)];
    delete g[factKey.sensitivityValue('r', 255)];
    expect(claim('2', g).status).toBe('holds where run');
  });

  it('is not run without the sensitivity analysis', () => {
    expect(claim('2', {}).status).toBe('not run in this profile');
  });
});

describe('claim 3', () => {
  const working = { ...ev('r', 'badnets', 'standard', 'none', 'asr', 100), ...ev('r', 'consistent', 'standard', 'none', 'asr', 98) };
  const f = (badFlip: number, lcFlip: number, badShrink: number) => ({
    ...working,
    ...ev('r', 'badnets', 'standard', 'flip', 'asr', badFlip),
    ...ev('r', 'consistent', 'standard', 'flip', 'asr', lcFlip),
    ...ev('r', 'badnets', 'standard', 'shrinkpad-4', 'asr', badShrink),
  });
  it('holds just inside lowAsr and fails at it', () => {
    expect(claim('3', f(19.9, 20, 19.9)).status).toBe('holds');
    expect(claim('3', f(20, 20, 1)).status).toBe('does not hold');
    expect(claim('3', f(1, 19.9, 1)).status).toBe('does not hold');
    expect(claim('3', f(1, 20, 20)).status).toBe('does not hold');
  });
  it('is inconclusive for a model whose attack never worked, and holds where run without ShrinkPad-4', () => {
    expect(claim('3', { ...f(1, 90, 1), ...ev('r', 'consistent', 'standard', 'none', 'asr', 79.9) }).status).toBe('inconclusive');
    const g = f(1, 90, 1);
    delete g[factKey.evalMetric('r', 'badnets', 'standard', 'shrinkpad-4', 'asr')];
    expect(claim('3', g).status).toBe('holds where run');
  });
});

describe('claim 4: noise and colour', () => {
  const working = ev('r', 'badnets', 'standard', 'none', 'asr', 100);
  it('noise: holds at highAsr, fails below', () => {
    expect(claim('4', { ...working, ...ev('r', 'badnets', 'standard', 'noise-10', 'asr', 80) }).status).toBe('holds');
    expect(claim('4', { ...working, ...ev('r', 'badnets', 'standard', 'noise-10', 'asr', 79.9) }).status).toBe('does not hold');
  });
  it('colour: holds at highAsr, fails below, independently of noise', () => {
    const noise = ev('r', 'badnets', 'standard', 'noise-10', 'asr', 99);
    const c = claim('4', { ...working, ...noise, ...ev('r', 'badnets', 'standard', 'jitter-hue-0.2', 'asr', 80) });
    expect(c.status).toBe('holds');
    expect(c.ours).toContain('colour-shift ASR 80.0%');
    expect(claim('4', { ...working, ...noise, ...ev('r', 'badnets', 'standard', 'jitter-brightness-0.4', 'asr', 79.9) }).status).toBe('does not hold');
  });
  it('colour: a flooded row is inconclusive, not a success', () => {
    const f = { ...working, ...ev('r', 'badnets', 'standard', 'jitter-hue-0.2', 'asr', 99), ...ev('r', 'badnets', 'standard', 'jitter-hue-0.2', 'targetRateClean', 20) };
    expect(claim('4', f).status).toBe('inconclusive');
    expect(claim('4', { ...f, ...ev('r', 'badnets', 'standard', 'jitter-hue-0.2', 'targetRateClean', 19.9) }).status).toBe('holds');
  });
  it('is inconclusive when no attack worked, and names models it leaves out', () => {
    expect(claim('4', { ...ev('r', 'badnets', 'standard', 'none', 'asr', 79.9), ...ev('r', 'badnets', 'standard', 'noise-10', 'asr', 99) }).status).toBe('inconclusive');
    const c = claim('4', { ...working, ...ev('r', 'badnets', 'standard', 'noise-10', 'asr', 99), ...ev('r', 'consistent', 'standard', 'none', 'asr', 30), ...ev('r', 'consistent', 'standard', 'noise-10', 'asr', 10) });
    expect(c.status).toBe('holds');
    expect(c.ours).toContain('not judged: r/consistent');
  });
  it('is not run without noise or colour evaluations', () => {
    expect(claim('4', working).status).toBe('not run in this profile');
  });
});

describe('claim 5: enhanced attacks, one model at a time', () => {
  const enh = (attack: string, none: number, flip: number, shrink: number) => ({
    ...ev('r', attack, 'enhanced', 'none', 'asr', none),
    ...ev('r', attack, 'enhanced', 'flip', 'asr', flip),
    ...ev('r', attack, 'enhanced', 'shrinkpad-4', 'asr', shrink),
  });
  it('a weak Consistent+ no longer hides a failing BadNets+', () => {
    const c = claim('5', { ...enh('badnets', 100, 79.9, 99), ...enh('consistent', 40, 30, 20) });
    expect(c.status).toBe('does not hold');
    expect(c.ours).toContain('r/consistent+ (40.0%)');
    expect(c.ours).toContain('r/badnets+ under flip 79.9%');
  });
  it('a weak Consistent+ beside working models that hold is inconclusive, and both are named', () => {
    const c = claim('5', { ...enh('badnets', 100, 80, 99), ...enh('consistent', 40, 30, 20) });
    expect(c.status).toBe('inconclusive');
    expect(c.ours).toMatch(/80\.0%–99\.0% over 1 working model/);
  });
  it('holds when every working model stays at highAsr (figure 12 not run: only where run)', () => {
    expect(claim('5', enh('badnets', 100, 80, 80)).status).toBe('holds where run');
  });

  const sweep = (within: Record<number, number>, beyond: Record<number, number>): Facts => {
    const f: Facts = { ...enh('badnets', 100, 99, 99), 'ablation/sMax': 4 };
    for (const [s, v] of Object.entries({ ...within, ...beyond })) f[factKey.ablationShrink('r', 'badnets', 'enhanced', Number(s))] = v;
    return f;
  };
  it('figure 12: the gap must reach asrGap, and the undefended s = 0 is left out of the mean', () => {
    expect(claim('5', sweep({ 2: 60, 4: 60 }, { 6: 30, 8: 30 })).status).toBe('holds');
    expect(claim('5', sweep({ 2: 59.9, 4: 59.9 }, { 6: 30, 8: 30 })).status).toBe('does not hold');
    // With s = 0 (no defense, 100%) counted, the mean for s ≤ 4 would be 70 and the gap 40.
    const c = claim('5', sweep({ 0: 100, 2: 55, 4: 55 }, { 6: 30 }));
    expect(c.status).toBe('does not hold');
    expect(c.ours).toContain('mean ASR 55.0% for 1 ≤ s ≤ 4');
  });
  it('figure 12: sizes on one side only are not run; a weak model is inconclusive', () => {
    expect(claim('5', sweep({ 2: 90 }, {})).status).toBe('holds where run');
    const f = { ...sweep({ 2: 90 }, { 6: 10 }), ...ev('r', 'badnets', 'enhanced', 'none', 'asr', 79.9) };
    expect(claim('5', f).status).toBe('inconclusive');
  });
  it('is not run without enhanced evaluations or the sweep', () => {
    expect(claim('5', {}).status).toBe('not run in this profile');
  });
});

describe('claim 6: costs', () => {
  const costs = (transform: number, baseline: number): Facts => ({ [factKey.cost('r', 'flip')]: transform, [factKey.cost('r', 'shrinkpad-4')]: 0, [factKey.cost('r', 'fine-pruning')]: baseline, [factKey.cost('r', 'neural-cleanse')]: 10 * baseline });
  it('holds below costFraction of the cheapest baseline, fails at it', () => {
    expect(claim('6', costs(9.99, 100)).status).toBe('holds');
    expect(claim('6', costs(10, 100)).status).toBe('does not hold');
  });
  it('holds where run when an architecture lacks baselines; not run without costs', () => {
    expect(claim('6', { ...costs(1, 100), [factKey.cost('s', 'flip')]: 0 }).status).toBe('holds where run');
    expect(claim('6', {}).status).toBe('not run in this profile');
  });
});

describe('claim 7a: saliency on the mean share, with its spread', () => {
  const sal = (s: number, e: number, sd: number, n: number, over: Facts = {}): Facts => ({
    ...ev('r', 'badnets', 'standard', 'none', 'asr', 100),
    ...ev('r', 'badnets', 'enhanced', 'none', 'asr', 100),
    [factKey.saliencyTriggerMass('r', 'badnets', 'standard', 'transformed')]: s,
    [factKey.saliencyTriggerMass('r', 'badnets', 'enhanced', 'transformed')]: e,
    [factKey.saliencyTriggerMassSd('r', 'badnets', 'standard', 'transformed')]: sd,
    [factKey.saliencyTriggerMassSd('r', 'badnets', 'enhanced', 'transformed')]: sd,
    [factKey.saliencyImages('r', 'badnets')]: n,
    ...over,
  });
  const exact = { ...T, saliencyMargin: 0.25 };
  it('holds when the difference clears the margin by the standard errors, fails when it misses by as much', () => {
    const c = claim('7a', sal(0.2, 0.5, 0.1, 100));
    expect(c.status).toBe('holds');
    expect(c.ours).toContain('(sd 10.0%)');
    expect(c.ours).toContain('over 100 images');
    expect(claim('7a', sal(0.2, 0.21, 0.1, 100)).status).toBe('does not hold');
  });
  it('is inconclusive while the interval straddles the margin', () => {
    const c = claim('7a', sal(0.2, 0.31, 0.1, 100));
    expect(c.status).toBe('inconclusive');
    expect(c.ours).toContain('straddles');
  });
  it('with no spread, the margin itself is the boundary', () => {
    expect(claim('7a', sal(0.25, 0.5, 0, 100), exact).status).toBe('holds');
    expect(claim('7a', sal(0.25, 0.4999, 0, 100), exact).status).toBe('does not hold');
  });
  it('needs saliencyMinImages images and the spread', () => {
    expect(claim('7a', sal(0.2, 0.9, 0.05, 29)).status).toBe('inconclusive');
    expect(claim('7a', sal(0.2, 0.9, 0.05, 30)).status).toBe('holds');
    const f = sal(0.2, 0.9, 0.05, 100);
    delete f[factKey.saliencyTriggerMassSd('r', 'badnets', 'enhanced', 'transformed')];
    expect(claim('7a', f).status).toBe('inconclusive');
  });
  it('is inconclusive when either model lacks a working backdoor', () => {
    const c = claim('7a', sal(0.2, 0.9, 0.05, 100, ev('r', 'badnets', 'enhanced', 'none', 'asr', 79.9)));
    expect(c.status).toBe('inconclusive');
    expect(c.ours).toContain('badnets+ 79.9% ASR without defense');
  });
  it('judges each model pair on its own (one failing pair fails the claim)', () => {
    const other: Facts = {
      ...ev('s', 'badnets', 'standard', 'none', 'asr', 100), ...ev('s', 'badnets', 'enhanced', 'none', 'asr', 100),
      [factKey.saliencyTriggerMass('s', 'badnets', 'standard', 'transformed')]: 0.5,
      [factKey.saliencyTriggerMass('s', 'badnets', 'enhanced', 'transformed')]: 0.2,
      [factKey.saliencyTriggerMassSd('s', 'badnets', 'standard', 'transformed')]: 0.1,
      [factKey.saliencyTriggerMassSd('s', 'badnets', 'enhanced', 'transformed')]: 0.1,
      [factKey.saliencyImages('s', 'badnets')]: 100,
    };
    expect(claim('7a', { ...sal(0.2, 0.5, 0.1, 100), ...other }).status).toBe('does not hold');
  });
  it('is not run without both variants', () => {
    const f = sal(0.2, 0.5, 0.1, 100);
    delete f[factKey.saliencyTriggerMass('r', 'badnets', 'enhanced', 'transformed')];
    expect(claim('7a', f).status).toBe('not run in this profile');
  });
});

describe('claim 7b: routing paths, at the margin', () => {
  const cdrp = (variant: string, bt: number, at: number, asr = 100): Facts => ({
    [factKey.cdrpMean('r', 'badnets', variant, 'benign-transformed')]: bt,
    [factKey.cdrpMean('r', 'badnets', variant, 'attacked-transformed')]: at,
    ...ev('r', 'badnets', variant, 'none', 'asr', asr),
  });
  const t = { ...T, cdrpMargin: 0.25 };
  it('holds at the margin and fails just short of it', () => {
    expect(claim('7b', { ...cdrp('standard', 0.75, 0.5), ...cdrp('enhanced', 0.5, 0.75) }, t).status).toBe('holds');
    expect(claim('7b', { ...cdrp('standard', 0.75, 0.5), ...cdrp('enhanced', 0.5, 0.7499) }, t).status).toBe('does not hold');
  });
  it('leaves out a model whose backdoor does not work (inconclusive), but still fails on a working one', () => {
    const c = claim('7b', { ...cdrp('standard', 0.75, 0.5), ...cdrp('enhanced', 0.5, 0.75, 79.9) }, t);
    expect(c.status).toBe('inconclusive');
    expect(c.ours).toContain('r/badnets/enhanced (79.9% ASR without defense)');
    expect(claim('7b', { ...cdrp('standard', 0.5, 0.75), ...cdrp('enhanced', 0.5, 0.75, 79.9) }, t).status).toBe('does not hold');
  });
});

describe('claim 7c: simulated capture', () => {
  const phys = (std: number, enh: number, dStd = 100, dEnh = 100): Facts => ({
    [factKey.physicalAsr('r', 'badnets', 'standard')]: std,
    [factKey.physicalAsr('r', 'badnets', 'enhanced')]: enh,
    [factKey.physicalDigitalAsr('r', 'badnets', 'standard')]: dStd,
    [factKey.physicalDigitalAsr('r', 'badnets', 'enhanced')]: dEnh,
  });
  it('holds when BadNets falls below lowAsr and BadNets+ stays asrGap above it', () => {
    expect(claim('7c', phys(19.9, 49.9)).status).toBe('holds');
    expect(claim('7c', phys(20, 90)).status).toBe('does not hold');
    expect(claim('7c', phys(10, 39.9)).status).toBe('does not hold');
  });
  it('is inconclusive when either attack fails on the digital images', () => {
    expect(claim('7c', phys(10, 90, 100, 79.9)).status).toBe('inconclusive');
    expect(claim('7c', phys(10, 90, 79.9, 100)).status).toBe('inconclusive');
  });
  it('is not run without the simulation', () => {
    expect(claim('7c', {}).status).toBe('not run in this profile');
  });
});

describe('departures named in the verdicts that read affected models', () => {
  const lc: Departure = {
    id: 'lc', settings: ['attacks'], paper: 'adversarial surrogate', ours: 'standard surrogate', why: 'cost',
    short: 'label-consistent with a standard surrogate; the paper used an adversarially trained one', affects: { attacks: ['consistent'] },
  };
  const scale: Departure = { id: 'scale', settings: ['models'], paper: 'big', ours: 'small', why: 'budget', short: 'smaller models', affects: {} };
  const fp: Departure = { id: 'fp', settings: ['defenses'], paper: 'no rule', ours: '4 points', why: 'ours', short: 'FP rule', affects: { defenses: ['fine-pruning'], claims: [] } };
  const capture: Departure = { id: 'cap', settings: ['analyses'], paper: 'photos', ours: 'simulation', why: 'no camera', short: 'simulated camera', affects: { claims: ['7c'] } };
  const all = [lc, scale, fp, capture];
  const f: Facts = {
    ...ev('r', 'consistent', 'standard', 'none', 'asr', 30), ...ev('r', 'consistent', 'standard', 'none', 'clean', 80), [factKey.benignClean('r')]: 82,
    [factKey.sensitivityPlain('r')]: 99, [factKey.sensitivityRingMean('r', 1)]: 10,
    [factKey.cost('r', 'fine-pruning')]: 100, [factKey.cost('r', 'flip')]: 0,
    [factKey.physicalAsr('r', 'badnets', 'standard')]: 5, [factKey.physicalAsr('r', 'badnets', 'enhanced')]: 90,
  };
  const results = evaluateClaims(f, T, all);
  const of = (id: string) => results.find((c) => c.id === id)!;

  it('claim 1 reads a label-consistent model, so it names that departure and the scale', () => {
    expect(of('1').status).toBe('does not hold');
    expect(of('1').departures).toEqual([lc.short, scale.short]);
    expect(verdictText(of('1'))).toBe('does not hold (label-consistent with a standard surrogate; the paper used an adversarially trained one; smaller models)');
  });
  it('claims that read no label-consistent model do not name it; a departure for no claim is never named', () => {
    expect(of('2').departures).toEqual([scale.short]);
    expect(of('6').departures).toEqual([scale.short]);
    expect(of('7c').departures).toEqual([scale.short, capture.short]);
  });
  it('a claim that did not run names nothing', () => {
    expect(of('4').departures).toEqual([]);
    expect(verdictText(of('4'))).toBe('not run in this profile');
  });
});

describe('departuresOf: the departures in effect for a profile', () => {
  const dep = (over: Partial<Departure> = {}): Departure => ({
    id: 'blended-lambda', settings: ['attacks.definitions.blended.alpha'], paper: 'lambda 0.2', ours: 'lambda 0.6', why: 'probe', short: 'Blended with lambda 0.6', affects: { attacks: ['blended'] },
    appliesWhile: { setting: 'attacks.definitions.blended.alpha', value: 0.6 }, ...over,
  });
  const params = (alpha: number, departures: Departure[]) => ({ attacks: { definitions: { blended: { alpha } } }, report: { departures } });

  it('keeps a departure while its setting has the departing value, and retires it when the paper value is restored', () => {
    expect(departuresOf(params(0.6, [dep()])).map((d) => d.id)).toEqual(['blended-lambda']);
    expect(departuresOf(params(0.2, [dep()]))).toEqual([]);
  });
  it('names a setting that does not exist; a condition on an absent setting is not in effect', () => {
    const typo = params(0.6, [dep({ settings: ['attacks.definitions.blended.lambda'] })]);
    expect(departureProblems(typo)).toEqual([expect.stringMatching(/'attacks\.definitions\.blended\.lambda' does not exist/)]);
    expect(departureProblems(params(0.6, [dep()]))).toEqual([]);
    expect(departuresOf({ report: { departures: [dep()] } })).toEqual([]);
  });
  it('every profile of params.json names only settings it has', async () => {
    const { readJsonFile, parseParamsFile, effectiveParams } = await import('../../engine/params.js');
    const file = parseParamsFile(readJsonFile('params.json', 'params'), 'params.json');
    for (const profile of [undefined, ...Object.keys(file.profiles)]) {
      const p = effectiveParams(file, { profile, overrides: [] }).params;
      expect(departureProblems(p), `profile ${profile ?? '(base)'}`).toEqual([]);
      expect(departuresOf(p).length, `profile ${profile ?? '(base)'}`).toBeGreaterThan(0);
    }
  });
  it('refuses a repeated id', () => {
    expect(() => departuresOf(params(0.6, [dep(), dep()]))).toThrow(/'blended-lambda' appears twice/);
  });
  it('reads no departures from params without the list', () => {
    expect(departuresOf({ report: {} })).toEqual([]);
  });
});

describe('modelOfFact', () => {
  it('recovers the model a key describes', () => {
    expect(modelOfFact(factKey.evalMetric('r', 'consistent', 'enhanced', 'flip', 'asr'))).toEqual({ arch: 'r', attack: 'consistent', variant: 'enhanced', defense: 'flip' });
    expect(modelOfFact(factKey.ablationShrink('r', 'badnets', 'enhanced', 6))).toEqual({ arch: 'r', attack: 'badnets', variant: 'enhanced', defense: 'shrinkpad-6' });
    expect(modelOfFact(factKey.saliencyImages('r', 'blended'))).toEqual({ arch: 'r', attack: 'blended' });
    expect(modelOfFact(factKey.cdrpMean('r', 'badnets', 'standard', 'benign-transformed'))).toEqual({ arch: 'r', attack: 'badnets', variant: 'standard' });
    expect(modelOfFact('ablation/sMax')).toBeUndefined();
  });
});
