/**
 * Defense costs for Table 5, read from upstream artifacts' meta.json `extra` (where stages record
 * measurements of their run) rather than from their output files, which hold results only and so
 * stay identical run to run. A cost is a publication of a measurement: only the cost table and
 * the report that includes it vary between runs.
 */

/** The timing fields the defense stages record with ctx.recordMeta. */
export interface CostMeta {
  /** Optimisation or training time of a model-based defense (fine-pruning, Neural Cleanse, the auto-encoder). */
  costMs?: unknown;
  /** Per-image inference overhead of an input-transform defense (stages/evaluate.ts). */
  overheadMsPerImage?: unknown;
  /** Test images the overhead applies to. */
  testImages?: unknown;
}

const finiteNonNegative = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * Seconds a defense added, from one artifact's meta extra: its optimisation time (costMs), or its
 * per-image overhead times the test images; undefined when the artifact recorded neither.
 */
export function defenseSecondsFromMeta(extra: CostMeta, where: string): number | undefined {
  if (extra.costMs !== undefined) {
    if (!finiteNonNegative(extra.costMs)) throw new RangeError(`${where}: meta extra.costMs must be a non-negative number of milliseconds, got ${JSON.stringify(extra.costMs)}`);
    return extra.costMs / 1000;
  }
  if (extra.overheadMsPerImage === undefined) return undefined;
  if (!finiteNonNegative(extra.overheadMsPerImage)) throw new RangeError(`${where}: meta extra.overheadMsPerImage must be a non-negative number of milliseconds, got ${JSON.stringify(extra.overheadMsPerImage)}`);
  if (!finiteNonNegative(extra.testImages) || !Number.isInteger(extra.testImages)) throw new RangeError(`${where}: meta extra.testImages must be a non-negative integer beside overheadMsPerImage, got ${JSON.stringify(extra.testImages)}`);
  return (extra.overheadMsPerImage * extra.testImages) / 1000;
}

/** Total wall time, in seconds, of the upstream artifacts behind a figure or table (their meta durationMs). */
export function upstreamWallSeconds(durationsMs: number[]): number {
  return durationsMs.reduce((s, ms) => s + ms, 0) / 1000;
}
