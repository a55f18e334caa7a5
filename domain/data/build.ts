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
import { downloadFile, type DownloadProgress, type DownloadResult } from './download.js';
import type { Dataset } from './format.js';
import { importImageFolder } from './imageFolder.js';
import { holdOutValidation, selectPerClass } from './subset.js';
import { generateSynthetic, type SyntheticOptions } from './synthetic.js';

export type DataSource = 'cifar10' | 'imagefolder' | 'synthetic';
export const DATA_SOURCES: readonly DataSource[] = ['cifar10', 'imagefolder', 'synthetic'];

export interface DownloadSettings {
  retries: number;
  backoffMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxRedirects: number;
  progressIntervalMs: number;
}

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
async function fromLocal(path: string, name: string, o: DataOptions, hooks: BuildHooks): Promise<Dataset> {
  const stat = await fs.stat(path).catch(() => null);
  if (!stat) throw new Error(`data.archive '${path}' does not exist (give a CIFAR-10 binary archive, or an image folder: directory, .tar or .tar.gz)`);
  const given = expectedDigest(o.md5, o.sha256);
  const folderOptions = { height: o.imageSize, width: o.imageSize, resize: o.resize, classes: o.classes, concurrency: o.decodeConcurrency, onProgress: hooks.onDecode, signal: hooks.signal };
  if (stat.isDirectory()) {
    if (given) throw new Error(`data.archive '${path}' is a directory; data.md5/data.sha256 can only check an archive file`);
    const folder = await importImageFolder(path, folderOptions);
    return { name, source: path, synthetic: false, ...folder };
  }
  if (!stat.isFile()) throw new Error(`data.archive '${path}' is neither a file nor a directory`);
  const kind = await probeArchiveKind(path);
  if (kind === 'cifar10-binary') {
    if (o.imageSize !== CIFAR10_SIDE) throw new Error(`data.imageSize ${o.imageSize}: the CIFAR-10 binary archive holds ${CIFAR10_SIDE}x${CIFAR10_SIDE} images`);
    await checkLocalArchive(path, given ?? { algorithm: 'md5', hex: CIFAR10_MD5 });
    return importCifarBinaryArchive(path, path, hooks.signal);
  }
  await checkLocalArchive(path, given ?? (await sidecarDigest(path)));
  const folder = await importImageFolder(path, folderOptions);
  return { name, source: path, synthetic: false, ...folder };
}

async function load(o: DataOptions, hooks: BuildHooks): Promise<{ dataset: Dataset; download: DownloadResult | null }> {
  if (o.source === 'synthetic') {
    const dataset = generateSynthetic({ ...o.synthetic, seed: hooks.seed, height: o.imageSize, width: o.imageSize });
    return { dataset, download: null };
  }
  if (o.source === 'imagefolder') {
    if (!o.archive) throw new Error("data.source 'imagefolder' needs data.archive=PATH (a directory, .tar or .tar.gz laid out as train/<class>/*, test/<class>/*)");
    const path = resolve(o.archive);
    return { dataset: await fromLocal(path, basename(path).replace(/\.(tar\.gz|tgz|tar)$/, ''), o, hooks), download: null };
  }
  if (o.source !== 'cifar10') throw new Error(`data.source '${String(o.source)}' is not one of ${DATA_SOURCES.join(', ')}`);
  if (o.archive) return { dataset: await fromLocal(resolve(o.archive), 'cifar10', o, hooks), download: null };
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
  return { dataset, download };
}

export async function buildDataset(o: DataOptions, hooks: BuildHooks): Promise<BuildResult> {
  const { dataset: full, download } = await load(o, hooks);
  const rng = new Rng(`data-subset/${hooks.seed}`);
  const classes = full.classNames.length;
  const train = selectPerClass(full.train, classes, o.perClassTrain, rng.fork('train'), 'data.perClassTrain').split;
  const test = selectPerClass(full.test, classes, o.perClassTest, rng.fork('test'), 'data.perClassTest').split;
  const held = holdOutValidation(test, classes, o.valFraction, rng.fork('val'));
  const dataset: Dataset = { ...full, train, test: held.test };
  if (held.val) dataset.val = held.val;
  const selection = { seed: hooks.seed, perClassTrain: o.perClassTrain, perClassTest: o.perClassTest, valFraction: o.valFraction, valFrom: 'test' };
  return { dataset, selection, download };
}
