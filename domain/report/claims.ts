/**
 * The seven claims of issue 8, each judged from published facts against thresholds that come
 * from params (fixed before any run, never tuned on the test set). A claim whose facts are
 * absent says so instead of guessing.
 */
import { factKey, select, type Facts } from './facts.js';

export interface ClaimThresholds {
  /** ASR (%) at or above which an attack counts as successful. */
  highAsr: number;
  /** ASR (%) below which an attack counts as defeated. */
  lowAsr: number;
  /** Clean-accuracy points an attack may cost against the benign model. */
  maxCleanDrop: number;
  /** Shift (pixels, Chebyshev radius) at which the moved trigger must be below lowAsr. */
  shiftPixels: number;
  /** Non-zero trigger pixel value (0-255) at which ASR must be below lowAsr. */
  lowPixelValue: number;
  /** Drop in ASR (points) that counts as "decreases dramatically" (figure 12) or "BadNets+ beats BadNets" (section 5.4). */
  asrGap: number;
  /** A transform defense's cost must be below this fraction of the cheapest model-based defense's cost. */
  costFraction: number;
  /** Correlation difference (figure 6) that counts as "differ". */
  cdrpMargin: number;
}

/**
 * 'inconclusive': the premise failed at this scale (e.g. the attack never worked without defense, so a defense cannot be judged).
 * 'holds where run': every part that ran holds, but some part of the claim was not run in this profile.
 */
export type ClaimStatus = 'holds' | 'holds where run' | 'does not hold' | 'inconclusive' | 'not run in this profile';

export interface ClaimResult {
  id: number;
  claim: string;
  source: string;
  paper: string;
  ours: string;
  status: ClaimStatus;
  /** The criterion applied, with its thresholds. */
  criterion: string;
}

const pct = (v: number): string => `${v.toFixed(1)}%`;
const range = (vs: number[]): string => {
  const lo = Math.min(...vs), hi = Math.max(...vs);
  return lo === hi ? pct(lo) : `${pct(lo)}–${pct(hi)}`;
};

type Verdict = { ours: string; status: ClaimStatus };
const notRun = (what: string): Verdict => ({ ours: `${what}: not run in this profile`, status: 'not run in this profile' });
/**
 * Joins sub-verdicts: any failure fails; else any inconclusive part makes it inconclusive; not run
 * only if none ran; a claim holds outright only if every part ran.
 */
function combine(parts: Verdict[]): Verdict {
  const ran = parts.filter((p) => p.status !== 'not run in this profile');
  const status: ClaimStatus =
    ran.length === 0 ? 'not run in this profile'
    : ran.some((p) => p.status === 'does not hold') ? 'does not hold'
    : ran.some((p) => p.status === 'inconclusive') ? 'inconclusive'
    : ran.length < parts.length ? 'holds where run'
    : 'holds';
  return { ours: parts.map((p) => p.ours).join('; '), status };
}
const inconclusive = (ours: string): Verdict => ({ ours, status: 'inconclusive' });
/** The attack's ASR without defense, which a defense claim presupposes to be high. */
const undefended = (f: Facts, arch: string, attack: string, variant: string): number | undefined => f[`eval/${arch}/${attack}/${variant}/none/asr`];
const verdict = (ok: boolean, ours: string): Verdict => ({ ours, status: ok ? 'holds' : 'does not hold' });
/**
 * A high ASR is evidence of a surviving backdoor only if the same model, under the same defense,
 * does not send clean non-target images to the target as well (NOTES.md: a degraded model that
 * predicts the target for everything shows 100% ASR). Rows whose clean->target rate is recorded
 * and reaches lowAsr cannot support a "still high" claim.
 */
const targetFlooded = (f: Facts, t: ClaimThresholds, arch: string, attack: string, variant: string, defense: string): boolean =>
  (f[`eval/${arch}/${attack}/${variant}/${defense}/targetRateClean`] ?? 0) >= t.lowAsr;
const floodNote = (rows: { groups: string[] }[], variant: (r: { groups: string[] }) => string, defense: (r: { groups: string[] }) => string): string =>
  `clean non-target images also go to the target (rate ≥ the low-ASR bound) for ${rows.map((r) => `${r.groups[0]}/${r.groups[1]}${variant(r) === 'enhanced' ? '+' : ''} under ${defense(r)}`).join(', ')}`;


