import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../domain/common/rng.js';
import { buildModel } from '../../domain/models/zoo.js';
import { batchIndices, shuffledBatches } from '../../domain/training/batches.js';
import { gatherPixels, toFloatImages } from '../../domain/common/pixels.js';
import { accuracy, argmaxRows, predictLabels, predictLogits } from '../../domain/training/evaluate.js';
import { quadrantImages } from './synthetic.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('batches', () => {
  it('covers every index once per epoch, seeded, with a short last batch unless dropLast', () => {
    const a = batchIndices(10, 4, new Rng(1));
    expect(a.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(a.flat().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batchIndices(10, 4, new Rng(1))).toEqual(a);
    expect(batchIndices(10, 4, new Rng(2))).not.toEqual(a);
    expect(batchIndices(10, 4, new Rng(1), true).map((b) => b.length)).toEqual([4, 4]);
    expect(() => batchIndices(10, 0, new Rng(1))).toThrow(/batchSize.*got 0/);
  });

  it('converts uint8 to float [0, 1] and gathers the right images with their labels', () => {
    const data = quadrantImages(5, 4, 3);
    const shape = { height: 4, width: 4, channels: 3 };
    const pixels = gatherPixels(data.images, shape, [3, 0]);
    expect(Array.from(pixels.subarray(0, 48))).toEqual(Array.from(data.images.subarray(3 * 48, 4 * 48)));
    const x = toFloatImages(pixels, shape);
    expect(x.shape).toEqual([2, 4, 4, 3]);
    expect(x.dataSync()[5]).toBeCloseTo(pixels[5] / 255, 7);
    expect(() => gatherPixels(data.images, shape, [5])).toThrow(/index 5 out of range 0..4/);
    x.dispose();

    const seq = shuffledBatches(data, 2, new Rng(4));
    expect(seq.length).toBe(3);
    const seen: number[] = [];
    for (const { x: bx, y } of seq) {
      seen.push(...Array.from(y.dataSync()));
      tf.dispose([bx, y]);
    }
    expect(seen.sort()).toEqual(Array.from(data.labels).sort());
  });
});

describe('evaluation helpers', () => {
  it('predictLogits equals model.predict on the float images, across uneven batch boundaries', () => {
    const data = quadrantImages(7, 8, 5);
    const model = buildModel('small-cnn', { numClasses: 4, inputShape: [8, 8, 3], seed: 2, width: 0.25 });
    const x = toFloatImages(data.images, data);
    const expected = model.predict(x) as tf.Tensor;
    const before = tf.memory().numTensors;
    const got = predictLogits(model, data, 3);
    expect(tf.memory().numTensors).toBe(before);
    expect(got.classes).toBe(4);
    Array.from(expected.dataSync()).forEach((v, i) => expect(got.values[i]).toBeCloseTo(v, 5));
    const flipped = predictLogits(model, data, 3, (b) => tf.reverse(b, 2));
    expect(Array.from(flipped.values)).not.toEqual(Array.from(got.values));
    expect(Array.from(predictLabels(model, data, 4))).toEqual(Array.from(argmaxRows(got)));
    tf.dispose([x, expected]);
  });

  it('argmax and accuracy', () => {
    expect(Array.from(argmaxRows({ values: Float32Array.from([0, 2, 1, 5, -1, 0]), classes: 3 }))).toEqual([1, 0]);
    expect(accuracy([1, 2, 3, 4], [1, 2, 0, 4])).toBe(0.75);
    expect(() => accuracy([1], [1, 2])).toThrow(/1 predictions for 2 labels/);
  });
});
