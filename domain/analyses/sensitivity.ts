/**
 * Section 3.2 (figures 2-3): how a BadNets model's ASR depends on where the test-time trigger sits
 * and on its non-zero pixel value, with the training-time trigger as reference.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../common/types.js';
import { Rng } from '../common/rng.js';
import { moveTrigger, withPixelValue, type Trigger } from '../attacks/trigger.js';
import { asrOn, nonTargetImages } from './asr.js';

export interface SensitivityOptions {
  /** Column shifts to try (negative: left). Shifts that push the trigger off the image are skipped. */
  dx: number[];
  /** Row shifts to try (negative: up). */
  dy: number[];
  /** Non-zero pixel values (0-255) to try at the original location. */
  values: number[];
  batchSize: number;
  target: number;
}

export interface OffsetPoint {
  dx: number;
  dy: number;
  asr: number;
}

export interface SensitivityResult {
  /** ASR with the training trigger unchanged. */
  plainAsr: number;
  /** The trigger's own non-zero value (0-255). */
  originalValue: number;
  grid: OffsetPoint[];
  /** Offsets of the grid that would leave the image, so were not evaluated. */
  skipped: { dx: number; dy: number }[];
  values: { value: number; asr: number }[];
  images: number;
}

function fitsImage(trigger: Trigger, dx: number, dy: number): boolean {
  const [h, w] = trigger.shape;
  return trigger.description.patches.every((p) => {
    const size = [p.layout.length, p.layout[0]?.length ?? 0];
    const bottom = p.bottomRight[0] + dy;
    const right = p.bottomRight[1] + dx;
    return bottom < h && right < w && bottom - size[0] + 1 >= 0 && right - size[1] + 1 >= 0;
  });
}

function checkInts(name: string, list: number[], lo: number, hi: number): void {
  if (!Array.isArray(list) || list.length === 0) throw new RangeError(`sensitivity ${name}: needs a non-empty list, got ${JSON.stringify(list)}`);
  const bad = list.find((v) => !Number.isInteger(v) || v < lo || v > hi);
  if (bad !== undefined) throw new RangeError(`sensitivity ${name}: ${bad} is not an integer in [${lo}, ${hi}]`);
}

/** Every ASR here uses the same non-target images; the RNG is unused (no transform) but kept for the contract. */
export function triggerSensitivity(model: tf.LayersModel, test: LabelledImages, trigger: Trigger, o: SensitivityOptions): SensitivityResult {
  if (trigger.description.patches.length === 0) throw new Error(`sensitivity needs a patch trigger; '${trigger.description.kind}' has no patches to move`);
  const [h, w] = trigger.shape;
  checkInts('dx', o.dx, -(w - 1), w - 1);
  checkInts('dy', o.dy, -(h - 1), h - 1);
  checkInts('values', o.values, 0, 255);
  const images = nonTargetImages(test, o.target);
  const rng = new Rng('sensitivity');
  const asr = (t: Trigger) => asrOn(model, images, t, { batchSize: o.batchSize, target: o.target }, rng);
  const plainAsr = asr(trigger);
  const grid: OffsetPoint[] = [];
  const skipped: { dx: number; dy: number }[] = [];
  for (const dy of o.dy) {
    for (const dx of o.dx) {
      if (!fitsImage(trigger, dx, dy)) {
        skipped.push({ dx, dy });
        continue;
      }
      grid.push({ dx, dy, asr: dx === 0 && dy === 0 ? plainAsr : asr(moveTrigger(trigger, dx, dy)) });
    }
  }
  const originalValue = trigger.description.values.find((v) => v !== 0) ?? 0;
  const values = o.values.map((value) => ({ value, asr: value === originalValue ? plainAsr : asr(withPixelValue(trigger, value)) }));
  return { plainAsr, originalValue, grid, skipped, values, images: images.count };
}

/** Largest ASR over the offsets at Chebyshev distance `radius` from the origin (the claim's "moved by r pixels"). */
export function ringMaximum(grid: OffsetPoint[], radius: number): number | undefined {
  const ring = grid.filter((p) => Math.max(Math.abs(p.dx), Math.abs(p.dy)) === radius);
  return ring.length ? Math.max(...ring.map((p) => p.asr)) : undefined;
}

/** Mean ASR over the offsets at Chebyshev distance `radius`: the trigger "moved by a small distance" in any direction the grid tries. */
export function ringMean(grid: OffsetPoint[], radius: number): number | undefined {
  const ring = grid.filter((p) => Math.max(Math.abs(p.dx), Math.abs(p.dy)) === radius);
  return ring.length ? ring.reduce((s, p) => s + p.asr, 0) / ring.length : undefined;
}

/** ASR along each axis through the origin: the curves of figure 3. */
export function axisCurves(grid: OffsetPoint[]): { axis: 'horizontal (dx)' | 'vertical (dy)'; shift: number; asr: number }[] {
  return [
    ...grid.filter((p) => p.dy === 0).map((p) => ({ axis: 'horizontal (dx)' as const, shift: p.dx, asr: p.asr })),
    ...grid.filter((p) => p.dx === 0).map((p) => ({ axis: 'vertical (dy)' as const, shift: p.dy, asr: p.asr })),
  ].sort((a, b) => a.axis.localeCompare(b.axis) || a.shift - b.shift);
}