function claim1(f: Facts, t: ClaimThresholds): Verdict {
  const asr = select(f, /^eval\/([^/]+)\/(badnets|blended|consistent)\/standard\/none\/asr$/);
  if (asr.length === 0) return notRun('no standard attack evaluated');
  const drops: number[] = [];
  for (const a of asr) {
    const [arch, attack] = a.groups;
    const clean = f[`eval/${arch}/${attack}/standard/none/clean`];
    const benign = f[`eval/${arch}/benign/standard/none/clean`];
    if (clean !== undefined && benign !== undefined) drops.push(benign - clean);
  }
  const asrOk = asr.every((a) => a.value >= t.highAsr);
  const dropOk = drops.every((d) => d <= t.maxCleanDrop);
  const dropRange = drops.length && Math.min(...drops) !== Math.max(...drops) ? `${Math.min(...drops).toFixed(1)} to ${Math.max(...drops).toFixed(1)}` : drops.length ? drops[0].toFixed(1) : '';
  const missing = asr.length - drops.length;
  const dropText =
    drops.length === 0 ? ', clean-accuracy cost: benign model not run in this profile'
    : `, clean-accuracy cost ${dropRange} points${missing > 0 ? ` (${missing} model(s) without a benign or clean figure)` : ''}`;
  const ours = `ASR ${range(asr.map((a) => a.value))} over ${asr.length} model(s)${dropText}`;
  // Half of the criterion is the clean-accuracy cost: without it for every model the claim cannot hold, only fail.
  if (asrOk && dropOk && missing > 0) return inconclusive(ours);
  return verdict(asrOk && dropOk, ours);
}

function claim2(f: Facts, t: ClaimThresholds): Verdict {
  const plain = select(f, /^sensitivity\/([^/]+)\/plain$/);
  if (plain.length === 0) return notRun('sensitivity analysis');
  const parts = plain.map((p) => {
    const arch = p.groups[0];
    const ring = f[`sensitivity/${arch}/ring/${t.shiftPixels}`];
    const low = f[`sensitivity/${arch}/value/${t.lowPixelValue}`];
    if (ring === undefined || low === undefined) return notRun(`${arch}: shift ${t.shiftPixels} px or value ${t.lowPixelValue} not in the grid`);
    if (p.value < t.highAsr) return inconclusive(`${arch}: the unmoved trigger reaches only ${pct(p.value)} ASR, below ${t.highAsr}%`);
    return verdict(ring < t.lowAsr && low < t.lowAsr, `${arch}: ${pct(p.value)} unmoved, at most ${pct(ring)} when moved ${t.shiftPixels} px, ${pct(low)} at pixel value ${t.lowPixelValue}`);
  });
  return combine(parts);
}

function claim3(f: Facts, t: ClaimThresholds): Verdict {
  const parts: Verdict[] = [];
  for (const defense of ['flip', 'shrinkpad-4']) {
    const rows = select(f, new RegExp(`^eval/([^/]+)/(badnets|blended|consistent)/standard/${defense}/asr$`));
    if (rows.length === 0) {
      parts.push(notRun(defense));
      continue;
    }
    for (const r of rows) {
      const [arch, attack] = r.groups;
      const before = undefended(f, arch, attack, 'standard');
      if (before === undefined || before < t.highAsr) {
        parts.push(inconclusive(`${defense} ${arch}/${attack} ${pct(r.value)}, but undefended ASR ${before === undefined ? 'not run' : pct(before)}`));
        continue;
      }
      const shouldSurvive = defense === 'flip' && attack === 'consistent';
      if (shouldSurvive && targetFlooded(f, t, arch, attack, 'standard', defense)) {
        parts.push(inconclusive(floodNote([r], () => 'standard', () => defense)));
        continue;
      }
      const ok = shouldSurvive ? r.value >= t.lowAsr : r.value < t.lowAsr;
      parts.push(verdict(ok, `${defense} ${arch}/${attack} ${pct(r.value)}`));
    }
  }
  return combine(parts);
}

