/**
 * One trigger representation for every attack (eq. 1): a pattern t and a weight mask lambda of
 * image size, stamped as x' = (1 - lambda) * x + lambda * t. A universal perturbation is
 * image-independent only as an additive trigger, so a trigger is either 'blend' (eq. 1) or
 * 'additive' (x' = clip(x + lambda * t, 0, 1), pattern in [-1, 1]).
 *
 * Patch triggers (BadNets, Blended, label-consistent) are rebuilt from their description, so that
 * section 3.2 can move them or change their pixel value and get an exact trigger back.
 *
 * The 3x3 layout default is a checkerboard whose four corners and centre carry the non-zero value
 * and whose four edge midpoints are black: [[1,0,1],[0,1,0],[1,0,1]]. The paper's Figure 1 (a
 * black-gray / black-white square) is lost in extraction; the layout is a param so it can change.
 */
import * as tf from '@tensorflow/tfjs';

export type TriggerKind = 'badnets' | 'blended' | 'consistent' | 'uap';
export type StampMode = 'blend' | 'additive';

/** A square-ish block of cells: 1 = the trigger's non-zero value, 0 = black; lambda covers every cell. */
export type PatchLayout = number[][];

export interface PatchPlacement {
  /** [row, col] of the patch's bottom-right pixel. */
  bottomRight: [number, number];
  layout: PatchLayout;
}

export interface TriggerDescription {
  kind: TriggerKind;
  mode: StampMode;
  /** [row, col] of the bottom-right pixel of the minimum covering box of every non-zero lambda entry. */
  bottomRight: [number, number];
  /** [height, width] of that box. */
  size: [number, number];
  /** Pixel values present in the patches on the 0-255 scale (black and the non-zero value); empty for a perturbation. */
  values: number[];
  /** lambda inside the patches (1 for BadNets, 0.2 for Blended) or scale of an additive perturbation. */
  alpha: number;
  /** The patches the trigger is built from; empty for a perturbation trigger. */
  patches: PatchPlacement[];
  /** Free-form facts about how the trigger was made (norm bound of a perturbation...). */
  notes?: Record<string, number | string>;
}

export interface Trigger {
  /** [height, width, channels] of the images it applies to. */
  shape: [number, number, number];
  /** HWC; in [0, 1] for 'blend', in [-1, 1] for 'additive'. */
  pattern: Float32Array;
  /** HWC in [0, 1]. */
  mask: Float32Array;
  description: TriggerDescription;
}

export const DEFAULT_LAYOUT: PatchLayout = [
  [1, 0, 1],
  [0, 1, 0],
  [1, 0, 1],
];

export interface PatchTriggerOptions {
  /** [height, width, channels] of the images. */
  imageShape: [number, number, number];
  /** The non-zero pixel value, 0-255 (128 black-gray in section 3, 255 black-white in section 5). */
  value: number;
  /** lambda inside the box. */
  alpha: number;
  layout?: PatchLayout;
  /** Bottom-right pixel of the patch; defaults to the image's bottom-right corner. */
  bottomRight?: [number, number];
}

/** Builds a patch trigger from its description; the one place where patterns and masks are made. */
export function triggerFromDescription(description: TriggerDescription, imageShape: [number, number, number]): Trigger {
  if (description.mode !== 'blend') throw new RangeError(`triggerFromDescription: only patch ('blend') triggers are rebuilt from a description, got mode '${description.mode}'`);
  const [h, w, c] = imageShape;
  const pattern = new Float32Array(h * w * c);
  const mask = new Float32Array(h * w * c);
  const value = description.values.find((v) => v !== 0) ?? 0;
  for (const patch of description.patches) {
    const [bottom, right] = patch.bottomRight;
    const rows = patch.layout.length;
    const cols = patch.layout[0].length;
    const top = bottom - rows + 1;
    const left = right - cols + 1;
    if (top < 0 || left < 0 || bottom >= h || right >= w) {
      throw new RangeError(`trigger patch ending at [${bottom}, ${right}] (size ${rows}x${cols}) does not fit in a ${h}x${w} image`);
    }
    patch.layout.forEach((row, r) => row.forEach((cell, q) => {
      for (let ch = 0; ch < c; ch++) {
        const i = ((top + r) * w + (left + q)) * c + ch;
        pattern[i] = cell ? value / 255 : 0;
        mask[i] = description.alpha;
      }
    }));
  }
  return { shape: [h, w, c], pattern, mask, description: { ...description, ...coveringBox(description.patches) } };
}

