/**
 * The figure-5 and figure-6 studies on one model: the same images benign, attacked, and attacked
 * then ShrinkPad-transformed; saliency maps with the share that falls on the trigger, and CDRP
 * gate correlations between the three versions.
 */
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../common/types.js';
import { Rng } from '../common/rng.js';
import { stamp, type Trigger } from '../attacks/trigger.js';
import { fixedShrinkPad } from '../transforms/shrinkpad.js';
import { imageBatch } from '../common/pixels.js';
import { vanillaSaliency, mapOf, massInside } from './saliency.js';
import { learnGates, layerwiseCorrelation, type CdrpOptions, type HookRunner, type ImageGates } from './cdrp.js';
import type { CdrpPair } from '../report/facts.js';
import type { GridImage } from '../plots/image-grid.js';

export type Version = 'benign' | 'attacked' | 'transformed';
export const VERSIONS: Version[] = ['benign', 'attacked', 'transformed'];

/**
 * The three versions of a batch, plus the trigger's region in each ([N, H, W], 1 = trigger): the
 * mask is put through the same ShrinkPad draws as the images (same RNG state), so the region
 * follows the trigger where the transform moved it.
 */
export function threeVersions(x: tf.Tensor4D, trigger: Trigger, shrinkSize: number, rng: Rng): { versions: Record<Version, tf.Tensor4D>; regions: Record<Version, Uint8Array> } {
  const n = x.shape[0];
  const state = rng.state();
  const shrink = fixedShrinkPad(shrinkSize);
  const attacked = stamp(x, trigger);
  const transformed = shrink(attacked, new Rng(state));
  const regionOf = (m: tf.Tensor4D): Uint8Array => tf.tidy(() => Uint8Array.from(tf.greater(tf.max(m, 3), 0.5).dataSync()));
  const maskBatch = tf.tidy(() => tf.tile(tf.expandDims(tf.tensor3d(trigger.mask, trigger.shape).div(Math.max(...trigger.mask)), 0), [n, 1, 1, 1]) as tf.Tensor4D);
  const movedMask = shrink(maskBatch, new Rng(state));
  const plain = regionOf(maskBatch);
  const moved = regionOf(movedMask);
  tf.dispose([maskBatch, movedMask]);
  // Advance the caller's RNG as one transform call would, so later draws do not repeat these.
  shrink(x, rng).dispose();
  return { versions: { benign: x.clone(), attacked, transformed }, regions: { benign: plain, attacked: plain, transformed: moved } };
}

export interface SaliencyStudy {
  /** Mean share (0-1) of saliency inside the trigger's region, per version. */
  triggerMass: Record<Version, number>;
  /** Each image's share, per version (the spread around the mean). */
  triggerShares: Record<Version, number[]>;
  /** Predicted class per version and image. */
  predictions: Record<Version, number[]>;
  /** One grid row per image: image and overlay for each version. */
  rows: GridImage[][];
}

function toRgb(x: tf.Tensor4D, i: number): Uint8Array {
  return tf.tidy(() => Uint8Array.from(tf.round(tf.mul(tf.gather(x, [i]), 255)).dataSync()));
}

export function saliencyStudy(model: tf.LayersModel, images: LabelledImages, trigger: Trigger, shrinkSize: number, rng: Rng): SaliencyStudy {
  const x = imageBatch(images, 0, images.count);
  const { versions, regions } = threeVersions(x, trigger, shrinkSize, rng);
  x.dispose();
  const { height: h, width: w } = images;
  const triggerMass = {} as Record<Version, number>;
  const triggerShares = {} as Record<Version, number[]>;
  const predictions = {} as Record<Version, number[]>;
  const maps = {} as Record<Version, ReturnType<typeof vanillaSaliency>>;
  for (const v of VERSIONS) {
    const s = vanillaSaliency(model, versions[v]);
    maps[v] = s;
    predictions[v] = Array.from(s.predicted);
    triggerShares[v] = Array.from({ length: s.count }, (_, i) => massInside(mapOf(s, i), regions[v].subarray(i * h * w, (i + 1) * h * w)));
    triggerMass[v] = triggerShares[v].reduce((a, b) => a + b, 0) / s.count;
  }
  const rows: GridImage[][] = [];
  for (let i = 0; i < images.count; i++) {
    rows.push(VERSIONS.flatMap((v) => {
      const rgb = toRgb(versions[v], i);
      return [{ rgb, height: h, width: w }, { rgb, heat: mapOf(maps[v], i), height: h, width: w }];
    }));
  }
  tf.dispose(Object.values(versions));
  return { triggerMass, triggerShares, predictions, rows };
}

export interface CdrpStudy {
  /** Per pair, the mean over images of each layer's gate correlation. */
  correlations: Record<CdrpPair, { layer: string; index: number; r: number }[]>;
  /** Share of (image, version) whose gated network kept the original prediction. */
  preserved: number;
  /** Share of the original predictions that are the target, per version (the attack working or not). */
  targetRate: Record<Version, number>;
  images: number;
}

function concatGates(parts: ImageGates[]): ImageGates {
  const first = parts[0];
  return {
    layers: first.layers.map((l, k) => ({ name: l.name, channels: l.channels, gates: Float32Array.from(parts.flatMap((p) => Array.from(p.layers[k].gates))) })),
    count: parts.reduce((s, p) => s + p.count, 0),
    originalPrediction: Int32Array.from(parts.flatMap((p) => Array.from(p.originalPrediction))),
    gatedPrediction: Int32Array.from(parts.flatMap((p) => Array.from(p.gatedPrediction))),
    finalLoss: parts.reduce((s, p) => s + p.finalLoss * p.count, 0) / parts.reduce((s, p) => s + p.count, 0),
  };
}

export function cdrpStudy(
  model: tf.LayersModel,
  run: HookRunner,
  layers: string[],
  images: LabelledImages,
  trigger: Trigger,
  shrinkSize: number,
  target: number,
  o: CdrpOptions & { batchSize: number },
  rng: Rng,
  onBatch?: (done: number, total: number) => void,
): CdrpStudy {
  const parts: Record<Version, ImageGates[]> = { benign: [], attacked: [], transformed: [] };
  for (let start = 0; start < images.count; start += o.batchSize) {
    const end = Math.min(images.count, start + o.batchSize);
    const x = imageBatch(images, start, end);
    const { versions } = threeVersions(x, trigger, shrinkSize, rng);
    x.dispose();
    for (const v of VERSIONS) parts[v].push(learnGates(model, run, layers, versions[v], o));
    tf.dispose(Object.values(versions));
    onBatch?.(end, images.count);
  }
  const gates = { benign: concatGates(parts.benign), attacked: concatGates(parts.attacked), transformed: concatGates(parts.transformed) };
  let kept = 0;
  for (const v of VERSIONS) gates[v].gatedPrediction.forEach((p, i) => (kept += p === gates[v].originalPrediction[i] ? 1 : 0));
  const rate = (v: Version) => gates[v].originalPrediction.reduce((s, p) => s + (p === target ? 1 : 0), 0) / images.count;
  return {
    correlations: {
      'benign-attacked': layerwiseCorrelation(gates.benign, gates.attacked),
      'benign-transformed': layerwiseCorrelation(gates.benign, gates.transformed),
      'attacked-transformed': layerwiseCorrelation(gates.attacked, gates.transformed),
    },
    preserved: kept / (3 * images.count),
    targetRate: { benign: rate('benign'), attacked: rate('attacked'), transformed: rate('transformed') },
    images: images.count,
  };
}
