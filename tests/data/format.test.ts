import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../domain/common/npy.js';
import { loadDataset, makeSplit, saveDataset, type Dataset } from '../../domain/data/format.js';
import { randomCifarSplit } from './fixtures.js';

function tinyDataset(): Dataset {
  return {
    name: 'tiny', source: 'test', synthetic: false, classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
    train: randomCifarSplit(12, 'train'), test: randomCifarSplit(5, 'test'), val: randomCifarSplit(3, 'val'),
  };
}

describe('dataset format', () => {
  it('round-trips through .npy files and dataset.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ds-'));
    const ds = tinyDataset();
    const info = await saveDataset(dir, ds, { seed: 1 });
    expect(info.counts.train!.total).toBe(12);
    expect(info.counts.val!.perClass.reduce((a, b) => a + b, 0)).toBe(3);
    const json = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'));
    expect(json).toMatchObject({ name: 'tiny', synthetic: false, height: 32, width: 32, channels: 3, selection: { seed: 1 } });
    const images = await readNpy(join(dir, 'train_images.npy'));
    expect(images).toMatchObject({ dtype: 'uint8', shape: [12, 32, 32, 3] });
    expect((await readNpy(join(dir, 'test_labels.npy'))).shape).toEqual([5]);
    const back = await loadDataset(dir);
    for (const split of ['train', 'test', 'val'] as const) {
      expect(Buffer.from(back[split]!.images).equals(Buffer.from(ds[split]!.images))).toBe(true);
      expect(Buffer.from(back[split]!.labels).equals(Buffer.from(ds[split]!.labels))).toBe(true);
    }
    expect(back.classNames).toEqual(ds.classNames);
  });

  it('omits the validation files when there is no validation split', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ds-'));
    const { val: _val, ...rest } = tinyDataset();
    const info = await saveDataset(dir, rest);
    expect(info.counts.val).toBeUndefined();
    expect((await loadDataset(dir)).val).toBeUndefined();
  });

  it('says what is wrong with a directory that is not a dataset, or disagrees with dataset.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ds-'));
    await expect(loadDataset(dir)).rejects.toThrow(/dataset\.json: cannot read the dataset description/);
    await saveDataset(dir, tinyDataset());
    const json = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'));
    json.counts.test.total = 6;
    writeFileSync(join(dir, 'dataset.json'), JSON.stringify(json));
    await expect(loadDataset(dir)).rejects.toThrow(/test split has images \[5,32,32,3\].*dataset\.json says 6/);
  });

  it('checks split sizes', () => {
    expect(() => makeSplit(new Uint8Array(10), new Uint8Array(2), 1, 1, 3)).toThrow(/2 labels of 1x1x3 need 6 pixel bytes, got 10/);
  });
});