function coveringBox(patches: PatchPlacement[]): { bottomRight: [number, number]; size: [number, number] } {
  const tops = patches.map((p) => p.bottomRight[0] - p.layout.length + 1);
  const lefts = patches.map((p) => p.bottomRight[1] - p.layout[0].length + 1);
  const bottom = Math.max(...patches.map((p) => p.bottomRight[0]));
  const right = Math.max(...patches.map((p) => p.bottomRight[1]));
  return { bottomRight: [bottom, right], size: [bottom - Math.min(...tops) + 1, right - Math.min(...lefts) + 1] };
}

function checkLayout(layout: PatchLayout): void {
  const ok = layout.length > 0 && layout.every((row) => row.length === layout[0].length && row.length > 0 && row.every((v) => v === 0 || v === 1));
  if (!ok) throw new RangeError(`trigger layout must be a non-empty rectangular grid of 0/1, got ${JSON.stringify(layout)}`);
}

function checkPixel(value: number, name: string): void {
  if (!(Number.isFinite(value) && value >= 0 && value <= 255)) throw new RangeError(`${name} must be a pixel value in 0..255, got ${value}`);
}

function checkAlpha(alpha: number): void {
  if (!(Number.isFinite(alpha) && alpha > 0 && alpha <= 1)) throw new RangeError(`trigger alpha (lambda) must be in (0, 1], got ${alpha}`);
}

function patchTrigger(kind: TriggerKind, o: PatchTriggerOptions): Trigger {
  const layout = o.layout ?? DEFAULT_LAYOUT;
  checkLayout(layout);
  checkPixel(o.value, `${kind} trigger value`);
  checkAlpha(o.alpha);
  const [h, w] = o.imageShape;
  const bottomRight = o.bottomRight ?? [h - 1, w - 1];
  return triggerFromDescription(
    { kind, mode: 'blend', bottomRight, size: [layout.length, layout[0].length], values: [0, o.value], alpha: o.alpha, patches: [{ bottomRight, layout }] },
    o.imageShape,
  );
}

/** BadNets: the layout at the bottom-right corner, lambda `alpha` (1 in the paper) in the box. */
export const badNetsTrigger = (o: PatchTriggerOptions): Trigger => patchTrigger('badnets', o);

/** Blended: the same box with lambda `alpha` (0.2 in the paper). */
export const blendedTrigger = (o: PatchTriggerOptions): Trigger => patchTrigger('blended', o);

const mirrorRows = (l: PatchLayout): PatchLayout => [...l].reverse();
const mirrorCols = (l: PatchLayout): PatchLayout => l.map((row) => [...row].reverse());

/**
 * Label-consistent (Turner et al.): the layout in all four corners, mirrored so that the whole
 * trigger is symmetric under left-right and up-down flips (the reason Flip does not defend it).
 * The layout given is the bottom-right one.
 */
export function fourCornerTrigger(o: Omit<PatchTriggerOptions, 'bottomRight'>): Trigger {
  const layout = o.layout ?? DEFAULT_LAYOUT;
  checkLayout(layout);
  checkPixel(o.value, 'consistent trigger value');
  checkAlpha(o.alpha);
  const [h, w] = o.imageShape;
  const rows = layout.length;
  const cols = layout[0].length;
  const patches: PatchPlacement[] = [
    { bottomRight: [h - 1, w - 1], layout },
    { bottomRight: [h - 1, cols - 1], layout: mirrorCols(layout) },
    { bottomRight: [rows - 1, w - 1], layout: mirrorRows(layout) },
    { bottomRight: [rows - 1, cols - 1], layout: mirrorRows(mirrorCols(layout)) },
  ];
  return triggerFromDescription(
    { kind: 'consistent', mode: 'blend', bottomRight: [h - 1, w - 1], size: [h, w], values: [0, o.value], alpha: o.alpha, patches },
    o.imageShape,
  );
}

/**
 * A full-image additive trigger from a perturbation delta (HWC, float, on the [0, 1] pixel scale):
 * x' = clip(x + delta, 0, 1), lambda = 1 everywhere.
 */
