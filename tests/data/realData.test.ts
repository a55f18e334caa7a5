/**
 * Real CIFAR-10 (the team's JPEG copy, ImageFolder layout). Skipped where the
 * file is absent. Only a few images per class are decoded, to keep the test fast;
 * `npm run bench:data` imports all 60,000.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { probeArchiveKind } from '../../domain/data/archiveKind.js';
import { importImageFolder } from '../../domain/data/imageFolder.js';
import { readTar } from '../../domain/data/safeTar.js';
import { CLASS_NAMES } from './fixtures.js';

// The team's machines keep it at ../shared/data beside the checkout.
const ARCHIVE = resolve(process.env.CIFAR10_JPEG ?? fileURLToPath(new URL('../../../shared/data/cifar10-jpeg.tar.gz', import.meta.url)));
const PER_CLASS = 5;
const present = existsSync(ARCHIVE);
if (!present) console.warn(`realData.test.ts skipped: ${ARCHIVE} is absent (set CIFAR10_JPEG to a copy of cifar10-jpeg.tar.gz to run it)`);

describe.skipIf(!present)(`real CIFAR-10 JPEG copy (${ARCHIVE})`, () => {
  it('is recognised as an image folder', async () => {
    expect(await probeArchiveKind(ARCHIVE)).toBe('imagefolder');
  });

  it(`imports ${PER_CLASS} images per class and split with sensible pixels`, async () => {
    // Copy the first few members of each class folder out of the real archive, through the safe reader.
    const root = mkdtempSync(join(tmpdir(), 'cifar-jpeg-'));
    const taken = new Map<string, number>();
    await readTar(ARCHIVE, {
      select: (path) => {
        const folder = dirname(path);
        const n = taken.get(folder) ?? 0;
        if (n >= PER_CLASS) return false;
        taken.set(folder, n + 1);
        return true;
      },
      onFile: (f) => {
        mkdirSync(join(root, dirname(f.path)), { recursive: true });
        writeFileSync(join(root, f.path), f.data);
      },
    });
    const ds = await importImageFolder(root, { height: 32, width: 32, resize: false, classes: null, concurrency: 4 });
    expect(ds.classNames).toEqual(CLASS_NAMES);
    expect(ds.train.count).toBe(10 * PER_CLASS);
    expect(ds.test.count).toBe(10 * PER_CLASS);
    expect(Array.from(ds.train.labels.subarray(0, PER_CLASS + 1))).toEqual([...new Array(PER_CLASS).fill(0), 1]);
    // Natural images: mid-range mean, full dynamic range, and no two images identical.
    const mean = ds.train.images.reduce((a, b) => a + b, 0) / ds.train.images.length;
    expect(mean).toBeGreaterThan(60);
    expect(mean).toBeLessThan(200);
    const first = Buffer.from(ds.train.images.subarray(0, 3072));
    expect(Math.max(...first) - Math.min(...first)).toBeGreaterThan(100);
    expect(first.equals(Buffer.from(ds.train.images.subarray(3072, 6144)))).toBe(false);
  });
});
