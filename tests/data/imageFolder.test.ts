import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { resizeBilinearTorch } from '../../domain/data/imageDecode.js';
import { importImageFolder, type ImageFolderOptions } from '../../domain/data/imageFolder.js';
import { Rng } from '../../domain/common/rng.js';
import { countPerClass } from '../../domain/data/format.js';
import { pickPerClass, selectPerClass } from '../../domain/data/subset.js';
import { makeTar, type TarEntry } from './fixtures.js';

const OPTS: ImageFolderOptions = { height: 8, width: 8, resize: false, classes: null, concurrency: 3 };

/** An 8x8 RGB image whose pixel (y, x) is [base + x, base + y, base]. */
function pixels(base: number, size = 8): Buffer {
  const buf = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) buf.set([base + x, base + y, base], (y * size + x) * 3);
  return buf;
}

async function png(base: number, size = 8): Promise<Buffer> {
  return sharp(pixels(base, size), { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}

/** Writes `files` (relative path -> bytes) under a fresh directory. */
function folder(files: Record<string, Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'imgfolder-'));
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), data);
  }
  return root;
}

let good: Record<string, Buffer>;
beforeAll(async () => {
  good = {
    'train/zebra/b.png': await png(100),
    'train/zebra/a.png': await png(90),
    'train/ant/1.png': await png(10),
    'train/ant/2.jpg': await sharp(pixels(40), { raw: { width: 8, height: 8, channels: 3 } }).jpeg({ quality: 95 }).toBuffer(),
    'train/ant/.DS_Store': Buffer.from('junk'),
    'test/ant/x.PNG': await png(20),
    'test/zebra/y.png': await png(200),
    'README.txt': Buffer.from('ignored'),
  };
});