export function perturbationTrigger(delta: Float32Array, imageShape: [number, number, number], notes: Record<string, number | string> = {}): Trigger {
  const [h, w, c] = imageShape;
  if (delta.length !== h * w * c) throw new RangeError(`perturbation has ${delta.length} values, a ${h}x${w}x${c} image needs ${h * w * c}`);
  const bad = delta.findIndex((v) => !(Number.isFinite(v) && v >= -1 && v <= 1));
  if (bad >= 0) throw new RangeError(`perturbation value #${bad} is ${delta[bad]}, allowed range is [-1, 1]`);
  return {
    shape: [h, w, c],
    pattern: Float32Array.from(delta),
    mask: new Float32Array(h * w * c).fill(1),
    description: { kind: 'uap', mode: 'additive', bottomRight: [h - 1, w - 1], size: [h, w], values: [], alpha: 1, patches: [], notes },
  };
}

function checkTriggerFits(trigger: Trigger, [h, w, c]: readonly [number, number, number]): void {
  const [th, tw, tc] = trigger.shape;
  if (h !== th || w !== tw || c !== tc) throw new RangeError(`trigger is for ${th}x${tw}x${tc} images, batch has ${h}x${w}x${c}`);
}

/** Stamps the trigger on every image of an NHWC batch in [0, 1] (eq. 1, or its additive form). */
export function stamp(x: tf.Tensor4D, trigger: Trigger): tf.Tensor4D {
  checkTriggerFits(trigger, [x.shape[1], x.shape[2], x.shape[3]]);
  return tf.tidy(() => {
    const t = tf.tensor3d(trigger.pattern, trigger.shape);
    const lambda = tf.tensor3d(trigger.mask, trigger.shape);
    if (trigger.description.mode === 'additive') return tf.clipByValue(tf.add(x, tf.mul(lambda, t)), 0, 1) as tf.Tensor4D;
    return tf.add(tf.mul(x, tf.sub(1, lambda)), tf.mul(lambda, t)) as tf.Tensor4D;
  });
}

/**
 * `stamp` on the listed rows of a float NHWC batch buffer, in place, for the training batches.
 * Each product and sum is rounded to float32 as the tensor form rounds it, so the pixels are
 * the same bit for bit; pixels where lambda is 0 are left alone (x * 1 + 0 * t is x).
 */
export function stampInPlace(images: Float32Array, rows: readonly number[], shape: readonly [number, number, number], trigger: Trigger): void {
  checkTriggerFits(trigger, shape);
  const size = shape[0] * shape[1] * shape[2];
  const additive = trigger.description.mode === 'additive';
  const active: number[] = [];
  for (let i = 0; i < size; i++) if (trigger.mask[i] !== 0) active.push(i);
  const f = Math.fround;
  const keep = Float32Array.from(active, (i) => f(1 - trigger.mask[i]));
  const added = Float32Array.from(active, (i) => f(trigger.mask[i] * trigger.pattern[i]));
  for (const row of rows) {
    const base = row * size;
    if (base + size > images.length) throw new RangeError(`stampInPlace: row ${row} is outside a buffer of ${images.length / size} images`);
    for (let k = 0; k < active.length; k++) {
      const at = base + active[k];
      images[at] = additive ? Math.min(1, Math.max(0, f(images[at] + added[k]))) : f(f(images[at] * keep[k]) + added[k]);
    }
  }
}

/**
 * Moves a patch trigger by `dx` columns (positive: right) and `dy` rows (positive: down), keeping
 * its appearance (section 3.2, effect of location). Fails if it would leave the image.
 */
export function moveTrigger(trigger: Trigger, dx: number, dy: number): Trigger {
  if (!Number.isInteger(dx) || !Number.isInteger(dy)) throw new RangeError(`moveTrigger: shifts must be integers, got dx=${dx}, dy=${dy}`);
  const d = trigger.description;
  const patches = d.patches.map((p) => ({ ...p, bottomRight: [p.bottomRight[0] + dy, p.bottomRight[1] + dx] as [number, number] }));
  return triggerFromDescription({ ...d, patches }, trigger.shape);
}

/** Replaces the trigger's non-zero pixel value (0-255), keeping location and layout (section 3.2, effect of appearance). */
export function withPixelValue(trigger: Trigger, value: number): Trigger {
  checkPixel(value, 'withPixelValue value');
  return triggerFromDescription({ ...trigger.description, values: [0, value] }, trigger.shape);
}