function claim4(f: Facts, t: ClaimThresholds): Verdict {
  const rows = select(f, /^eval\/([^/]+)\/(badnets|blended|consistent)\/standard\/(noise-[^/]+|jitter-[^/]+)\/asr$/);
  if (rows.length === 0) return notRun('noise and colour-shift evaluations');
  const working = rows.filter((r) => (undefended(f, r.groups[0], r.groups[1], 'standard') ?? 0) >= t.highAsr);
  if (working.length === 0) return inconclusive(`no attack reached ${t.highAsr}% ASR without defense, so noise and colour shifts cannot be judged (ASR under them ${range(rows.map((r) => r.value))})`);
  const flooded = working.filter((r) => targetFlooded(f, t, r.groups[0], r.groups[1], 'standard', r.groups[2]));
  const judged = working.filter((r) => !flooded.includes(r));
  const noise = judged.filter((r) => r.groups[2].startsWith('noise-'));
  const colour = judged.filter((r) => !r.groups[2].startsWith('noise-'));
  const parts: Verdict[] = [];
  if (flooded.length) parts.push(inconclusive(floodNote(flooded, () => 'standard', (r) => r.groups[2])));
  if (noise.length) parts.push(verdict(noise.every((r) => r.value >= t.highAsr), `noise ASR ${range(noise.map((r) => r.value))}`));
  if (colour.length) parts.push(verdict(colour.every((r) => r.value >= t.highAsr), `colour-shift ASR ${range(colour.map((r) => r.value))}`));
  return combine(parts);
}

function claim5(f: Facts, t: ClaimThresholds): Verdict {
  const parts: Verdict[] = [];
  const enhanced = select(f, /^eval\/([^/]+)\/(badnets|blended|consistent)\/enhanced\/(flip|shrinkpad-4)\/asr$/);
  const unworking = enhanced.filter((r) => (undefended(f, r.groups[0], r.groups[1], 'enhanced') ?? 0) < t.highAsr);
  const flooded = enhanced.filter((r) => targetFlooded(f, t, r.groups[0], r.groups[1], 'enhanced', r.groups[2]));
  if (unworking.length) parts.push(inconclusive(`enhanced attacks below ${t.highAsr}% ASR even without defense: ${[...new Set(unworking.map((r) => `${r.groups[0]}/${r.groups[1]}+`))].join(', ')}`));
  else if (flooded.length && flooded.length === enhanced.length) parts.push(inconclusive(floodNote(flooded, () => 'enhanced', (r) => r.groups[2])));
  else if (flooded.length) {
    const judged = enhanced.filter((r) => !flooded.includes(r));
    parts.push(inconclusive(floodNote(flooded, () => 'enhanced', (r) => r.groups[2])));
    parts.push(verdict(judged.every((r) => r.value >= t.highAsr), `enhanced ASR under Flip/ShrinkPad-4 ${range(judged.map((r) => r.value))}`));
  } else parts.push(enhanced.length ? verdict(enhanced.every((r) => r.value >= t.highAsr), `enhanced ASR under Flip/ShrinkPad-4 ${range(enhanced.map((r) => r.value))}`) : notRun('enhanced attacks under Flip/ShrinkPad-4'));
  const ablation = select(f, /^ablation\/([^/]+)\/([^/]+)\/enhanced\/shrinkpad\/(\d+)$/);
  const sMax = f['ablation/sMax'];
  const ablationWorks = ablation.filter((r) => (undefended(f, r.groups[0], r.groups[1], 'enhanced') ?? 0) >= t.highAsr);
  if (ablation.length && ablationWorks.length === 0) parts.push(inconclusive(`figure 12: no enhanced attack reaches ${t.highAsr}% ASR without defense`));
  else if (ablation.length && sMax !== undefined) {
    const within = ablationWorks.filter((r) => Number(r.groups[2]) <= sMax).map((r) => r.value);
    const beyond = ablationWorks.filter((r) => Number(r.groups[2]) > sMax).map((r) => r.value);
    if (within.length && beyond.length) {
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      parts.push(verdict(mean(within) - mean(beyond) >= t.asrGap, `figure 12: mean ASR ${pct(mean(within))} for s ≤ ${sMax}, ${pct(mean(beyond))} for s > ${sMax}`));
    } else parts.push(notRun(`figure 12 sizes on both sides of s_max = ${sMax}`));
  } else parts.push(notRun('figure 12'));
  return combine(parts);
}

