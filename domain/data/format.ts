/**
 * The dataset format every downstream stage reads: one directory with
 * `<split>_images.npy` (uint8 [N, H, W, C]), `<split>_labels.npy` (uint8 [N]) for
 * train, test and optionally val, plus `dataset.json` describing it. Plain .npy so
 * that numpy users can open it; no pixels in JSON.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { readNpy, writeNpy } from '../common/npy.js';
import type { LabelledImages } from '../common/types.js';

export type SplitName = 'train' | 'test' | 'val';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'test', 'val'];
export const DATASET_INFO_FILE = 'dataset.json';

/** A dataset in memory. `val`, when present, was held out of the original test set (see subset.ts). */
export interface Dataset {
  name: string;
  /** Where the pixels came from, e.g. the URL, the archive path or `synthetic(seed=0)`. */
  source: string;
  synthetic: boolean;
  classNames: string[];
  train: LabelledImages;
  test: LabelledImages;
  val?: LabelledImages;
}

export interface SplitCounts {
  total: number;
  /** Indexed like `classNames`. */
  perClass: number[];
}

/** The content of dataset.json. */
export interface DatasetInfo {
  name: string;
  source: string;
  synthetic: boolean;
  classNames: string[];
  height: number;
  width: number;
  channels: number;
  counts: Partial<Record<SplitName, SplitCounts>>;
  /** How the splits were drawn (seed, per-class counts, validation fraction...), for provenance. */
  selection?: Record<string, unknown>;
}

/** Wraps raw arrays as a split, checking that their sizes agree. */
export function makeSplit(images: Uint8Array, labels: Uint8Array, height: number, width: number, channels: number): LabelledImages {
  const count = labels.length;
  const expected = count * height * width * channels;
  if (images.length !== expected) {
    throw new RangeError(`split: ${count} labels of ${height}x${width}x${channels} need ${expected} pixel bytes, got ${images.length}`);
  }
  return { images, labels, count, height, width, channels };
}

export function countPerClass(labels: Uint8Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const label of labels) {
    if (label >= numClasses) throw new RangeError(`label ${label} is out of range for ${numClasses} classes`);
    counts[label]++;
  }
  return counts;
}

function splitsOf(ds: Dataset): [SplitName, LabelledImages][] {
  const out: [SplitName, LabelledImages][] = [['train', ds.train], ['test', ds.test]];
  if (ds.val) out.push(['val', ds.val]);
  return out;
}

export function describeDataset(ds: Dataset, selection?: Record<string, unknown>): DatasetInfo {
  const { height, width, channels } = ds.train;
  const counts: DatasetInfo['counts'] = {};
  for (const [name, split] of splitsOf(ds)) {
    if (split.height !== height || split.width !== width || split.channels !== channels) {
      throw new RangeError(`dataset '${ds.name}': split ${name} is ${split.height}x${split.width}x${split.channels}, train is ${height}x${width}x${channels}`);
    }
    counts[name] = { total: split.count, perClass: countPerClass(split.labels, ds.classNames.length) };
  }
  const info: DatasetInfo = { name: ds.name, source: ds.source, synthetic: ds.synthetic, classNames: ds.classNames, height, width, channels, counts };
  if (selection) info.selection = selection;
  return info;
}

/** Writes the dataset into `dir` (which must exist) and returns what dataset.json says. */
export async function saveDataset(dir: string, ds: Dataset, selection?: Record<string, unknown>): Promise<DatasetInfo> {
  const info = describeDataset(ds, selection);
  for (const [name, split] of splitsOf(ds)) {
    await writeNpy(join(dir, `${name}_images.npy`), split.images, [split.count, split.height, split.width, split.channels]);
    await writeNpy(join(dir, `${name}_labels.npy`), split.labels, [split.count]);
  }
  await fs.writeFile(join(dir, DATASET_INFO_FILE), JSON.stringify(info, null, 2) + '\n');
  return info;
}

export async function readDatasetInfo(dir: string): Promise<DatasetInfo> {
  const path = join(dir, DATASET_INFO_FILE);
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read the dataset description (${(err as Error).message}); is '${dir}' a data stage's output?`);
  }
  const info = JSON.parse(text) as DatasetInfo;
  if (!Array.isArray(info.classNames) || typeof info.height !== 'number' || !info.counts?.train || !info.counts?.test) {
    throw new Error(`${path}: not a dataset description (needs classNames, height and train/test counts)`);
  }
  return info;
}

async function loadSplit(dir: string, name: SplitName, info: DatasetInfo): Promise<LabelledImages> {
  const images = await readNpy(join(dir, `${name}_images.npy`));
  const labels = await readNpy(join(dir, `${name}_labels.npy`));
  const [n, h, w, c] = images.shape;
  if (images.dtype !== 'uint8' || labels.dtype !== 'uint8' || images.shape.length !== 4 || labels.shape.length !== 1) {
    throw new Error(`${dir}: ${name} split must be uint8 [N,H,W,C] images and uint8 [N] labels, found ${images.dtype} [${images.shape}] and ${labels.dtype} [${labels.shape}]`);
  }
  if (h !== info.height || w !== info.width || c !== info.channels || n !== labels.shape[0] || n !== info.counts[name]?.total) {
    throw new Error(`${dir}: ${name} split has images [${images.shape}] and labels [${labels.shape}], dataset.json says ${info.counts[name]?.total} of ${info.height}x${info.width}x${info.channels}`);
  }
  return makeSplit(images.data as Uint8Array, labels.data as Uint8Array, h, w, c);
}

/** Reads a directory written by `saveDataset`, checking the arrays against dataset.json. */
export async function loadDataset(dir: string): Promise<Dataset & { info: DatasetInfo }> {
  const info = await readDatasetInfo(dir);
  const train = await loadSplit(dir, 'train', info);
  const test = await loadSplit(dir, 'test', info);
  const val = info.counts.val ? await loadSplit(dir, 'val', info) : undefined;
  const ds: Dataset & { info: DatasetInfo } = { name: info.name, source: info.source, synthetic: info.synthetic, classNames: info.classNames, train, test, info };
  if (val) ds.val = val;
  return ds;
}
