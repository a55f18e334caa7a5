/**
 * A paper table over replicate seeds. Each table builder runs once per seed (its own metrics and
 * facts) and once on the metrics averaged over seeds (the layout, captions and comparison lines);
 * every value cell of the averaged table then gets its spread from the per-seed cells at the same
 * place. The builders stay single-seed, so the seed logic lives here once.
 */
import type { ResultTable, Cell } from './tables.js';
import type { TableMetrics } from './paper-tables.js';
import { seedStats } from './seed-stats.js';

export interface SeedTable {
  seed: number;
  table: ResultTable;
}

/** The mean over seeds of one evaluation's metrics (only the seeds that ran it); undefined if none did. */
export function meanOfMetrics(perSeed: readonly (TableMetrics | undefined)[]): TableMetrics | undefined {
  const ran = perSeed.filter((m): m is TableMetrics => m !== undefined);
  if (ran.length === 0) return undefined;
  const mean = (f: (m: TableMetrics) => number | undefined) => seedStats(ran.map(f))?.mean;
  const out: TableMetrics = { clean: mean((m) => m.clean)! };
  const asr = mean((m) => m.asr);
  const targetRateClean = mean((m) => m.targetRateClean);
  const defenseSeconds = mean((m) => m.defenseSeconds);
  if (asr !== undefined) out.asr = asr;
  if (targetRateClean !== undefined) out.targetRateClean = targetRateClean;
  if (defenseSeconds !== undefined) out.defenseSeconds = defenseSeconds;
  // A detection (which class Neural Cleanse flagged) is one seed's event, not a number to average: the table stage lists it per seed.
  return out;
}

function sameLayout(a: ResultTable, b: ResultTable): void {
  const cols = (t: ResultTable) => t.columns.map((c) => c.key).join(',');
  if (a.id !== b.id || a.rows.length !== b.rows.length || cols(a) !== cols(b)) {
    throw new Error(`table ${a.id}: a seed's table has another layout (${b.rows.length} rows, columns ${cols(b)}) than the averaged one (${a.rows.length} rows, columns ${cols(a)})`);
  }
}

/**
 * The averaged table with each value cell's spread (min, max, std, n over the seeds that have a
 * value there). The cell's "ours" is recomputed as the mean of those per-seed values, which the
 * averaged build also gives; recomputing keeps both from ever disagreeing.
 */
export function withSeedSpread(mean: ResultTable, perSeed: readonly SeedTable[]): ResultTable {
  for (const s of perSeed) sameLayout(mean, s.table);
  const rows = mean.rows.map((row, i) => {
    const out: Record<string, Cell> = {};
    for (const [key, cell] of Object.entries(row)) {
      if (cell.kind !== 'value') {
        out[key] = cell;
        continue;
      }
      const values = perSeed.map((s) => {
        const c = s.table.rows[i][key];
        return c && c.kind === 'value' ? c.ours : undefined;
      });
      const stats = seedStats(values);
      out[key] = stats ? { ...cell, ours: stats.mean, spread: stats } : cell;
    }
    return out;
  });
  return { ...mean, rows, seeds: perSeed.map((s) => s.seed) };
}
