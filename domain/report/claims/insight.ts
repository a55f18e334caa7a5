/**
 * Claims 7a-7c (section 5.3, figures 5-6; section 5.4), each its own verdict:
 * 7a saliency: "the saliency map of transformed attacked images mainly activates at object
 *    structure rather than at the backdoor trigger" under standard attacks, while under enhanced
 *    attacks "the saliency maps of both types of attacked images concentrate on the area of the
 *    backdoor trigger";
 * 7b routing paths: under standard attacks the CDRPs of transformed attacked samples are similar to
 *    those of benign samples; under enhanced attacks to those of attacked samples;
 * 7c physical attack: "BadNets+ successfully enforces the prediction to the target label, while
 *    BadNets fails" (we simulate the camera; the paper photographed).
 */
import { factKey } from '../facts.js';
import { FactReader } from './reader.js';
import { combine, inconclusive, notRun, pct, verdict, type ClaimThresholds, type Verdict } from './types.js';

const share = (v: number): string => `${(100 * v).toFixed(1)}%`;

/** Premise of a standard-vs-enhanced comparison: both models carry a working backdoor. */
function bothWork(f: FactReader, t: ClaimThresholds, arch: string, attack: string): string | undefined {
  const weak = (['standard', 'enhanced'] as const)
    .map((v) => ({ v, asr: f.undefended(arch, attack, v) }))
    .filter((x) => x.asr === undefined || x.asr < t.highAsr);
  return weak.length ? weak.map((x) => `${attack}${x.v === 'enhanced' ? '+' : ''} ${x.asr === undefined ? 'not evaluated' : `${pct(x.asr)} ASR`} without defense`).join(', ') : undefined;
}

export function claim7a(f: FactReader, t: ClaimThresholds): Verdict {
  const means = f.select(/^saliency\/([^/]+)\/([^/]+)\/standard\/transformed\/triggerMass$/);
  const pairs = means.filter((m) => f.get(factKey.saliencyTriggerMass(m.groups[0], m.groups[1], 'enhanced', 'transformed')) !== undefined);
  if (pairs.length === 0) return notRun('saliency');
  return combine(
    pairs.map((m) => {
      const [arch, attack] = m.groups;
      const model = `${arch}/${attack}`;
      const s = m.value;
      const e = f.get(factKey.saliencyTriggerMass(arch, attack, 'enhanced', 'transformed'))!;
      const sdS = f.get(factKey.saliencyTriggerMassSd(arch, attack, 'standard', 'transformed'));
      const sdE = f.get(factKey.saliencyTriggerMassSd(arch, attack, 'enhanced', 'transformed'));
      const n = f.get(factKey.saliencyImages(arch, attack));
      const shares = `${share(s)}${sdS === undefined ? '' : ` (sd ${share(sdS)})`} standard vs ${share(e)}${sdE === undefined ? '' : ` (sd ${share(sdE)})`} enhanced`;
      const premise = bothWork(f, t, arch, attack);
      if (premise) return inconclusive(`${model}: saliency on the trigger of transformed attacked images ${shares}, but ${premise}`);
      if (n === undefined || sdS === undefined || sdE === undefined) return inconclusive(`${model}: ${shares}; the number of images or the spread over them was not recorded`);
      if (n < t.saliencyMinImages) return inconclusive(`${model}: ${shares} over only ${n} images (at least ${t.saliencyMinImages} needed)`);
      const diff = e - s;
      const band = t.saliencyStandardErrors * Math.sqrt((sdS * sdS + sdE * sdE) / n);
      const text = `${model}: saliency on the trigger of transformed attacked images ${shares} over ${n} images; enhanced − standard ${share(diff)} ± ${share(band)}`;
      if (diff - band >= t.saliencyMargin) return verdict(true, text);
      if (diff + band < t.saliencyMargin) return verdict(false, text);
      return inconclusive(`${text} (the interval straddles the ${share(t.saliencyMargin)} margin)`);
    }),
  );
}

export function claim7b(f: FactReader, t: ClaimThresholds): Verdict {
  const cdrp = f.select(/^cdrp\/([^/]+)\/([^/]+)\/(standard|enhanced)\/(benign-transformed|attacked-transformed)\/mean$/);
  // Every model with both pairs is judged on its own pair gap: standard models need r(benign, transformed) above r(attacked, transformed), enhanced ones the reverse.
  const models = [...new Set(cdrp.map((c) => `${c.groups[0]}/${c.groups[1]}/${c.groups[2]}`))].flatMap((model) => {
    const [arch, attack, variant] = model.split('/');
    const bt = f.get(factKey.cdrpMean(arch, attack, variant, 'benign-transformed'));
    const at = f.get(factKey.cdrpMean(arch, attack, variant, 'attacked-transformed'));
    return bt === undefined || at === undefined ? [] : [{ model, variant, bt, at, gap: variant === 'standard' ? bt - at : at - bt }];
  });
  if (!models.some((m) => m.variant === 'standard') || !models.some((m) => m.variant === 'enhanced')) return notRun('CDRP');
  // The paper reads the routing paths as the reason attacked images reach the target: only models whose backdoor works can show it.
  const weak = models.filter((m) => {
    const [arch, attack] = m.model.split('/');
    return (f.undefended(arch, attack, m.variant) ?? -1) < t.highAsr;
  });
  const judged = models.filter((m) => !weak.includes(m));
  const parts: Verdict[] = [];
  if (weak.length) parts.push(inconclusive(`CDRP not judged for ${weak.map((m) => { const [arch, attack] = m.model.split('/'); const u = f.undefended(arch, attack, m.variant); return `${m.model} (${u === undefined ? 'not evaluated' : `${pct(u)} ASR`} without defense)`; }).join(', ')}`));
  if (judged.length) parts.push(verdict(judged.every((m) => m.gap >= t.cdrpMargin), `CDRP mean correlation benign–transformed vs attacked–transformed: ${judged.map((m) => `${m.model} ${m.bt.toFixed(2)} vs ${m.at.toFixed(2)}`).join(', ')}`));
  return combine(parts);
}

export function claim7c(f: FactReader, t: ClaimThresholds): Verdict {
  const std = f.select(/^physical\/([^/]+)\/badnets\/standard\/asr$/);
  const parts = std.flatMap((p) => {
    const arch = p.groups[0];
    const enh = f.get(factKey.physicalAsr(arch, 'badnets', 'enhanced'));
    if (enh === undefined) return [];
    const dStd = f.get(factKey.physicalDigitalAsr(arch, 'badnets', 'standard'));
    const dEnh = f.get(factKey.physicalDigitalAsr(arch, 'badnets', 'enhanced'));
    const text = `${arch} simulated capture: BadNets ${pct(p.value)}, BadNets+ ${pct(enh)}`;
    // BadNets failing under capture means something only if it works on the digital images; likewise BadNets+ succeeding.
    const weak = [dStd !== undefined && dStd < t.highAsr ? `BadNets ${pct(dStd)}` : '', dEnh !== undefined && dEnh < t.highAsr ? `BadNets+ ${pct(dEnh)}` : ''].filter(Boolean);
    if (weak.length) return [inconclusive(`${text}, but on digital images only ${weak.join(', ')}`)];
    return [verdict(enh - p.value >= t.asrGap && p.value < t.lowAsr, text)];
  });
  return parts.length ? combine(parts) : notRun('physical-capture simulation');
}
