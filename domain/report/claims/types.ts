/**
 * What every claim module shares: the thresholds (params.json `report.claims`, fixed before any
 * run and never tuned on the test set), the verdict statuses, and the small helpers that build
 * and join verdicts.
 */

export interface ClaimThresholds {
  /** ASR (%) at or above which an attack counts as successful. */
  highAsr: number;
  /** ASR (%) below which an attack counts as defeated. */
  lowAsr: number;
  /** Clean-accuracy points an attack may cost against the benign model. */
  maxCleanDrop: number;
  /** Claim 2, location: the "small distance" (pixels, Chebyshev radius); shifts of 1..maxShiftPixels are read. Ours: the paper's number was lost. */
  maxShiftPixels: number;
  /** Claim 2: ASR points that count as "drop sharply" (location) and "degrades sharply" (appearance). Ours: the paper's numbers were lost. */
  sharpDrop: number;
  /** Claim 2, appearance: "not influenced" means within this many ASR points of the unchanged trigger; also the slack of "degrades along with the decreasing". Ours. */
  fewPoints: number;
  /** Drop in ASR (points) that counts as "decreases dramatically" (figure 12) or "BadNets+ beats BadNets" (section 5.4). */
  asrGap: number;
  /** A transform defense's cost must be below this fraction of the cheapest model-based defense's cost. */
  costFraction: number;
  /** Correlation difference (figure 6) that counts as "differ". */
  cdrpMargin: number;
  /** Claim 7a: share of saliency (0-1) by which enhanced must exceed standard on transformed attacked images. Ours: figure 5 is qualitative. */
  saliencyMargin: number;
  /** Claim 7a: the difference of mean shares must clear the margin by this many standard errors to hold (and miss it by as many to fail); between, inconclusive. */
  saliencyStandardErrors: number;
  /** Claim 7a: fewer images than this per model cannot decide it. */
  saliencyMinImages: number;
}

/**
 * 'inconclusive': the premise failed at this scale (e.g. the attack never worked without defense, so a defense cannot be judged).
 * 'holds where run': every part that ran holds, but some part of the claim was not run in this profile.
 */
export type ClaimStatus = 'holds' | 'holds where run' | 'does not hold' | 'inconclusive' | 'not run in this profile';

export interface ClaimResult {
  /** '1' .. '6', '7a', '7b', '7c'. */
  id: string;
  claim: string;
  source: string;
  paper: string;
  ours: string;
  status: ClaimStatus;
  /** The criterion applied, with its thresholds. */
  criterion: string;
  /** Our departures from the paper that bear on this verdict (each departure's `short` text), because the verdict read a model they affect. */
  departures: string[];
}

export type Verdict = { ours: string; status: ClaimStatus };

export const pct = (v: number): string => `${v.toFixed(1)}%`;
export const range = (vs: number[]): string => {
  const lo = Math.min(...vs), hi = Math.max(...vs);
  return lo === hi ? pct(lo) : `${pct(lo)}–${pct(hi)}`;
};
export const mean = (vs: number[]): number => vs.reduce((a, b) => a + b, 0) / vs.length;

export const notRun = (what: string): Verdict => ({ ours: `${what}: not run in this profile`, status: 'not run in this profile' });
export const inconclusive = (ours: string): Verdict => ({ ours, status: 'inconclusive' });
export const verdict = (ok: boolean, ours: string): Verdict => ({ ours, status: ok ? 'holds' : 'does not hold' });

/**
 * Joins sub-verdicts: any failure fails; else any inconclusive part makes it inconclusive; not run
 * only if none ran; a claim holds outright only if every part ran and held outright (parts may be
 * joins themselves).
 */
export function combine(parts: Verdict[]): Verdict {
  const ran = parts.filter((p) => p.status !== 'not run in this profile');
  const status: ClaimStatus =
    ran.length === 0 ? 'not run in this profile'
    : ran.some((p) => p.status === 'does not hold') ? 'does not hold'
    : ran.some((p) => p.status === 'inconclusive') ? 'inconclusive'
    : ran.length < parts.length || ran.some((p) => p.status === 'holds where run') ? 'holds where run'
    : 'holds';
  return { ours: parts.map((p) => p.ours).join('; '), status };
}
