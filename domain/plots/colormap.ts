/** Colour maps for raster figures (saliency overlays), as piecewise-linear control points. */

export type Rgb = [number, number, number];

/** Five stops of matplotlib's viridis: perceptually uniform and colour-blind safe. */
const VIRIDIS: Rgb[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** Maps t in [0, 1] (clamped) to viridis. */
export function viridis(t: number): Rgb {
  if (Number.isNaN(t)) throw new RangeError('viridis: NaN');
  const u = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const f = u - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * f)) as Rgb;
}

/** Scales values to [0, 1] by their maximum (0 stays 0); an all-zero map stays zero. */
export function normaliseByMax(values: Float32Array): Float32Array {
  let max = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`normaliseByMax: non-finite value ${v}`);
    if (v > max) max = v;
  }
  const out = new Float32Array(values.length);
  if (max > 0) for (let i = 0; i < values.length; i++) out[i] = values[i] / max;
  return out;
}