describe('importImageFolder', () => {
  it('decodes a directory in sorted class order with exact PNG pixels', async () => {
    const ds = await importImageFolder(folder(good), OPTS);
    expect(ds.classNames).toEqual(['ant', 'zebra']);
    expect(ds.train.count).toBe(4);
    expect(Array.from(ds.train.labels)).toEqual([0, 0, 1, 1]);
    expect(Array.from(ds.test.labels)).toEqual([0, 1]);
    // train order: ant/1.png, ant/2.jpg, zebra/a.png, zebra/b.png
    expect(Buffer.from(ds.train.images.subarray(0, 192)).equals(pixels(10))).toBe(true);
    expect(Buffer.from(ds.train.images.subarray(2 * 192, 3 * 192)).equals(pixels(90))).toBe(true);
    expect(Buffer.from(ds.test.images.subarray(192)).equals(pixels(200))).toBe(true);
    // The JPEG is lossy: close to its source, not equal.
    const jpeg = ds.train.images.subarray(192, 384);
    const src = pixels(40);
    const maxErr = Math.max(...Array.from(jpeg, (v, i) => Math.abs(v - src[i])));
    expect(maxErr).toBeGreaterThan(0);
    expect(maxErr).toBeLessThan(12);
  });

  it('reads the same images from a .tar.gz, and from a wrapping folder', async () => {
    const fromDir = await importImageFolder(folder(good), OPTS);
    const entries: TarEntry[] = Object.entries(good).map(([path, data]) => ({ path: `cifar/${path}`, data }));
    const archive = join(mkdtempSync(join(tmpdir(), 'imgtar-')), 'set.tar.gz');
    writeFileSync(archive, makeTar(entries));
    const fromTar = await importImageFolder(archive, OPTS);
    expect(fromTar.classNames).toEqual(fromDir.classNames);
    expect(Buffer.from(fromTar.train.images).equals(Buffer.from(fromDir.train.images))).toBe(true);
    expect(Buffer.from(fromTar.test.labels).equals(Buffer.from(fromDir.test.labels))).toBe(true);
  });

  it('follows an explicit class order', async () => {
    const ds = await importImageFolder(folder(good), { ...OPTS, classes: ['zebra', 'ant'] });
    expect(Array.from(ds.train.labels)).toEqual([0, 0, 1, 1]);
    expect(Buffer.from(ds.train.images.subarray(0, 192)).equals(pixels(90))).toBe(true);
    await expect(importImageFolder(folder(good), { ...OPTS, classes: ['ant'] })).rejects.toThrow(/train\/zebra\/ is not in data\.classes \(ant\)/);
  });

  it('decodes only the selected subset, choosing exactly what selecting after decoding would', async () => {
    const files: Record<string, Buffer> = {};
    for (const c of ['a', 'b', 'c']) for (let i = 0; i < 6; i++) for (const split of ['train', 'test']) files[`${split}/${c}/${i}.png`] = await png(c.charCodeAt(0) + i * 10);
    const root = folder(files);
    const totals: number[] = [];
    const picked = await importImageFolder(root, {
      ...OPTS,
      select: (split, labels, numClasses) => pickPerClass(labels, numClasses, split === 'train' ? 2 : 3, new Rng(`pick/${split}`)),
      onProgress: (_done, total) => totals.push(total),
    });
    expect(totals.at(-1)).toBe(3 * 2 + 3 * 3);
    expect(countPerClass(picked.train.labels, 3)).toEqual([2, 2, 2]);
    const all = await importImageFolder(root, OPTS);
    expect(Buffer.from(picked.train.images).equals(Buffer.from(selectPerClass(all.train, 3, 2, new Rng('pick/train')).split.images))).toBe(true);
    expect(Buffer.from(picked.test.images).equals(Buffer.from(selectPerClass(all.test, 3, 3, new Rng('pick/test')).split.images))).toBe(true);
    // An image that is not selected is never decoded: a broken one there goes unnoticed.
    const withBroken = folder({ ...files, 'train/c/9.png': Buffer.from('broken') });
    const first = await importImageFolder(withBroken, { ...OPTS, select: (split) => (split === 'train' ? [0] : null) });
    expect(first.train.count).toBe(1);
    expect(Buffer.from(first.train.images).equals(Buffer.from(all.train.images.subarray(0, 192)))).toBe(true);
  });

  it('names an undecodable image', async () => {
    const root = folder({ ...good, 'train/zebra/broken.png': Buffer.from('not really a png') });
    await expect(importImageFolder(root, OPTS)).rejects.toThrow(new RegExp(`${join(root, 'train/zebra/broken.png')}: not a decodable image`));
  });

  it('names a file that is not an image', async () => {
    await expect(importImageFolder(folder({ ...good, 'test/ant/notes.txt': Buffer.from('x') }), OPTS)).rejects.toThrow(/test\/ant\/notes\.txt: not an image file \(allowed extensions: \.png, \.jpg, \.jpeg\)/);
  });

  it('rejects a wrong-sized image unless resize is on, then resizes like PyTorch', async () => {
    const root = folder({ ...good, 'train/ant/big.png': await png(50, 12) });
    await expect(importImageFolder(root, OPTS)).rejects.toThrow(/train\/ant\/big\.png: image is 12x12, expected 8x8 \(set data\.resize=true/);
    const ds = await importImageFolder(root, { ...OPTS, resize: true });
    // ant sorts as 1.png, 2.jpg, big.png. PyTorch (align_corners=False) samples source x = (j + 0.5) * 1.5 - 0.5
    // = 0.25, 1.75, 3.25, ... so R = 50 + x, rounded; tfjs' default convention would sample x = 1.5 j instead.
    const big = ds.train.images.subarray(2 * 192, 3 * 192);
    const rowR = Array.from({ length: 8 }, (_, j) => big[j * 3]);
    expect(rowR).toEqual([50, 52, 53, 55, 56, 58, 59, 61]);
    const columnG = Array.from({ length: 8 }, (_, i) => big[i * 8 * 3 + 1]);
    expect(columnG).toEqual([50, 52, 53, 55, 56, 58, 59, 61]);
    expect(new Set(Array.from({ length: 64 }, (_, p) => big[p * 3 + 2]))).toEqual(new Set([50]));
  });

  it('names a class folder missing from test, or one without images', async () => {
    const noTest = { ...good };
    delete noTest['test/zebra/y.png'];
    await expect(importImageFolder(folder(noTest), OPTS)).rejects.toThrow(/class folder test\/zebra\/ is missing/);
    const root = folder(good);
    mkdirSync(join(root, 'test', 'yak'));
    await expect(importImageFolder(root, OPTS)).rejects.toThrow(/class folder test\/yak\/ has no counterpart in train\//);
    rmSync(join(root, 'test', 'yak'), { recursive: true });
    mkdirSync(join(root, 'train', 'yak'));
    await expect(importImageFolder(root, OPTS)).rejects.toThrow(/class folder train\/yak\/ has no images/);
    await expect(importImageFolder(join(root, 'nope'), OPTS)).rejects.toThrow(/image folder '.*nope' does not exist/);
  });

  it('converts greyscale and RGBA images to RGB', async () => {
    const grey = await sharp(Buffer.alloc(64, 77), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer();
    const rgba = await sharp(Buffer.alloc(256, 200), { raw: { width: 8, height: 8, channels: 4 } }).png().toBuffer();
    const ds = await importImageFolder(folder({ 'train/a/g.png': grey, 'train/b/r.png': rgba, 'test/a/g.png': grey, 'test/b/r.png': rgba }), OPTS);
    expect(new Set(ds.train.images.subarray(0, 192))).toEqual(new Set([77]));
    expect(new Set(ds.train.images.subarray(192))).toEqual(new Set([200]));
  });

  it('keeps the tensor count flat across resized images', async () => {
    await tf.setBackend('cpu');
    const img = pixels(0, 16);
    resizeBilinearTorch(img, 16, 16, 8, 8);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) resizeBilinearTorch(img, 16, 16, 8, 8);
    expect(tf.memory().numTensors).toBe(before);
  });
});