function claim6(f: Facts, t: ClaimThresholds): Verdict {
  const costs = select(f, /^cost\/([^/]+)\/([^/]+)$/);
  if (costs.length === 0) return notRun('defense costs');
  const archs = [...new Set(costs.map((c) => c.groups[0]))];
  const parts = archs.map((arch) => {
    const mine = costs.filter((c) => c.groups[0] === arch);
    const transforms = mine.filter((c) => /^(flip|shrinkpad)/.test(c.groups[1]));
    const baselines = mine.filter((c) => !/^(flip|shrinkpad)/.test(c.groups[1]));
    if (!transforms.length || !baselines.length) return notRun(`${arch}: transform or baseline costs`);
    const cheapest = Math.min(...baselines.map((b) => b.value));
    const worst = Math.max(...transforms.map((c) => c.value));
    return verdict(worst < t.costFraction * cheapest, `${arch}: transforms ≤ ${worst.toFixed(2)} s, cheapest baseline ${cheapest.toFixed(1)} s`);
  });
  return combine(parts);
}

function claim7(f: Facts, t: ClaimThresholds): Verdict {
  const parts: Verdict[] = [];
  const sal = select(f, /^saliency\/([^/]+)\/([^/]+)\/(standard|enhanced)\/transformed\/triggerMass$/);
  const salStd = sal.filter((s) => s.groups[2] === 'standard');
  const salEnh = sal.filter((s) => s.groups[2] === 'enhanced');
  if (salStd.length && salEnh.length) {
    const s = Math.max(...salStd.map((x) => x.value));
    const e = Math.min(...salEnh.map((x) => x.value));
    parts.push(verdict(e > s, `saliency on the trigger for transformed attacked images: ${(100 * s).toFixed(1)}% (standard) vs ${(100 * e).toFixed(1)}% (enhanced)`));
  } else parts.push(notRun('saliency'));
  const cdrp = select(f, /^cdrp\/([^/]+)\/([^/]+)\/(standard|enhanced)\/(benign-transformed|attacked-transformed)\/mean$/);
  // Every model with both pairs is judged on its own pair gap: standard models need r(benign, transformed) above r(attacked, transformed), enhanced ones the reverse.
  const cdrpModels = [...new Set(cdrp.map((c) => `${c.groups[0]}/${c.groups[1]}/${c.groups[2]}`))].flatMap((model) => {
    const [arch, attack, variant] = model.split('/');
    const bt = f[factKey.cdrpMean(arch, attack, variant, 'benign-transformed')];
    const at = f[factKey.cdrpMean(arch, attack, variant, 'attacked-transformed')];
    return bt === undefined || at === undefined ? [] : [{ model, variant, bt, at, gap: variant === 'standard' ? bt - at : at - bt }];
  });
  if (cdrpModels.some((m) => m.variant === 'standard') && cdrpModels.some((m) => m.variant === 'enhanced')) {
    const ok = cdrpModels.every((m) => m.gap >= t.cdrpMargin);
    parts.push(verdict(ok, `CDRP mean correlation benign–transformed vs attacked–transformed: ${cdrpModels.map((m) => `${m.model} ${m.bt.toFixed(2)} vs ${m.at.toFixed(2)}`).join(', ')}`));
  } else parts.push(notRun('CDRP'));
  const phys = select(f, /^physical\/([^/]+)\/badnets\/(standard|enhanced)\/asr$/);
  const pStd = phys.find((p) => p.groups[1] === 'standard');
  const pEnh = phys.find((p) => p.groups[1] === 'enhanced');
  const digital = pEnh ? f[`physical/${pEnh.groups[0]}/badnets/enhanced/digitalAsr`] : undefined;
  if (pStd && pEnh && digital !== undefined && digital < t.highAsr) parts.push(inconclusive(`simulated capture: BadNets+ reaches only ${pct(digital)} on digital images`));
  else if (pStd && pEnh) parts.push(verdict(pEnh.value - pStd.value >= t.asrGap && pStd.value < t.lowAsr, `simulated capture: BadNets ${pct(pStd.value)}, BadNets+ ${pct(pEnh.value)}`));
  else parts.push(notRun('physical-capture simulation'));
  return combine(parts);
}

