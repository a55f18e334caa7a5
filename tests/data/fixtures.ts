/**
 * Test fixtures for the data tests: a hand-rolled ustar writer (so that tests
 * can craft members a normal tar tool refuses to write: `../` paths, links,
 * devices) and small datasets in the real CIFAR-10 binary format.
 */
import { gzipSync } from 'node:zlib';
import { Rng } from '../../domain/common/rng.js';
import { CIFAR10_DIR, encodeCifarBinary } from '../../domain/data/cifarBinary.js';
import { makeSplit } from '../../domain/data/format.js';
import type { LabelledImages } from '../../domain/common/types.js';

export interface TarEntry {
  path: string;
  /** ustar type flag: '0' file, '1' hard link, '2' symlink, '3' char device, '5' directory. */
  type?: '0' | '1' | '2' | '3' | '5';
  data?: Buffer;
  linkpath?: string;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(e: TarEntry): Buffer {
  const h = Buffer.alloc(512);
  const type = e.type ?? '0';
  const size = type === '0' ? (e.data?.length ?? 0) : 0;
  h.write(e.path, 0, 100, 'utf8');
  h.write(octal(type === '5' ? 0o755 : 0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.write('        ', 148);
  h.write(type, 156);
  if (e.linkpath) h.write(e.linkpath, 157, 100, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

export function makeTar(entries: TarEntry[], gzip = true): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e));
    if ((e.type ?? '0') === '0' && e.data) {
      parts.push(e.data, Buffer.alloc((512 - (e.data.length % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  const tar = Buffer.concat(parts);
  return gzip ? gzipSync(tar) : tar;
}

/** A split of `count` random 32x32 RGB images whose labels cycle through 0..9. */
export function randomCifarSplit(count: number, seed: string): LabelledImages {
  const rng = new Rng(seed);
  const images = new Uint8Array(count * 32 * 32 * 3);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(0, 255);
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 7 + 3) % 10);
  return makeSplit(images, labels, 32, 32, 3);
}

export const CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** A .tar.gz laid out exactly like cifar-10-binary.tar.gz, with `perBatch` records per batch file. */
export function makeCifarArchive(perBatch: number): { archive: Buffer; train: LabelledImages[]; test: LabelledImages } {
  const train = [1, 2, 3, 4, 5].map((i) => randomCifarSplit(perBatch, `batch${i}`));
  const test = randomCifarSplit(perBatch, 'test');
  const entries: TarEntry[] = [
    { path: `${CIFAR10_DIR}/`, type: '5' },
    { path: `${CIFAR10_DIR}/batches.meta.txt`, data: Buffer.from(CLASS_NAMES.join('\n') + '\n\n') },
    ...train.map((s, i) => ({ path: `${CIFAR10_DIR}/data_batch_${i + 1}.bin`, data: encodeCifarBinary(s) })),
    { path: `${CIFAR10_DIR}/test_batch.bin`, data: encodeCifarBinary(test) },
    { path: `${CIFAR10_DIR}/readme.html`, data: Buffer.from('<html></html>') },
  ];
  return { archive: makeTar(entries), train, test };
}
