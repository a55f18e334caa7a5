/**
 * A seeded, CIFAR-shaped 10-class dataset for offline tests and demos. The class
 * is the KIND of shape or texture; its colours, size, position and the
 * background vary per image, so that no single colour or location gives the
 * label away and a network has to look at structure, as on real images.
 */
import { Rng } from '../common/rng.js';
import { makeSplit, type Dataset } from './format.js';
import type { LabelledImages } from '../common/types.js';

export const SYNTHETIC_CLASS_NAMES = ['disk', 'square', 'triangle', 'ring', 'cross', 'hstripes', 'vstripes', 'diagonal', 'checker', 'dots'];
const CHANNELS = 3;

export interface SyntheticOptions {
  seed: number | string;
  trainPerClass: number;
  testPerClass: number;
  height: number;
  width: number;
  /** Std of the additive Gaussian pixel noise, on the 0-255 scale. */
  noiseStd: number;
  /** Side of the shape or texture patch, as a fraction of the image side. */
  minSizeFraction: number;
  maxSizeFraction: number;
  /** Smallest mean absolute difference (0-255) between foreground and background colour. */
  minContrast: number;
}

type Rgb = [number, number, number];
/** Whether pixel (x, y), relative to the patch's top-left corner, is foreground; `s` is the side, `p` the texture period. */
type Mask = (x: number, y: number, s: number, p: number) => boolean;

const MASKS: Mask[] = [
  (x, y, s) => (x - s / 2) ** 2 + (y - s / 2) ** 2 <= (s / 2) ** 2,
  (x, y, s) => x >= s * 0.15 && x < s * 0.85 && y >= s * 0.15 && y < s * 0.85,
  (x, y, s) => y >= s * 0.1 && Math.abs(x - s / 2) <= ((y - s * 0.1) / (s * 0.9)) * (s / 2),
  (x, y, s) => {
    const r2 = (x - s / 2) ** 2 + (y - s / 2) ** 2;
    return r2 <= (s / 2) ** 2 && r2 >= (s / 3.2) ** 2;
  },
  (x, y, s) => Math.abs(x - s / 2) < s / 7 || Math.abs(y - s / 2) < s / 7,
  (_x, y, _s, p) => Math.floor(y / p) % 2 === 0,
  (x, _y, _s, p) => Math.floor(x / p) % 2 === 0,
  (x, y, _s, p) => Math.floor((x + y) / p) % 2 === 0,
  (x, y, _s, p) => (Math.floor(x / p) + Math.floor(y / p)) % 2 === 0,
  (x, y, _s, p) => x % (p + 2) < p && y % (p + 2) < p,
];

const randomColour = (rng: Rng): Rgb => [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
const contrast = (a: Rgb, b: Rgb): number => (Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2])) / CHANNELS;

function checkOptions(o: SyntheticOptions): void {
  for (const [key, v] of Object.entries({ trainPerClass: o.trainPerClass, testPerClass: o.testPerClass, height: o.height, width: o.width })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`synthetic data: ${key} = ${v}; must be a positive integer`);
  }
  if (!(o.noiseStd >= 0)) throw new RangeError(`synthetic data: noiseStd = ${o.noiseStd}; must be >= 0`);
  if (!(o.minSizeFraction > 0 && o.minSizeFraction <= o.maxSizeFraction && o.maxSizeFraction <= 1)) {
    throw new RangeError(`synthetic data: size fractions [${o.minSizeFraction}, ${o.maxSizeFraction}] must satisfy 0 < min <= max <= 1`);
  }
  if (!(o.minContrast >= 0 && o.minContrast <= 127)) throw new RangeError(`synthetic data: minContrast = ${o.minContrast}; allowed 0..127`);
}

/** Draws one image of class `label` into `out` at `offset`. */
function drawImage(out: Uint8Array, offset: number, label: number, o: SyntheticOptions, rng: Rng): void {
  const { height: h, width: w } = o;
  const bgA = randomColour(rng);
  const bgB = randomColour(rng);
  let fg = randomColour(rng);
  while (contrast(fg, bgA) < o.minContrast || contrast(fg, bgB) < o.minContrast) fg = randomColour(rng);
  // The background is a linear gradient between two colours, in a random direction.
  const angle = rng.range(0, 2 * Math.PI);
  const gx = Math.cos(angle) / w;
  const gy = Math.sin(angle) / h;
  const side = Math.max(3, Math.round(rng.range(o.minSizeFraction, o.maxSizeFraction) * Math.min(h, w)));
  const left = rng.int(0, w - Math.min(side, w));
  const top = rng.int(0, h - Math.min(side, h));
  const period = rng.int(2, 4);
  const phase = rng.int(0, period * 2 - 1);
  const mask = MASKS[label];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const px = x - left;
      const py = y - top;
      const inside = px >= 0 && py >= 0 && px < side && py < side && mask(px + phase * +(label >= 5), py, side, period);
      const t = Math.min(1, Math.max(0, 0.5 + (x - w / 2) * gx + (y - h / 2) * gy));
      const o3 = offset + (y * w + x) * CHANNELS;
      for (let c = 0; c < CHANNELS; c++) {
        const base = inside ? fg[c] : bgA[c] * (1 - t) + bgB[c] * t;
        const v = o.noiseStd > 0 ? base + o.noiseStd * rng.normal() : base;
        out[o3 + c] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
  }
}

function generateSplit(perClass: number, o: SyntheticOptions, rng: Rng): LabelledImages {
  const classes = SYNTHETIC_CLASS_NAMES.length;
  const count = perClass * classes;
  const pixels = o.height * o.width * CHANNELS;
  const images = new Uint8Array(count * pixels);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % classes;
    drawImage(images, i * pixels, labels[i], o, rng);
  }
  return makeSplit(images, labels, o.height, o.width, CHANNELS);
}

/** Deterministic for a given seed and options; train and test come from independent streams. */
export function generateSynthetic(o: SyntheticOptions): Dataset {
  checkOptions(o);
  const rng = new Rng(`synthetic-data/${o.seed}`);
  return {
    name: 'synthetic-shapes',
    source: `synthetic(seed=${o.seed})`,
    synthetic: true,
    classNames: [...SYNTHETIC_CLASS_NAMES],
    train: generateSplit(o.trainPerClass, o, rng.fork('train')),
    test: generateSplit(o.testPerClass, o, rng.fork('test')),
  };
}
