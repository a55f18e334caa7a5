/** Reads the official CIFAR-10 binary archive (streamed, in memory) into a Dataset. */
import type { LabelledImages } from '../common/types.js';
import {
  CIFAR10_CHANNELS, CIFAR10_META_MEMBER, CIFAR10_SIDE, CIFAR10_TEST_MEMBER, CIFAR10_TRAIN_MEMBERS, parseCifarBinary, parseClassNames,
} from './cifarBinary.js';
import { makeSplit, type Dataset } from './format.js';
import { readTar } from './safeTar.js';

const WANTED = new Set([...CIFAR10_TRAIN_MEMBERS, CIFAR10_TEST_MEMBER, CIFAR10_META_MEMBER]);

function concatSplits(parts: LabelledImages[]): LabelledImages {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * CIFAR10_SIDE * CIFAR10_SIDE * CIFAR10_CHANNELS);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * CIFAR10_SIDE * CIFAR10_SIDE * CIFAR10_CHANNELS);
    labels.set(p.labels, at);
    at += p.count;
  }
  return makeSplit(images, labels, CIFAR10_SIDE, CIFAR10_SIDE, CIFAR10_CHANNELS);
}

export async function importCifarBinaryArchive(archive: string, source: string, signal?: AbortSignal): Promise<Dataset> {
  const members = new Map<string, Buffer>();
  await readTar(archive, { select: (path) => WANTED.has(path), onFile: (f) => members.set(f.path, f.data), signal });
  const missing = [...WANTED].filter((m) => !members.has(m));
  if (missing.length > 0) throw new Error(`${archive}: not a complete CIFAR-10 binary archive, missing ${missing.join(', ')}`);
  const train = concatSplits(CIFAR10_TRAIN_MEMBERS.map((m) => parseCifarBinary(members.get(m)!, `${archive}:${m}`)));
  const test = parseCifarBinary(members.get(CIFAR10_TEST_MEMBER)!, `${archive}:${CIFAR10_TEST_MEMBER}`);
  const classNames = parseClassNames(members.get(CIFAR10_META_MEMBER)!.toString('utf8'), `${archive}:${CIFAR10_META_MEMBER}`);
  return { name: 'cifar10', source, synthetic: false, classNames, train, test };
}
