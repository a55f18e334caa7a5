/**
 * Imports an ImageFolder dataset (directory, .tar or .tar.gz) into uint8 NHWC
 * splits. Archives are streamed into memory rather than extracted: small images
 * cost more in file-system round trips than in bytes.
 */
import { promises as fs } from 'node:fs';
import { join, relative } from 'node:path';
import { makeSplit } from './format.js';
import { decodeImage, RGB_CHANNELS } from './imageDecode.js';
import { matchLayout, orderRefs, resolveClasses, type FolderSplit, type ImageRef } from './imageFolderLayout.js';
import type { LabelledImages } from '../common/types.js';
import { mapLimit } from './pool.js';
import { readTar } from './safeTar.js';

export interface ImageFolderOptions {
  height: number;
  width: number;
  resize: boolean;
  /** Explicit class order; null sorts the folder names. */
  classes: string[] | null;
  /** Images decoded at once. */
  concurrency: number;
  /**
   * Which images of a split to decode, given all its labels in the canonical order
   * (class, then path); null decodes all. Lets a per-class subset skip decoding the rest.
   */
  select?(split: FolderSplit, labels: Uint8Array, numClasses: number): number[] | null;
  onProgress?(decoded: number, total: number): void;
  signal?: AbortSignal;
}

export interface ImageFolderData {
  classNames: string[];
  train: LabelledImages;
  test: LabelledImages;
}

interface Collected {
  refs: ImageRef[];
  dirs: Record<FolderSplit, Set<string>>;
  /** Archive members in memory; for a directory the bytes are read when decoded. */
  bytes: Map<string, Buffer>;
  root: string | null;
}

function note(collected: Collected, path: string, isDir: boolean): boolean {
  const m = matchLayout(path, isDir);
  if (m.kind === 'classDir') collected.dirs[m.split].add(m.className);
  if (m.kind === 'image') collected.refs.push(m.ref);
  return m.kind === 'image';
}

async function collectFromDirectory(root: string): Promise<Collected> {
  const collected: Collected = { refs: [], dirs: { train: new Set(), test: new Set() }, bytes: new Map(), root };
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    const path = relative(root, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).split('\\').join('/');
    if (e.isSymbolicLink()) {
      if (matchLayout(path, false).kind !== 'ignored') throw new Error(`${join(root, path)}: symbolic links are not followed; copy the image instead`);
      continue;
    }
    if (e.isDirectory()) note(collected, path, true);
    else if (e.isFile()) note(collected, path, false);
  }
  return collected;
}

async function collectFromArchive(archive: string, signal?: AbortSignal): Promise<Collected> {
  const collected: Collected = { refs: [], dirs: { train: new Set(), test: new Set() }, bytes: new Map(), root: null };
  const pending = new Set<string>();
  await readTar(archive, {
    onMember: (path, type) => {
      if (note(collected, path, type === 'directory')) pending.add(path);
    },
    select: (path) => pending.has(path),
    onFile: (f) => {
      if (collected.bytes.has(f.path)) throw new Error(`${archive}: member '${f.path}' appears twice`);
      collected.bytes.set(f.path, f.data);
    },
    signal,
  });
  return collected;
}

async function decodeSplit(refs: ImageRef[], classes: string[], c: Collected, opts: ImageFolderOptions, progress: { done: number; total: number }): Promise<LabelledImages> {
  const pixelsPer = opts.height * opts.width * RGB_CHANNELS;
  const images = new Uint8Array(refs.length * pixelsPer);
  const labels = new Uint8Array(refs.length);
  const classIndex = new Map(classes.map((name, i) => [name, i]));
  await mapLimit(refs, opts.concurrency, async (ref, i) => {
    if (opts.signal?.aborted) throw new Error('aborted');
    const input = c.root ? join(c.root, ref.path) : c.bytes.get(ref.path)!;
    const name = c.root ? join(c.root, ref.path) : ref.path;
    images.set(await decodeImage(input, name, opts), i * pixelsPer);
    labels[i] = classIndex.get(ref.className)!;
    if (!c.root) c.bytes.delete(ref.path);
    progress.done++;
    opts.onProgress?.(progress.done, progress.total);
  });
  return makeSplit(images, labels, opts.height, opts.width, RGB_CHANNELS);
}

const MAX_CLASSES = 256; // labels are stored as uint8

/** `source` is a directory, or a .tar / .tar.gz file laid out as train/<class>/* and test/<class>/*. */
export async function importImageFolder(source: string, opts: ImageFolderOptions): Promise<ImageFolderData> {
  const stat = await fs.stat(source).catch(() => null);
  if (!stat) throw new Error(`image folder '${source}' does not exist`);
  const collected = stat.isDirectory() ? await collectFromDirectory(source) : await collectFromArchive(source, opts.signal);
  const classNames = resolveClasses(source, collected.refs, collected.dirs, opts.classes);
  if (classNames.length > MAX_CLASSES) throw new Error(`${source}: ${classNames.length} classes; at most ${MAX_CLASSES} fit uint8 labels`);
  const ordered = orderRefs(collected.refs, classNames);
  const classIndex = new Map(classNames.map((name, i) => [name, i]));
  const chosen = (split: FolderSplit): ImageRef[] => {
    const refs = ordered[split];
    const indices = opts.select?.(split, Uint8Array.from(refs, (r) => classIndex.get(r.className)!), classNames.length) ?? null;
    return indices === null ? refs : indices.map((i) => refs[i]);
  };
  const selected = { train: chosen('train'), test: chosen('test') };
  const progress = { done: 0, total: selected.train.length + selected.test.length };
  const train = await decodeSplit(selected.train, classNames, collected, opts, progress);
  const test = await decodeSplit(selected.test, classNames, collected, opts, progress);
  return { classNames, train, test };
}
