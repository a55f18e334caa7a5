import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { badNetsTrigger } from '../../domain/attacks/trigger.js';
import { poisonedBatches, substituteImages, transformRows, type TrainingImages } from '../../domain/attacks/batches.js';
import { composeTransforms } from '../../domain/transforms/compose.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const N = 40, H = 8, W = 8, C = 3;
const SIZE = H * W * C;
/** Strictly positive random images; label i identifies image i in a batch. */
function makeSet(poisoned: number[]): TrainingImages {
  const rng = new Rng('images');
  const images = Uint8Array.from({ length: N * SIZE }, () => rng.int(30, 220));
  const isPoisoned = new Uint8Array(N);
  for (const i of poisoned) isPoisoned[i] = 1;
  return { images, labels: Uint8Array.from({ length: N }, (_, i) => i), isPoisoned, shape: [H, W, C] };
}
const trigger = badNetsTrigger({ imageShape: [H, W, C], value: 255, alpha: 1 });
const boxOf = (img: number[][][]): number[] => img.slice(H - 3).flatMap((row) => row.slice(W - 3).flat());
const triggerBox = (): number[] => {
  const t = tf.tensor3d(trigger.pattern, [H, W, C]).arraySync() as number[][][];
  return boxOf(t);
};

function collect(batches: Iterable<{ x: tf.Tensor4D; y: tf.Tensor1D }>): Map<number, number[][][]> {
  const byImage = new Map<number, number[][][]>();
  for (const { x, y } of batches) {
    const imgs = x.arraySync() as number[][][][];
    (y.arraySync() as number[]).forEach((label, k) => byImage.set(label, imgs[k]));
    x.dispose();
    y.dispose();
  }
  return byImage;
}

describe('poisonedBatches', () => {
  const poisoned = [1, 5, 9, 22, 38];

  it('covers every image exactly once per epoch, in batches of the requested size', () => {
    const source = poisonedBatches(makeSet(poisoned), { batchSize: 16, augment: { padding: 4, flipProbability: 0.5 }, trigger });
    const sizes: number[] = [];
    const seen: number[] = [];
    for (const { x, y } of source(0, new Rng(1))) {
      sizes.push(x.shape[0]);
      expect(y.shape[0]).toBe(x.shape[0]);
      seen.push(...(y.arraySync() as number[]));
      x.dispose();
      y.dispose();
    }
    expect(sizes).toEqual([16, 16, 8]);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('augmentation never moves the trigger: the stamped box is the pattern in every epoch', () => {
    const source = poisonedBatches(makeSet(poisoned), { batchSize: 16, augment: { padding: 4, flipProbability: 0.5 }, trigger });
    const rng = new Rng(2);
    const want = triggerBox();
    const epochs = [0, 1, 2].map((e) => collect(source(e, rng)));
    for (const images of epochs) for (const i of poisoned) {
      boxOf(images.get(i)!).forEach((v, k) => expect(v).toBeCloseTo(want[k], 6));
    }
    // ...while the rest of the image does move: augmentation is on.
    const differs = poisoned.some((i) => JSON.stringify(epochs[0].get(i)!.slice(0, 4)) !== JSON.stringify(epochs[1].get(i)!.slice(0, 4)));
    expect(differs).toBe(true);
    // Benign images do not carry the trigger.
    const benignBoxes = [0, 2, 3].map((i) => boxOf(epochs[0].get(i)!));
    for (const box of benignBoxes) expect(box).not.toEqual(want);
  });

  it('without augmentation benign images are the originals / 255', () => {
    const set = makeSet(poisoned);
    const source = poisonedBatches(set, { batchSize: 64, augment: { padding: 0, flipProbability: 0 }, trigger });
    const images = collect(source(0, new Rng(3)));
    const original = Array.from(set.images.subarray(0 * SIZE, SIZE), (v) => v / 255);
    images.get(0)!.flat(2).forEach((v, k) => expect(v).toBeCloseTo(original[k], 6));
  });

  it('the enhanced transform moves the trigger on poisoned images only, unless benign images are asked for', () => {
    const set = makeSet(poisoned);
    const enhance = composeTransforms([{ type: 'flip', p: 0.5 }, { type: 'shrinkpad', maxSize: 2 }]);
    const plain = { batchSize: 64, augment: { padding: 0, flipProbability: 0 }, trigger, enhanceTransform: enhance };
    const want = triggerBox();
    const images = collect(poisonedBatches(set, plain)(0, new Rng(4)));
    const moved = poisoned.filter((i) => boxOf(images.get(i)!).some((v, k) => Math.abs(v - want[k]) > 1e-6));
    expect(moved.length).toBeGreaterThan(0);
    const original = Array.from(set.images.subarray(3 * SIZE, 4 * SIZE), (v) => v / 255);
    images.get(3)!.flat(2).forEach((v, k) => expect(v).toBeCloseTo(original[k], 6));

    const all = collect(poisonedBatches(set, { ...plain, enhanceBenign: true })(0, new Rng(4)));
    const benignChanged = [0, 2, 3, 4, 6, 7].filter((i) => {
      const orig = Array.from(set.images.subarray(i * SIZE, (i + 1) * SIZE), (v) => v / 255);
      return all.get(i)!.flat(2).some((v, k) => Math.abs(v - orig[k]) > 1e-6);
    });
    expect(benignChanged.length).toBeGreaterThan(0);
  });

  it('keeps tensor count stable across batches', () => {
    const enhance = composeTransforms([{ type: 'flip', p: 0.5 }, { type: 'shrinkpad', maxSize: 4 }]);
    const source = poisonedBatches(makeSet(poisoned), { batchSize: 8, augment: { padding: 4, flipProbability: 0.5 }, trigger, enhanceTransform: enhance });
    const rng = new Rng(5);
    collect(source(0, rng));
    const before = tf.memory().numTensors;
    collect(source(1, rng));
    collect(source(2, rng));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses poisoned images without a trigger and a bad batch size', () => {
    expect(() => poisonedBatches(makeSet(poisoned), { batchSize: 8, augment: { padding: 4, flipProbability: 0 } })).toThrow(/no trigger/);
    expect(() => poisonedBatches(makeSet([]), { batchSize: 0, augment: { padding: 4, flipProbability: 0 } })).toThrow(/batchSize.*got 0/);
  });
});

describe('helpers', () => {
  it('substituteImages replaces exactly the listed images', () => {
    const images = new Uint8Array(4 * 2).fill(1);
    const out = substituteImages(images, 2, [1, 3], Uint8Array.from([7, 8, 9, 10]));
    expect(Array.from(out)).toEqual([1, 1, 7, 8, 1, 1, 9, 10]);
    expect(Array.from(images)).toEqual(new Array(8).fill(1));
    expect(() => substituteImages(images, 2, [1], new Uint8Array(3))).toThrow(/need 2 replacement bytes, got 3/);
  });

  it('transformRows changes only the listed rows, keeping order', () => {
    const x = tf.tensor4d([0.1, 0.2, 0.3, 0.4], [4, 1, 1, 1]);
    const out = transformRows(x, [1, 3], (t) => tf.add(t, 0.5) as tf.Tensor4D, new Rng(0));
    Array.from(out.dataSync()).forEach((v, k) => expect(v).toBeCloseTo([0.1, 0.7, 0.3, 0.9][k], 6));
  });
});
