/**
 * Section 5.4 as a SIMULATION: the paper photographs printed attacked images; here each attacked
 * test image goes through a simulated camera (domain/transforms/camera.ts) before prediction,
 * and we compare the ASR of a standard and an enhanced model with and without the capture.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageTransform, LabelledImages } from '../common/types.js';
import { Rng } from '../common/rng.js';
import { stamp, type Trigger } from '../attacks/trigger.js';
import { imageBatch } from '../common/pixels.js';
import { asrOn, nonTargetImages } from './asr.js';

export interface PhysicalOptions {
  batchSize: number;
  target: number;
  /** Independent simulated captures of each image, averaged (the capture is random). */
  captures: number;
}

export interface PhysicalResult {
  /** ASR (%) of the digital attacked images. */
  digitalAsr: number;
  /** ASR (%) after the simulated capture, mean over captures. */
  capturedAsr: number;
  images: number;
}

export function simulatedCaptureAsr(model: tf.LayersModel, test: LabelledImages, trigger: Trigger, camera: ImageTransform, o: PhysicalOptions, rng: Rng): PhysicalResult {
  if (!Number.isInteger(o.captures) || o.captures < 1) throw new RangeError(`physical captures must be a positive integer, got ${o.captures}`);
  const images = nonTargetImages(test, o.target);
  const digitalAsr = asrOn(model, images, trigger, { batchSize: o.batchSize, target: o.target }, rng);
  let sum = 0;
  for (let k = 0; k < o.captures; k++) sum += asrOn(model, images, trigger, { batchSize: o.batchSize, target: o.target, transform: camera }, rng.fork(`capture${k}`));
  return { digitalAsr, capturedAsr: sum / o.captures, images: images.count };
}

/** uint8 RGB of image `index` attacked, then `captures` simulated captures of it: for the example grid. */
export function exampleCaptures(test: LabelledImages, index: number, trigger: Trigger, camera: ImageTransform, captures: number, rng: Rng): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= test.count) throw new RangeError(`example index ${index} not in 0..${test.count - 1}`);
  return tf.tidy(() => {
    const attacked = stamp(imageBatch(test, index, index + 1), trigger);
    const shots = [attacked, ...Array.from({ length: captures }, () => camera(attacked, rng))];
    return shots.map((s) => Uint8Array.from(tf.round(tf.mul(s, 255)).dataSync()));
  });
}
