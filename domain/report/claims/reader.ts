/**
 * Facts as one claim reads them: every key the claim looks at is recorded, so that the departures
 * that bear on the verdict can be named from the models it actually read.
 */
import { select, type Facts } from '../facts.js';
import type { ClaimThresholds } from './types.js';

export class FactReader {
  readonly keys = new Set<string>();
  constructor(private readonly facts: Facts) {}

  get(key: string): number | undefined {
    if (Object.hasOwn(this.facts, key)) this.keys.add(key);
    return this.facts[key];
  }

  select(pattern: RegExp): { key: string; groups: string[]; value: number }[] {
    const rows = select(this.facts, pattern);
    for (const r of rows) this.keys.add(r.key);
    return rows;
  }

  /** The attack's ASR without defense, which a defense claim presupposes to be high. */
  undefended(arch: string, attack: string, variant: string): number | undefined {
    return this.get(`eval/${arch}/${attack}/${variant}/none/asr`);
  }

  /**
   * A high ASR is evidence of a surviving backdoor only if the same model, under the same defense,
   * does not send clean non-target images to the target as well (NOTES.md: a degraded model that
   * predicts the target for everything shows 100% ASR). Rows whose clean->target rate is recorded
   * and reaches lowAsr cannot support a "still high" claim.
   */
  targetFlooded(t: ClaimThresholds, arch: string, attack: string, variant: string, defense: string): boolean {
    return (this.get(`eval/${arch}/${attack}/${variant}/${defense}/targetRateClean`) ?? 0) >= t.lowAsr;
  }
}

type Row = { groups: string[] };
export const floodNote = (rows: Row[], variant: (r: Row) => string, defense: (r: Row) => string): string =>
  `clean non-target images also go to the target (rate ≥ the low-ASR bound) for ${rows.map((r) => `${r.groups[0]}/${r.groups[1]}${variant(r) === 'enhanced' ? '+' : ''} under ${defense(r)}`).join(', ')}`;
