/**
 * The CIFAR-10 binary distribution: where it lives, which members it has, and
 * its record format (1 label byte, then the R, G and B planes of 32x32 bytes each).
 */
import type { LabelledImages } from '../common/types.js';
import { makeSplit } from './format.js';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const CIFAR10_DIR = 'cifar-10-batches-bin';
export const CIFAR10_TRAIN_MEMBERS = [1, 2, 3, 4, 5].map((i) => `${CIFAR10_DIR}/data_batch_${i}.bin`);
export const CIFAR10_TEST_MEMBER = `${CIFAR10_DIR}/test_batch.bin`;
export const CIFAR10_META_MEMBER = `${CIFAR10_DIR}/batches.meta.txt`;
export const CIFAR10_SIDE = 32;
export const CIFAR10_CHANNELS = 3;
export const CIFAR10_CLASSES = 10;
const PLANE = CIFAR10_SIDE * CIFAR10_SIDE;
const RECORD = 1 + CIFAR10_CHANNELS * PLANE;

/** Parses concatenated CIFAR-10 binary records into NHWC uint8 images and labels. */
export function parseCifarBinary(buf: Uint8Array, source = '<buffer>'): LabelledImages {
  if (buf.length === 0 || buf.length % RECORD !== 0) {
    throw new Error(`${source}: ${buf.length} bytes is not a whole number of CIFAR-10 records of ${RECORD} bytes`);
  }
  const count = buf.length / RECORD;
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * RECORD - count);
  for (let n = 0; n < count; n++) {
    const rec = n * RECORD;
    const label = buf[rec];
    if (label >= CIFAR10_CLASSES) throw new Error(`${source}: record ${n} has label ${label}, allowed 0..${CIFAR10_CLASSES - 1}`);
    labels[n] = label;
    const out = n * PLANE * CIFAR10_CHANNELS;
    for (let p = 0; p < PLANE; p++) {
      for (let c = 0; c < CIFAR10_CHANNELS; c++) images[out + p * CIFAR10_CHANNELS + c] = buf[rec + 1 + c * PLANE + p];
    }
  }
  return makeSplit(images, labels, CIFAR10_SIDE, CIFAR10_SIDE, CIFAR10_CHANNELS);
}

/** The inverse of `parseCifarBinary`: used to build archives in the CIFAR-10 format (tests, mirrors). */
export function encodeCifarBinary(split: LabelledImages): Buffer {
  if (split.height !== CIFAR10_SIDE || split.width !== CIFAR10_SIDE || split.channels !== CIFAR10_CHANNELS) {
    throw new RangeError(`CIFAR-10 records are ${CIFAR10_SIDE}x${CIFAR10_SIDE}x${CIFAR10_CHANNELS}, got ${split.height}x${split.width}x${split.channels}`);
  }
  const out = Buffer.alloc(split.count * RECORD);
  for (let n = 0; n < split.count; n++) {
    const rec = n * RECORD;
    out[rec] = split.labels[n];
    const src = n * PLANE * CIFAR10_CHANNELS;
    for (let p = 0; p < PLANE; p++) {
      for (let c = 0; c < CIFAR10_CHANNELS; c++) out[rec + 1 + c * PLANE + p] = split.images[src + p * CIFAR10_CHANNELS + c];
    }
  }
  return out;
}

/** batches.meta.txt: one class name per line (blank lines ignored). */
export function parseClassNames(text: string, source = CIFAR10_META_MEMBER): string[] {
  const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== CIFAR10_CLASSES) throw new Error(`${source}: expected ${CIFAR10_CLASSES} class names, found ${names.length}`);
  return names;
}
