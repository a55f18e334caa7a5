/**
 * ShrinkPad (section 5.1): shrink each image by `s` pixels with bilinear interpolation, then
 * zero-pad it back to full size at a random offset. Resizing follows torchvision's convention
 * (align_corners=False, half-pixel centres), which is not tfjs's default; see NOTES.md.
 */
import * as tf from '@tensorflow/tfjs';
import { withPixels, type ImageTransform, type PixelTransform } from '../common/types.js';
import type { Rng } from '../common/rng.js';

/** Where one shrunk image sits inside the padded frame: `top` in 0..size rows, `left` in 0..size columns. */
export interface PadOffset {
  top: number;
  left: number;
}

/** One image's draw: shrink size and offset. */
export interface ShrinkPadDraw extends PadOffset {
  size: number;
}

/**
 * Applies ShrinkPad with one explicit draw per image, returning a new tensor. The arithmetic is
 * shrinkPadPixels' on a copy of the batch: one pass over the pixels, where a tensor per image
 * (resize, pad, stack) made the ShrinkPad defense cost more than the model it protects.
 */
export function shrinkPadWithDraws(x: tf.Tensor4D, draws: ShrinkPadDraw[]): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (draws.length !== n) throw new RangeError(`shrinkPad: ${draws.length} draws for a batch of ${n} images`);
  const pixels = Float32Array.from(x.dataSync());
  shrinkPadPixels(pixels, Array.from({ length: n }, (_, i) => i), [h, w, c], draws);
  return tf.tensor4d(pixels, [n, h, w, c]);
}

/** ShrinkPad-`size` with explicit offsets, one per image (tests, reproducible figures). */
export function shrinkPadAt(x: tf.Tensor4D, size: number, offsets: PadOffset[]): tf.Tensor4D {
  return shrinkPadWithDraws(x, offsets.map((o) => ({ size, ...o })));
}

/** Draws one offset per image uniformly from 0..size for both top and left. */
export function drawOffsets(count: number, size: number, rng: Rng): PadOffset[] {
  return Array.from({ length: count }, () => ({ left: rng.int(0, size), top: rng.int(0, size) }));
}

/** ShrinkPad-`size` (the defense): fixed shrink size, random offset drawn per image from `rng`. */
export function shrinkPad(x: tf.Tensor4D, size: number, rng: Rng): tf.Tensor4D {
  checkSize(size, x.shape[1], x.shape[2]);
  return shrinkPadAt(x, size, drawOffsets(x.shape[0], size, rng));
}

/** Draws a shrink size uniformly from 0..maxSize for each image, then its offset. */
export function drawShrinkPad(count: number, maxSize: number, rng: Rng): ShrinkPadDraw[] {
  return Array.from({ length: count }, () => {
    const size = rng.int(0, maxSize);
    return { size, left: rng.int(0, size), top: rng.int(0, size) };
  });
}

/** The enhanced attacks' random ShrinkPad: shrink size uniform in 0..maxSize per image. */
export function randomShrinkPad(maxSize: number): ImageTransform {
  if (!Number.isInteger(maxSize) || maxSize < 0) throw new RangeError(`shrinkpad maxSize must be a non-negative integer, got ${maxSize}`);
  const tensors = (x: tf.Tensor4D, rng: Rng) => {
    checkSize(maxSize, x.shape[1], x.shape[2]);
    return shrinkPadWithDraws(x, drawShrinkPad(x.shape[0], maxSize, rng));
  };
  return withPixels(tensors, (images, rows, shape, rng) => {
    checkSize(maxSize, shape[0], shape[1]);
    shrinkPadPixels(images, rows, shape, drawShrinkPad(rows.length, maxSize, rng));
  });
}

/** The ImageTransform form of the fixed-size defense. */
export function fixedShrinkPad(size: number): ImageTransform {
  return withPixels((x, rng) => shrinkPad(x, size, rng), (images, rows, shape, rng) => {
    checkSize(size, shape[0], shape[1]);
    shrinkPadPixels(images, rows, shape, drawOffsets(rows.length, size, rng).map((o) => ({ size, ...o })));
  });
}

