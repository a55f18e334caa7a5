import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCifarBinaryArchive } from '../../domain/data/cifarArchive.js';
import { CIFAR10_DIR, encodeCifarBinary, parseCifarBinary, parseClassNames } from '../../domain/data/cifarBinary.js';
import { CLASS_NAMES, makeCifarArchive, makeTar } from './fixtures.js';

const RECORD = 3073;

describe('CIFAR-10 binary records', () => {
  it('puts the R, G and B planes into NHWC pixels', () => {
    const buf = Buffer.alloc(2 * RECORD);
    buf[0] = 7;
    buf[RECORD] = 2;
    // Record 0: pixel (row 0, col 1) is R=10, G=20, B=30; pixel (row 31, col 31) R=255.
    buf[1 + 1] = 10;
    buf[1 + 1024 + 1] = 20;
    buf[1 + 2048 + 1] = 30;
    buf[1 + 1023] = 255;
    // Record 1: pixel (row 1, col 0) has B=99.
    buf[RECORD + 1 + 2048 + 32] = 99;
    const split = parseCifarBinary(buf);
    expect(split.count).toBe(2);
    expect(Array.from(split.labels)).toEqual([7, 2]);
    expect(Array.from(split.images.subarray(3, 6))).toEqual([10, 20, 30]);
    expect(split.images[(31 * 32 + 31) * 3]).toBe(255);
    expect(split.images[3072 + 32 * 3 + 2]).toBe(99);
    expect(split.images.reduce((a, b) => a + b, 0)).toBe(10 + 20 + 30 + 255 + 99);
  });

  it('round-trips through encodeCifarBinary', () => {
    const buf = Buffer.alloc(3 * RECORD);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 31) % 251;
    for (let n = 0; n < 3; n++) buf[n * RECORD] = n + 4;
    expect(encodeCifarBinary(parseCifarBinary(buf)).equals(buf)).toBe(true);
  });

  it('rejects truncated data and out-of-range labels', () => {
    expect(() => parseCifarBinary(Buffer.alloc(RECORD + 5), 'x.bin')).toThrow(/x\.bin: 3078 bytes is not a whole number/);
    const bad = Buffer.alloc(RECORD);
    bad[0] = 10;
    expect(() => parseCifarBinary(bad, 'y.bin')).toThrow(/y\.bin: record 0 has label 10/);
  });

  it('reads class names from batches.meta.txt', () => {
    expect(parseClassNames(CLASS_NAMES.join('\n') + '\n\n')).toEqual(CLASS_NAMES);
    expect(() => parseClassNames('a\nb\n')).toThrow(/expected 10 class names, found 2/);
  });
});

describe('CIFAR-10 binary archive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cifar-archive-'));

  it('imports train batches in order and the test batch', async () => {
    const { archive, train, test } = makeCifarArchive(4);
    const path = join(dir, 'cifar.tar.gz');
    writeFileSync(path, archive);
    const ds = await importCifarBinaryArchive(path, 'test-source');
    expect(ds.classNames).toEqual(CLASS_NAMES);
    expect(ds.train.count).toBe(20);
    expect(ds.test.count).toBe(4);
    expect(Array.from(ds.train.labels.subarray(8, 12))).toEqual(Array.from(train[2].labels));
    expect(Buffer.from(ds.train.images.subarray(8 * 3072, 12 * 3072)).equals(Buffer.from(train[2].images))).toBe(true);
    expect(Buffer.from(ds.test.images).equals(Buffer.from(test.images))).toBe(true);
    expect(ds.synthetic).toBe(false);
  });

  it('names the members that are missing', async () => {
    const path = join(dir, 'partial.tar.gz');
    writeFileSync(path, makeTar([{ path: `${CIFAR10_DIR}/test_batch.bin`, data: Buffer.alloc(RECORD) }]));
    await expect(importCifarBinaryArchive(path, 'x')).rejects.toThrow(/missing cifar-10-batches-bin\/data_batch_1\.bin/);
  });
});
