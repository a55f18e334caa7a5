/**
 * From the `data` params to a Dataset in memory: picks the source (CIFAR-10
 * download or local archive, image folder, synthetic), then applies the
 * per-class subsets and the validation split. The data stage saves the result.
 */
import { promises as fs } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Rng } from '../common/rng.js';
import { probeArchiveKind } from './archiveKind.js';
import { ChecksumMismatchError, expectedDigest, verifyFile, type ExpectedDigest } from './checksum.js';
import { importCifarBinaryArchive } from './cifarArchive.js';
import { CIFAR10_MD5, CIFAR10_SIDE } from './cifarBinary.js';
import { downloadFile, type DownloadProgress, type DownloadResult, type DownloadSettings } from './download.js';
import type { Dataset } from './format.js';
import type { LabelledImages } from '../common/types.js';
import { importImageFolder } from './imageFolder.js';
import { holdOutValidation, pickPerClass, selectPerClass } from './subset.js';
import type { FolderSplit } from './imageFolderLayout.js';
import { generateSynthetic, type SyntheticOptions } from './synthetic.js';

export type DataSource = 'cifar10' | 'imagefolder' | 'synthetic';
export const DATA_SOURCES: readonly DataSource[] = ['cifar10', 'imagefolder', 'synthetic'];

export type { DownloadSettings };

/** The `data` section of params.json (see /tmp/params-fragments/data.json for defaults and meaning). */
export interface DataOptions {
  source: DataSource;
  /** Where cifar10 is downloaded from when no archive is given: http(s):// or file://. */
  url: string;
  /** A local CIFAR-10 binary archive, or an image folder (directory, .tar, .tar.gz). */
  archive: string | null;
  md5: string | null;
  sha256: string | null;
  /** Explicit class order for image folders; null sorts the folder names. */
  classes: string[] | null;
  /** Resize image-folder images of another size (bilinear, PyTorch convention) instead of rejecting them. */
  resize: boolean;
  imageSize: number;
  /** Images per class kept in train / test; null keeps all. */
  perClassTrain: number | null;
  perClassTest: number | null;
  /** Fraction of each class's (subset) test images moved to the validation split; 0 for none. */
  valFraction: number;
  decodeConcurrency: number;
  download: DownloadSettings;
  synthetic: Omit<SyntheticOptions, 'seed' | 'height' | 'width'>;
}

export interface BuildHooks {
  seed: number;
  /** Where downloads are cached; keep it across attempts so that they resume. */
  cacheDir: string;
  onDownload?(progress: DownloadProgress): void;
  onDecode?(decoded: number, total: number): void;
  log?(message: string): void;
  signal?: AbortSignal;
}

export interface BuildResult {
  dataset: Dataset;
  /** How the splits were drawn; goes into dataset.json. */
  selection: Record<string, number | string | null>;
  download: DownloadResult | null;
}

/**
 * The seeded per-class selection, shared by the importers that can subset before
 * decoding (image folders) and the in-memory path, so both choose the same images.
 */
class SubsetPlan {
  private readonly rng: Rng;
  constructor(private readonly o: DataOptions, seed: number) {
    this.rng = new Rng(`data-subset/${seed}`);
  }
  perClass(split: FolderSplit): number | null {
    return split === 'train' ? this.o.perClassTrain : this.o.perClassTest;
  }
  what(split: FolderSplit): string {
    return split === 'train' ? 'data.perClassTrain' : 'data.perClassTest';
  }
  pick(split: FolderSplit, labels: Uint8Array, numClasses: number): number[] | null {
    return pickPerClass(labels, numClasses, this.perClass(split), this.rng.fork(split), this.what(split));
  }
  apply(split: FolderSplit, images: LabelledImages, numClasses: number): LabelledImages {
    return selectPerClass(images, numClasses, this.perClass(split), this.rng.fork(split), this.what(split)).split;
  }
  validation(test: LabelledImages, numClasses: number): { test: LabelledImages; val: LabelledImages | null } {
    return holdOutValidation(test, numClasses, this.o.valFraction, this.rng.fork('val'));
  }
}

async function checkLocalArchive(path: string, expected: ExpectedDigest | null): Promise<void> {
  if (!expected) return;
  try {
    await verifyFile(path, expected);
  } catch (err) {
    if (!(err instanceof ChecksumMismatchError)) throw err;
    throw new Error(`data.archive ${err.message}. If this is a different build of the archive, give its digest with --set data.md5=... or data.sha256=... (null to skip for an image folder)`);
  }
}

/** The digest in `<archive>.sha256` (sha256sum's output format), when such a file sits beside the archive. */
async function sidecarDigest(path: string): Promise<ExpectedDigest | null> {
  const text = await fs.readFile(`${path}.sha256`, 'utf8').catch(() => null);
  if (text === null) return null;
  const hex = /^([0-9a-fA-F]{64})\b/.exec(text.trim())?.[1];
  if (!hex) throw new Error(`${path}.sha256 does not start with a SHA-256 digest (64 hex digits)`);
  return { algorithm: 'sha256', hex };
}