interface ClaimDef {
  claim: string;
  source: string;
  paper: string;
  criterion: (t: ClaimThresholds) => string;
  judge: (f: Facts, t: ClaimThresholds) => Verdict;
}

const CLAIMS: ClaimDef[] = [
  {
    claim: 'Static-trigger attacks reach high ASR with little clean-accuracy loss',
    source: 'Table 1, Standard',
    paper: 'ASR 95.6–100%, clean accuracy 91.3–94.1%',
    criterion: (t) => `every standard attack ASR ≥ ${t.highAsr}% and clean drop vs benign ≤ ${t.maxCleanDrop} points`,
    judge: claim1,
  },
  {
    claim: 'Moving the trigger a few pixels, or lowering its pixel value, collapses ASR',
    source: 'Figures 2-3',
    paper: 'ASR drops sharply within a few pixels (exact values lost in extraction) and as the value drops below 128',
    criterion: (t) => `unmoved ASR ≥ ${t.highAsr}%, max ASR at shift ${t.shiftPixels} px < ${t.lowAsr}%, ASR at value ${t.lowPixelValue} < ${t.lowAsr}%`,
    judge: claim2,
  },
  {
    claim: 'Flip defeats BadNets and Blended but not the symmetric label-consistent trigger; ShrinkPad-4 defeats all three',
    source: 'Table 1',
    paper: 'Flip ASR 0.8–1.1% (BadNets, Blended), 95.7–98.8% (Consistent); ShrinkPad-4 ASR 1.5–4.8%',
    criterion: (t) => `defeated: ASR < ${t.lowAsr}%; Flip on Consistent must stay ≥ ${t.lowAsr}%`,
    judge: claim3,
  },
  {
    claim: 'Gaussian noise and colour shifts do not defend',
    source: 'Tables 3-4',
    paper: 'ASR 92.6–100% under every noise std and colour shift',
    criterion: (t) => `every ASR ≥ ${t.highAsr}%`,
    judge: claim4,
  },
  {
    claim: "Enhanced attacks keep high ASR under Flip and ShrinkPad, unless ShrinkPad's size exceeds s_max",
    source: 'Table 2, Figures 12-13',
    paper: 'enhanced ASR 86.3–100% under Flip/ShrinkPad-4; drops dramatically for ShrinkPad-s with s > 4',
    criterion: (t) => `enhanced ASR ≥ ${t.highAsr}% under Flip and ShrinkPad-4; mean ASR for s ≤ s_max exceeds s > s_max by ≥ ${t.asrGap} points`,
    judge: claim5,
  },
  {
    claim: 'Transform defenses cost almost nothing next to Fine-Pruning, Neural Cleanse and Auto-Encoder',
    source: 'Table 5',
    paper: 'Flip and ShrinkPad 0; Fine-Pruning 400–600, Neural Cleanse 30000–80000, Auto-Encoder 2000 (unit not in the extracted text)',
    criterion: (t) => `each transform's cost < ${t.costFraction} × the cheapest baseline's`,
    judge: claim6,
  },
  {
    claim: 'Saliency and routing paths differ between standard and enhanced attacks; the physical capture defeats BadNets but not BadNets+',
    source: 'Figures 5-6, section 5.4',
    paper: 'qualitative (figures; section 5.4 photographs)',
    criterion: (t) =>
      `saliency share on the trigger of transformed attacked images higher for enhanced; CDRP standard: r(benign,transformed) − r(attacked,transformed) ≥ ${t.cdrpMargin}, enhanced: the reverse; simulation: BadNets ASR < ${t.lowAsr}% and BadNets+ ≥ ${t.asrGap} points higher`,
    judge: claim7,
  },
];

export function evaluateClaims(facts: Facts, t: ClaimThresholds): ClaimResult[] {
  return CLAIMS.map((c, i) => {
    const v = c.judge(facts, t);
    return { id: i + 1, claim: c.claim, source: c.source, paper: c.paper, ours: v.ours, status: v.status, criterion: c.criterion(t) };
  });
}

export const CLAIM_COUNT = CLAIMS.length;