/** Source rows (or columns) and weights of a half-pixel-centred bilinear resize from `from` to `to` samples. */
interface Taps { lo: Int32Array; hi: Int32Array; frac: Float64Array }

function bilinearTaps(from: number, to: number): Taps {
  // tfjs' resizeBilinear with halfPixelCenters (and PyTorch's align_corners=False), sample by sample.
  const ratio = from / to;
  const lo = new Int32Array(to);
  const hi = new Int32Array(to);
  const frac = new Float64Array(to);
  for (let i = 0; i < to; i++) {
    const at = ratio * (i + 0.5) - 0.5;
    lo[i] = Math.max(0, Math.floor(at));
    hi[i] = Math.min(from - 1, Math.ceil(at));
    frac[i] = at - lo[i];
  }
  return { lo, hi, frac };
}

/**
 * ShrinkPad on a float NHWC batch buffer, in place: listed row k gets draws[k]. The same pixels
 * as shrinkPadWithDraws up to float rounding (the test compares them), without a tensor per image.
 */
export function shrinkPadPixels(images: Float32Array, rows: readonly number[], shape: readonly [number, number, number], draws: readonly ShrinkPadDraw[]): void {
  const [h, w, c] = shape;
  if (draws.length !== rows.length) throw new RangeError(`shrinkPad: ${draws.length} draws for ${rows.length} images`);
  draws.forEach((d, i) => checkDraw(d, h, w, i));
  const size = h * w * c;
  const source = new Float32Array(size);
  const tapsBySize = new Map<number, { r: Taps; q: Taps }>();
  rows.forEach((row, k) => {
    const { size: s, top, left } = draws[k];
    const base = row * size;
    if (s === 0) {
      for (let i = base; i < base + size; i++) images[i] = Math.min(1, Math.max(0, images[i]));
      return;
    }
    if (!tapsBySize.has(s)) tapsBySize.set(s, { r: bilinearTaps(h, h - s), q: bilinearTaps(w, w - s) });
    const { r: rt, q: qt } = tapsBySize.get(s)!;
    source.set(images.subarray(base, base + size));
    images.fill(0, base, base + size);
    for (let r = 0; r < h - s; r++) {
      const top0 = rt.lo[r] * w * c;
      const bot0 = rt.hi[r] * w * c;
      const fr = rt.frac[r];
      let out = base + ((r + top) * w + left) * c;
      for (let q = 0; q < w - s; q++) {
        const l = qt.lo[q] * c;
        const rr = qt.hi[q] * c;
        const fq = qt.frac[q];
        for (let ch = 0; ch < c; ch++, out++) {
          const topValue = source[top0 + l + ch] + (source[top0 + rr + ch] - source[top0 + l + ch]) * fq;
          const bottomValue = source[bot0 + l + ch] + (source[bot0 + rr + ch] - source[bot0 + l + ch]) * fq;
          // Bilinear weights are convex, but float rounding can step a hair outside [0, 1].
          images[out] = Math.min(1, Math.max(0, topValue + (bottomValue - topValue) * fr));
        }
      }
    }
  });
}

function checkSize(size: number, h: number, w: number): void {
  if (!Number.isInteger(size) || size < 0 || size >= Math.min(h, w)) {
    throw new RangeError(`shrinkpad size must be an integer in 0..${Math.min(h, w) - 1} for ${h}x${w} images, got ${size}`);
  }
}

function checkDraw(d: ShrinkPadDraw, h: number, w: number, i: number): void {
  checkSize(d.size, h, w);
  for (const [name, v] of [['top', d.top], ['left', d.left]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > d.size) throw new RangeError(`shrinkpad image ${i}: ${name} offset must be an integer in 0..${d.size}, got ${v}`);
  }
}
