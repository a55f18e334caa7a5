/**
 * Claims judged on each replicate seed with the same criteria, then summarised: "holds (3/3
 * seeds)", "mixed (2/3 seeds)", "does not hold (0/3 seeds)". A seed where a claim was inconclusive
 * or not run counts for neither side and is named, so a verdict never rests on seeds that could
 * not judge it. The criteria stay single-seed (claims/), so a seed's verdict is exactly what a
 * one-seed run would have said.
 */
import type { Facts } from './facts.js';
import type { ClaimResult, ClaimStatus } from './claims.js';

/** Seed-level statuses, and 'mixed' where the judged seeds disagree. */
export type OverallStatus = ClaimStatus | 'mixed';

export interface SeedVerdict {
  seed: number;
  status: ClaimStatus;
  ours: string;
  departures: string[];
}

export interface ClaimOverSeeds {
  id: string;
  claim: string;
  source: string;
  paper: string;
  criterion: string;
  status: OverallStatus;
  /** "holds (3/3 seeds)", "mixed (2/3 seeds; seed 2 inconclusive)", with the departures that bear on it. */
  verdict: string;
  /** Seeds whose verdict holds (including "holds where run"), and seeds that could judge the claim at all. */
  holding: number;
  judged: number;
  perSeed: SeedVerdict[];
  departures: string[];
}

const SEED_PREFIX = /^seed(\d+)\/(.+)$/;

/**
 * Per-seed facts from the `seed{N}/` prefixed keys that figures and tables publish. A key
 * without the prefix is a defect of its publisher: the claims must know which seed it is.
 */
export function factsBySeed(facts: Facts): Map<number, Facts> {
  const out = new Map<number, Facts>();
  for (const [key, value] of Object.entries(facts)) {
    const m = SEED_PREFIX.exec(key);
    if (!m) throw new Error(`fact '${key}' has no seed prefix (seed{N}/...); every published fact belongs to one replicate seed`);
    const seed = Number(m[1]);
    if (!out.has(seed)) out.set(seed, {});
    out.get(seed)![m[2]] = value;
  }
  return out;
}

const holds = (s: ClaimStatus) => s === 'holds' || s === 'holds where run';
const seedList = (seeds: number[]) => `seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')}`;

/** One overall verdict from the per-seed verdicts of one claim. */
export function summarise(perSeed: SeedVerdict[]): { status: OverallStatus; verdict: string; holding: number; judged: number } {
  const ran = perSeed.filter((v) => v.status !== 'not run in this profile');
  const held = perSeed.filter((v) => holds(v.status));
  const failed = perSeed.filter((v) => v.status === 'does not hold');
  const inconclusive = perSeed.filter((v) => v.status === 'inconclusive');
  const judged = held.length + failed.length;
  const notes = [
    ...(inconclusive.length ? [`${seedList(inconclusive.map((v) => v.seed))} inconclusive`] : []),
    ...(ran.length < perSeed.length && ran.length > 0 ? [`not run on ${seedList(perSeed.filter((v) => v.status === 'not run in this profile').map((v) => v.seed))}`] : []),
  ];
  const count = `${held.length}/${ran.length} seed${ran.length === 1 ? '' : 's'}${notes.length ? `; ${notes.join('; ')}` : ''}`;
  let status: OverallStatus;
  if (ran.length === 0) status = 'not run in this profile';
  else if (judged === 0) status = 'inconclusive';
  else if (failed.length === 0) status = held.every((v) => v.status === 'holds') ? 'holds' : 'holds where run';
  else if (held.length === 0) status = 'does not hold';
  else status = 'mixed';
  const verdict = status === 'not run in this profile' ? status : `${status} (${count})`;
  return { status, verdict, holding: held.length, judged };
}

/**
 * Judges every claim on every seed with `judge` (the single-seed criteria) and summarises each.
 * Claims come out in the order `judge` gives them; every seed must judge the same claims.
 */
export function claimsOverSeeds(bySeed: Map<number, Facts>, judge: (facts: Facts) => ClaimResult[]): ClaimOverSeeds[] {
  const seeds = [...bySeed.keys()].sort((a, b) => a - b);
  if (seeds.length === 0) throw new Error('claimsOverSeeds: no seed published any fact');
  const results = seeds.map((seed) => ({ seed, claims: judge(bySeed.get(seed)!) }));
  const ids = results[0].claims.map((c) => String(c.id));
  for (const r of results) {
    const got = r.claims.map((c) => String(c.id)).join(',');
    if (got !== ids.join(',')) throw new Error(`seed ${r.seed} judged claims ${got}, seed ${results[0].seed} judged ${ids.join(',')}`);
  }
  return ids.map((id, i) => {
    const first = results[0].claims[i];
    const perSeed = results.map((r) => ({ seed: r.seed, status: r.claims[i].status, ours: r.claims[i].ours, departures: r.claims[i].departures ?? [] }));
    const departures = [...new Set(perSeed.flatMap((v) => v.departures))];
    const s = summarise(perSeed);
    const verdict = departures.length && s.status !== 'not run in this profile' ? `${s.verdict.replace(/\)$/, '')}; ${departures.join('; ')})` : s.verdict;
    return { id, claim: first.claim, source: first.source, paper: first.paper, criterion: first.criterion, ...s, verdict, perSeed, departures };
  });
}
