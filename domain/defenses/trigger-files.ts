/**
 * Writing and reading Neural Cleanse's reversed triggers: every class's mask and pattern as
 * .npy (exact values) and as PNG (to look at), and one class's result as a checkpoint so that a
 * killed run resumes after the last finished class.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { readNpy, writeNpy } from '../common/npy.js';
import type { ReversedTrigger } from './neural-cleanse.js';

function toBytes(values: Float32Array): Buffer {
  return Buffer.from(Uint8Array.from(values, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)));
}

/** A [0, 1] image as PNG, enlarged by `scale` with nearest-neighbour so single pixels stay visible. */
export async function writePng(path: string, values: Float32Array, [h, w, c]: [number, number, number], scale: number): Promise<void> {
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`PNG scale must be a positive integer, got ${scale}`);
  await sharp(toBytes(values), { raw: { width: w, height: h, channels: c as 1 | 3 } })
    .resize(w * scale, h * scale, { kernel: 'nearest' })
    .png()
    .toFile(path);
}

/**
 * Writes masks.npy [K, H, W], patterns.npy [K, H, W, C], and per class mask_<k>.png,
 * pattern_<k>.png and trigger_<k>.png (mask * pattern, what the trigger adds to an image).
 */
export async function writeReversedTriggers(dir: string, triggers: ReversedTrigger[], shape: [number, number, number], pngScale: number): Promise<void> {
  const [h, w, c] = shape;
  await fs.mkdir(dir, { recursive: true });
  const masks = new Float32Array(triggers.length * h * w);
  const patterns = new Float32Array(triggers.length * h * w * c);
  for (const [k, t] of triggers.entries()) {
    masks.set(t.mask, k * h * w);
    patterns.set(t.pattern, k * h * w * c);
    const applied = t.pattern.map((v, i) => v * t.mask[Math.floor(i / c)]);
    await writePng(join(dir, `mask_${t.label}.png`), t.mask, [h, w, 1], pngScale);
    await writePng(join(dir, `pattern_${t.label}.png`), t.pattern, shape, pngScale);
    await writePng(join(dir, `trigger_${t.label}.png`), applied, shape, pngScale);
  }
  await writeNpy(join(dir, 'masks.npy'), masks, [triggers.length, h, w]);
  await writeNpy(join(dir, 'patterns.npy'), patterns, [triggers.length, h, w, c]);
}

type TriggerSummary = Omit<ReversedTrigger, 'mask' | 'pattern'>;

/** One finished class: its reversed trigger and the optimisation time it took (for the cost). */
export interface ClassCheckpoint {
  trigger: ReversedTrigger;
  ms: number;
}

export async function saveClassCheckpoint(dir: string, { trigger: t, ms }: ClassCheckpoint, shape: [number, number, number]): Promise<void> {
  const [h, w, c] = shape;
  await fs.mkdir(dir, { recursive: true });
  await writeNpy(join(dir, `mask_${t.label}.npy`), t.mask, [h, w]);
  await writeNpy(join(dir, `pattern_${t.label}.npy`), t.pattern, [h, w, c]);
  const { mask: _m, pattern: _p, ...summary } = t;
  // The JSON goes last: its presence marks the class as finished.
  await fs.writeFile(join(dir, `class_${t.label}.json`), JSON.stringify({ ...summary, ms }));
}

export async function loadClassCheckpoint(dir: string, label: number): Promise<ClassCheckpoint | null> {
  let summary: TriggerSummary & { ms: number };
  try {
    summary = JSON.parse(await fs.readFile(join(dir, `class_${label}.json`), 'utf8'));
  } catch {
    return null;
  }
  const mask = await readNpy(join(dir, `mask_${label}.npy`));
  const pattern = await readNpy(join(dir, `pattern_${label}.npy`));
  const { ms, ...rest } = summary;
  return { trigger: { ...rest, mask: mask.data as Float32Array, pattern: pattern.data as Float32Array }, ms };
}