/** A local directory or archive: image folder (checked against data.md5/sha256, else a `.sha256` file beside it, if any), or the CIFAR-10 binary archive (checked against the official MD5 unless another digest is given). */
async function fromLocal(path: string, name: string, o: DataOptions, hooks: BuildHooks, plan: SubsetPlan): Promise<Loaded> {
  const stat = await fs.stat(path).catch(() => null);
  if (!stat) throw new Error(`data.archive '${path}' does not exist (give a CIFAR-10 binary archive, or an image folder: directory, .tar or .tar.gz)`);
  const given = expectedDigest(o.md5, o.sha256);
  const folderOptions = {
    height: o.imageSize, width: o.imageSize, resize: o.resize, classes: o.classes, concurrency: o.decodeConcurrency, onProgress: hooks.onDecode, signal: hooks.signal,
    select: (split: FolderSplit, labels: Uint8Array, numClasses: number) => plan.pick(split, labels, numClasses),
  };
  if (stat.isDirectory()) {
    if (given) throw new Error(`data.archive '${path}' is a directory; data.md5/data.sha256 can only check an archive file`);
    const folder = await importImageFolder(path, folderOptions);
    return { dataset: { name, source: path, synthetic: false, ...folder }, download: null, subsetApplied: true };
  }
  if (!stat.isFile()) throw new Error(`data.archive '${path}' is neither a file nor a directory`);
  const kind = await probeArchiveKind(path);
  if (kind === 'cifar10-binary') {
    if (o.imageSize !== CIFAR10_SIDE) throw new Error(`data.imageSize ${o.imageSize}: the CIFAR-10 binary archive holds ${CIFAR10_SIDE}x${CIFAR10_SIDE} images`);
    await checkLocalArchive(path, given ?? { algorithm: 'md5', hex: CIFAR10_MD5 });
    return { dataset: await importCifarBinaryArchive(path, path, hooks.signal), download: null, subsetApplied: false };
  }
  await checkLocalArchive(path, given ?? (await sidecarDigest(path)));
  const folder = await importImageFolder(path, folderOptions);
  return { dataset: { name, source: path, synthetic: false, ...folder }, download: null, subsetApplied: true };
}

interface Loaded {
  dataset: Dataset;
  download: DownloadResult | null;
  /** Whether the importer already kept only the per-class subset. */
  subsetApplied: boolean;
}

async function load(o: DataOptions, hooks: BuildHooks, plan: SubsetPlan): Promise<Loaded> {
  if (o.source === 'synthetic') {
    const dataset = generateSynthetic({ ...o.synthetic, seed: hooks.seed, height: o.imageSize, width: o.imageSize });
    return { dataset, download: null, subsetApplied: false };
  }
  if (o.source === 'imagefolder') {
    if (!o.archive) throw new Error("data.source 'imagefolder' needs data.archive=PATH (a directory, .tar or .tar.gz laid out as train/<class>/*, test/<class>/*)");
    const path = resolve(o.archive);
    return fromLocal(path, basename(path).replace(/\.(tar\.gz|tgz|tar)$/, ''), o, hooks, plan);
  }
  if (o.source !== 'cifar10') throw new Error(`data.source '${String(o.source)}' is not one of ${DATA_SOURCES.join(', ')}`);
  if (o.archive) return fromLocal(resolve(o.archive), 'cifar10', o, hooks, plan);
  const download = await downloadFile({
    ...o.download,
    url: o.url,
    cacheDir: hooks.cacheDir,
    expected: expectedDigest(o.md5, o.sha256) ?? { algorithm: 'md5', hex: CIFAR10_MD5 },
    onProgress: hooks.onDownload,
    log: hooks.log,
    signal: hooks.signal,
  });
  const dataset = await importCifarBinaryArchive(download.path, o.url, hooks.signal);
  return { dataset, download, subsetApplied: false };
}

export async function buildDataset(o: DataOptions, hooks: BuildHooks): Promise<BuildResult> {
  const plan = new SubsetPlan(o, hooks.seed);
  const { dataset: full, download, subsetApplied } = await load(o, hooks, plan);
  const classes = full.classNames.length;
  const train = subsetApplied ? full.train : plan.apply('train', full.train, classes);
  const test = subsetApplied ? full.test : plan.apply('test', full.test, classes);
  const held = plan.validation(test, classes);
  const dataset: Dataset = { ...full, train, test: held.test };
  if (held.val) dataset.val = held.val;
  const selection = { seed: hooks.seed, perClassTrain: o.perClassTrain, perClassTest: o.perClassTest, valFraction: o.valFraction, valFrom: 'test' };
  return { dataset, selection, download };
}
