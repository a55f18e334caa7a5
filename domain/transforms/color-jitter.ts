/**
 * Colour shifts in the manner of torchvision's ColorJitter (appendix D, Table 4), on float
 * images in [0, 1]. Semantics followed (torchvision.transforms.ColorJitter, tensor path):
 * - per image, a random order of the four adjustments is drawn, then one factor for each
 *   enabled adjustment (brightness, contrast, saturation, hue, in that order);
 * - brightness: multiply by b in [max(0, 1 - B), 1 + B];
 * - contrast: blend with the mean of the image's grayscale, factor in [max(0, 1 - C), 1 + C];
 * - saturation: blend with the per-pixel grayscale, factor in [max(0, 1 - S), 1 + S];
 * - hue: shift the HSV hue by h in [-H, H] (H <= 0.5), wrapping around;
 * each step clips to [0, 1]. Grayscale uses ITU-R 601 weights as torchvision's rgb_to_grayscale.
 * Torchvision draws these per call, i.e. per image in a data loader; so do we, per image of the batch.
 * A maximum of 0 disables that adjustment (torchvision's None).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageTransform } from '../common/types.js';
import type { Rng } from '../common/rng.js';

export const JITTER_KINDS = ['brightness', 'contrast', 'saturation', 'hue'] as const;
export type JitterKind = (typeof JITTER_KINDS)[number];

/** Maximum perturbation per kind; omitted or 0 means the adjustment is not applied. */
export type ColorJitterOptions = Partial<Record<JitterKind, number>>;

/** One image's draw: the order in which adjustments are applied and each one's factor. */
export interface JitterDraw {
  order: JitterKind[];
  factors: Partial<Record<JitterKind, number>>;
}

/** torchvision's rgb_to_grayscale weights (ITU-R 601-2 luma). */
const LUMA: readonly [number, number, number] = [0.2989, 0.587, 0.114];
/** torchvision rejects hue shifts beyond half a turn. */
const MAX_HUE = 0.5;

export function checkJitterOptions(options: ColorJitterOptions): void {
  for (const key of Object.keys(options)) {
    if (!(JITTER_KINDS as readonly string[]).includes(key)) throw new RangeError(`color-jitter: unknown option '${key}' (allowed: ${JITTER_KINDS.join(', ')})`);
  }
  for (const kind of JITTER_KINDS) {
    const v = options[kind];
    if (v === undefined) continue;
    const upper = kind === 'hue' ? MAX_HUE : Infinity;
    if (!Number.isFinite(v) || v < 0 || v > upper) {
      throw new RangeError(`color-jitter: ${kind} must be a number in [0, ${upper}], got ${v}`);
    }
  }
}

/** Draws the per-image order and factors, in torchvision's draw order. */
export function drawJitter(count: number, options: ColorJitterOptions, rng: Rng): JitterDraw[] {
  checkJitterOptions(options);
  return Array.from({ length: count }, () => {
    const order = rng.permutation(JITTER_KINDS.length).map((i) => JITTER_KINDS[i]);
    const factors: Partial<Record<JitterKind, number>> = {};
    for (const kind of JITTER_KINDS) {
      const m = options[kind] ?? 0;
      if (m === 0) continue;
      factors[kind] = kind === 'hue' ? rng.range(-m, m) : rng.range(Math.max(0, 1 - m), 1 + m);
    }
    return { order, factors };
  });
}

/**
 * Applies explicit draws (one per image). Images whose draw lacks a kind are left alone by that
 * step. At each step only the images doing a given adjustment are computed (gathered, adjusted,
 * and gathered back into place), so the work is one adjustment per image per enabled kind.
 */
export function colorJitterWithDraws(x: tf.Tensor4D, draws: JitterDraw[]): tf.Tensor4D {
  const [n, , , c] = x.shape;
  if (draws.length !== n) throw new RangeError(`color-jitter: ${draws.length} draws for a batch of ${n} images`);
  if (c !== 1 && c !== 3) throw new RangeError(`color-jitter: images must have 1 or 3 channels, got ${c}`);
  return tf.tidy(() => {
    let current: tf.Tensor4D = x.clone();
    for (let step = 0; step < JITTER_KINDS.length; step++) {
      for (const kind of JITTER_KINDS) {
        const rows = draws.flatMap((d, i) => (d.order[step] === kind && d.factors[kind] !== undefined ? [i] : []));
        if (rows.length === 0) continue;
        const factor = tf.tensor4d(rows.map((i) => draws[i].factors[kind] as number), [rows.length, 1, 1, 1]);
        const adjusted = ADJUST[kind](tf.gather(current, rows), factor);
        // Row i of the result: its adjusted version (at n + position in `rows`) or itself.
        const source = Array.from({ length: n }, (_, i) => i);
        rows.forEach((row, k) => (source[row] = n + k));
        current = tf.gather(tf.concat([current, adjusted]), source) as tf.Tensor4D;
      }
    }
    return current;
  });
}

