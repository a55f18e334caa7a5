/**
 * Summaries over replicate seeds for the figures' comparison lines: a number computed from each
 * seed's result, then its mean with the min-max range over seeds ("97.1% (95.0-99.0%, n=3)").
 * The charts aggregate their rows themselves (charts.ts `spread`); this is the text's side.
 */
import { seedStats, type SeedStats } from './seed-stats.js';

/** One quantity over seeds (seed-stats.ts): mean, min, max, std, n. */
export type SeedSummary = SeedStats;

/** The statistic of plain values (seed-stats.ts's seedStats); undefined for none. */
export const statOf = (values: readonly (number | undefined)[]): SeedSummary | undefined => seedStats(values);

/**
 * `pick` applied to each seed's result, summarised over the seeds that have a value. Derived
 * numbers (a ring maximum, a mean over layers) are computed per seed first, so the range is the
 * spread of that number across seeds. Undefined when no seed has one (e.g. an offset not in the grid).
 */
export function statOver<T>(perSeed: readonly T[], pick: (t: T) => number | undefined): SeedSummary | undefined {
  return seedStats(perSeed.map(pick));
}

/**
 * "97.1%" for one seed, "97.1% (95.0–99.0%, n=3)" for several; `scale` multiplies first (100 for
 * fractions shown as percent), `unit` follows the mean and the range.
 */
export function formatStat(s: SeedSummary | undefined, o: { digits?: number; unit?: string; scale?: number; missing?: string } = {}): string {
  if (!s) return o.missing ?? 'not run';
  const f = (v: number) => (v * (o.scale ?? 1)).toFixed(o.digits ?? 1);
  const unit = o.unit ?? '';
  return s.n > 1 ? `${f(s.mean)}${unit} (${f(s.min)}–${f(s.max)}${unit}, n=${s.n})` : `${f(s.mean)}${unit}`;
}

/** A percentage (already on 0-100) with its range over seeds. */
export const pctStat = (s: SeedSummary | undefined, missing?: string): string => formatStat(s, { unit: '%', missing });

/** Items grouped by a key, in the order keys first appear. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = out.get(k);
    if (list) list.push(t);
    else out.set(k, [t]);
  }
  return out;
}

/** A caption's note on replicates (empty for one seed): what is averaged, and whether bars show the range. */
export function seedsNote(seeds: number, o: { what?: string; bars?: boolean } = {}): string {
  if (seeds <= 1) return '';
  return ` Each ${o.what ?? 'point'} is the mean over ${seeds} seeds${o.bars === false ? '' : '; error bars span their minimum to maximum'}.`;
}

/** How many distinct seeds the items carry. */
export const seedCount = (items: readonly { seed: number }[]): number => new Set(items.map((i) => i.seed)).size;