export function colorJitter(options: ColorJitterOptions): ImageTransform {
  checkJitterOptions(options);
  return (x, rng) => colorJitterWithDraws(x, drawJitter(x.shape[0], options, rng));
}

/** Per-pixel grayscale [n, h, w, 1]. */
export function grayscale(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    if (x.shape[3] === 1) return x.clone();
    const [r, g, b] = tf.split(x, 3, 3);
    return tf.addN([tf.mul(r, LUMA[0]), tf.mul(g, LUMA[1]), tf.mul(b, LUMA[2])]) as tf.Tensor4D;
  });
}

function blend(a: tf.Tensor4D, b: tf.Tensor, factor: tf.Tensor4D): tf.Tensor4D {
  return tf.clipByValue(tf.add(tf.mul(a, factor), tf.mul(b, tf.sub(1, factor))), 0, 1) as tf.Tensor4D;
}

const ADJUST: Record<JitterKind, (x: tf.Tensor4D, factor: tf.Tensor4D) => tf.Tensor4D> = {
  brightness: (x, f) => tf.clipByValue(tf.mul(x, f), 0, 1) as tf.Tensor4D,
  contrast: (x, f) => blend(x, tf.mean(grayscale(x), [1, 2, 3], true), f),
  saturation: (x, f) => (x.shape[3] === 1 ? x.clone() : blend(x, grayscale(x), f)),
  hue: (x, f) => (x.shape[3] === 1 ? x.clone() : shiftHue(x, f)),
};

/** RGB -> HSV -> shift hue by `shift` (fraction of a turn) -> RGB, as torchvision's adjust_hue. */
export function shiftHue(x: tf.Tensor4D, shift: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [h, s, v] = rgbToHsv(x);
    const shifted = tf.mod(tf.add(h, shift), 1) as tf.Tensor4D;
    return hsvToRgb(shifted, s, v);
  });
}

/** Returns [h, s, v], each [n, height, width, 1], h in [0, 1). */
export function rgbToHsv(x: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  return tf.tidy(() => {
    const [r, g, b] = tf.split(x, 3, 3) as tf.Tensor4D[];
    const maxc = tf.maximum(tf.maximum(r, g), b);
    const minc = tf.minimum(tf.minimum(r, g), b);
    const flat = tf.equal(maxc, minc);
    const ones = tf.onesLike(maxc);
    const chroma = tf.sub(maxc, minc);
    const s = tf.div(chroma, tf.where(flat, ones, maxc));
    const divisor = tf.where(flat, ones, chroma);
    const rc = tf.div(tf.sub(maxc, r), divisor);
    const gc = tf.div(tf.sub(maxc, g), divisor);
    const bc = tf.div(tf.sub(maxc, b), divisor);
    const isR = tf.equal(maxc, r);
    const isG = tf.logicalAnd(tf.equal(maxc, g), tf.logicalNot(isR));
    const isB = tf.logicalNot(tf.logicalOr(isR, isG));
    const zeros = tf.zerosLike(maxc);
    const hr = tf.where(isR, tf.sub(bc, gc), zeros);
    const hg = tf.where(isG, tf.add(2, tf.sub(rc, bc)), zeros);
    const hb = tf.where(isB, tf.add(4, tf.sub(gc, rc)), zeros);
    const h = tf.mod(tf.add(tf.div(tf.addN([hr, hg, hb]), 6), 1), 1);
    return [h, s, maxc] as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  });
}

export function hsvToRgb(h: tf.Tensor4D, s: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const h6 = tf.mul(h, 6);
    const sector = tf.floor(h6);
    const f = tf.sub(h6, sector);
    const i = tf.mod(sector, 6);
    const p = tf.clipByValue(tf.mul(v, tf.sub(1, s)), 0, 1);
    const q = tf.clipByValue(tf.mul(v, tf.sub(1, tf.mul(s, f))), 0, 1);
    const t = tf.clipByValue(tf.mul(v, tf.sub(1, tf.mul(s, tf.sub(1, f)))), 0, 1);
    // Channel values per hue sector 0..5, as in the standard HSV -> RGB table.
    const table: [tf.Tensor, tf.Tensor, tf.Tensor][] = [
      [v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q],
    ];
    const channels = [0, 1, 2].map((ch) =>
      tf.addN(table.map((row, k) => tf.where(tf.equal(i, k), row[ch], tf.zerosLike(v)))),
    );
    return tf.clipByValue(tf.concat(channels, 3), 0, 1) as tf.Tensor4D;
  });
}
