/**
 * The training batches use the in-place pixel forms of stamping and of the enhanced layer; these
 * tests hold them to the tensor forms: same random draws, same pixels (stamping bit for bit,
 * bilinear ShrinkPad to float rounding), whole batches included. ShrinkPad's tensor form runs the
 * pixel arithmetic too, so it is also held to resize-then-pad with tfjs ops.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { badNetsTrigger, stamp, stampInPlace, type Trigger } from '../../domain/attacks/trigger.js';
import { composeTransforms } from '../../domain/transforms/compose.js';
import { randomFlip } from '../../domain/transforms/flip.js';
import { fixedShrinkPad, randomShrinkPad, shrinkPadPixels, shrinkPadWithDraws } from '../../domain/transforms/shrinkpad.js';
import { poisonedBatches, type TrainingImages } from '../../domain/attacks/batches.js';
import type { ImageTransform } from '../../domain/common/types.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const H = 12, W = 10, C = 3;
const SHAPE: [number, number, number] = [H, W, C];

function randomImages(n: number, seed: string): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * H * W * C }, () => rng.uniform());
}

/** Applies the pixel form to `rows` of a copy and the tensor form to the gathered rows; returns both and the rngs after. */
function bothForms(t: ImageTransform, images: Float32Array, n: number, rows: number[], seed: string) {
  const viaPixels = images.slice();
  const pixelRng = new Rng(seed);
  t.pixels!(viaPixels, rows, SHAPE, pixelRng);
  const tensorRng = new Rng(seed);
  const x = tf.tensor4d(images, [n, H, W, C]);
  const picked = tf.gather(x, rows) as tf.Tensor4D;
  const out = t(picked, tensorRng);
  const viaTensors = images.slice();
  const values = out.dataSync();
  rows.forEach((row, k) => viaTensors.set(values.subarray(k * H * W * C, (k + 1) * H * W * C), row * H * W * C));
  tf.dispose([x, picked, out]);
  return { viaPixels, viaTensors, sameDraws: JSON.stringify(pixelRng.state()) === JSON.stringify(tensorRng.state()) };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('pixel forms of the enhanced layer', () => {
  const n = 9;
  const images = randomImages(n, 'imgs');
  const rows = [0, 2, 3, 7, 8];

  it('randomFlip: same draws, same pixels, other rows untouched', () => {
    const { viaPixels, viaTensors, sameDraws } = bothForms(randomFlip(0.5), images, n, rows, 'flip');
    expect(sameDraws).toBe(true);
    expect(maxDiff(viaPixels, viaTensors)).toBe(0);
    expect(maxDiff(viaPixels, images)).toBeGreaterThan(0); // some listed row was mirrored
    const row1 = H * W * C;
    expect(Array.from(viaPixels.subarray(row1, 2 * row1))).toEqual(Array.from(images.subarray(row1, 2 * row1)));
  });

  it('random and fixed ShrinkPad: same draws, pixels within float rounding, zero borders', () => {
    for (const t of [randomShrinkPad(4), fixedShrinkPad(3)]) {
      const { viaPixels, viaTensors, sameDraws } = bothForms(t, images, n, rows, 'shrink');
      expect(sameDraws).toBe(true);
      expect(maxDiff(viaPixels, viaTensors)).toBeLessThan(1e-6);
      expect(maxDiff(viaPixels, images)).toBeGreaterThan(0.01);
    }
  });

  it('a shrink of s pixels at offset (top, left) leaves exactly the padding black', () => {
    const one = randomImages(1, 'one').map((v) => 0.2 + 0.6 * v);
    shrinkPadPixels(one, [0], SHAPE, [{ size: 3, top: 1, left: 2 }]);
    for (let r = 0; r < H; r++) {
      for (let q = 0; q < W; q++) {
        const inside = r >= 1 && r < 1 + H - 3 && q >= 2 && q < 2 + W - 3;
        const v = one[(r * W + q) * C];
        if (inside) expect(v).toBeGreaterThan(0.15);
        else expect(v).toBe(0);
      }
    }
    // The tensor form with the same explicit draw agrees.
    const x = tf.tensor4d(randomImages(1, 'one').map((v) => 0.2 + 0.6 * v), [1, H, W, C]);
    const y = shrinkPadWithDraws(x, [{ size: 3, top: 1, left: 2 }]);
    expect(maxDiff(one, y.dataSync() as Float32Array)).toBeLessThan(1e-6);
    tf.dispose([x, y]);
  });

  it('ShrinkPad equals resize-then-pad done with tfjs ops (a second route), every size from 0 to 5', () => {
    const rng = new Rng('draws');
    const draws = Array.from({ length: n }, (_, i) => {
      const size = i % 6;
      return { size, top: rng.int(0, size), left: rng.int(0, size) };
    });
    const x = tf.tensor4d(images, [n, H, W, C]);
    const reference = tf.tidy(() => tf.stack(draws.map((d, i) => {
      const one = tf.slice(x, [i, 0, 0, 0], [1, H, W, C]);
      const shrunk = d.size === 0 ? one : tf.image.resizeBilinear(one, [H - d.size, W - d.size], false, true);
      return tf.pad(tf.squeeze(shrunk, [0]), [[d.top, d.size - d.top], [d.left, d.size - d.left], [0, 0]]);
    })).clipByValue(0, 1));
    const ours = shrinkPadWithDraws(x, draws);
    expect(maxDiff(ours.dataSync() as Float32Array, reference.dataSync() as Float32Array)).toBeLessThan(1e-6);
    tf.dispose([x, reference, ours]);
  });

  it('composeTransforms has a pixel form only when every step has one', () => {
    const composed = composeTransforms([{ type: 'flip', p: 0.5 }, { type: 'shrinkpad', maxSize: 3 }]);
    expect(composed.pixels).toBeDefined();
    const { viaPixels, viaTensors, sameDraws } = bothForms(composed, images, n, rows, 'both');
    expect(sameDraws).toBe(true);
    expect(maxDiff(viaPixels, viaTensors)).toBeLessThan(1e-6);
    const custom = composeTransforms([{ type: 'flip' }, { type: 'invert' }], { flip: () => randomFlip(0.5), invert: () => (x) => tf.sub(1, x) as tf.Tensor4D });
    expect(custom.pixels).toBeUndefined();
  });
});

describe('stampInPlace', () => {
  it('matches stamp bit for bit, for blended and additive triggers, on the listed rows only', () => {
    const n = 4;
    const images = randomImages(n, 'stamp');
    const blended = badNetsTrigger({ imageShape: SHAPE, value: 200, alpha: 0.2 });
    const rng = new Rng('pattern');
    const additive: Trigger = {
      shape: SHAPE,
      pattern: Float32Array.from({ length: H * W * C }, () => rng.range(-1, 1)),
      mask: new Float32Array(H * W * C).fill(0.05),
      description: { ...blended.description, kind: 'uap', mode: 'additive', patches: [] },
    };
    for (const trigger of [blended, additive]) {
      const buffer = images.slice();
      stampInPlace(buffer, [1, 3], SHAPE, trigger);
      const x = tf.tensor4d(images, [n, H, W, C]);
      const stamped = stamp(x, trigger);
      const want = stamped.dataSync();
      const size = H * W * C;
      for (const row of [1, 3]) expect(Array.from(buffer.subarray(row * size, (row + 1) * size))).toEqual(Array.from(want.subarray(row * size, (row + 1) * size)));
      for (const row of [0, 2]) expect(Array.from(buffer.subarray(row * size, (row + 1) * size))).toEqual(Array.from(images.subarray(row * size, (row + 1) * size)));
      tf.dispose([x, stamped]);
    }
  });
});

describe('a trigger made for other images', () => {
  it('is refused by stampInPlace and by the batch source, naming both shapes', () => {
    const other = badNetsTrigger({ imageShape: [W, H, C], value: 255, alpha: 1 });
    expect(() => stampInPlace(randomImages(2, 'x'), [0], SHAPE, other)).toThrow(/trigger is for 10x12x3 images, batch has 12x10x3/);
    const set: TrainingImages = { images: new Uint8Array(4 * H * W * C), labels: new Uint8Array(4), isPoisoned: Uint8Array.from([1, 0, 0, 0]), shape: SHAPE };
    expect(() => poisonedBatches(set, { batchSize: 2, augment: { padding: 0, flipProbability: 0 }, trigger: other })).toThrow(/trigger is for 10x12x3 images, the training images are 12x10x3/);
  });
});

describe('poisonedBatches with and without the pixel form', () => {
  it('gives the same batches as the tensor path, benign rows enhanced or not', () => {
    const n = 50;
    const rng = new Rng('set');
    const set: TrainingImages = {
      images: Uint8Array.from({ length: n * H * W * C }, () => rng.int(0, 255)),
      labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
      isPoisoned: Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0)),
      shape: SHAPE,
    };
    const trigger = badNetsTrigger({ imageShape: SHAPE, value: 255, alpha: 1 });
    const enhance = composeTransforms([{ type: 'flip', p: 0.5 }, { type: 'shrinkpad', maxSize: 4 }]);
    // The enhanced layer without its pixel form, i.e. through tensors (stamping is in place on both
    // paths: stampInPlace is held to the tensor stamp above).
    const tensorOnly: ImageTransform = (x, r) => enhance(x, r);
    const tensorsBefore = tf.memory().numTensors;
    for (const enhanceBenign of [false, true]) {
      const options = { batchSize: 16, augment: { padding: 2, flipProbability: 0.5 }, trigger, enhanceBenign };
      const fast = [...poisonedBatches(set, { ...options, enhanceTransform: enhance })(0, new Rng('epoch'))];
      const slow = [...poisonedBatches(set, { ...options, enhanceTransform: tensorOnly })(0, new Rng('epoch'))];
      expect(fast.length).toBe(slow.length);
      fast.forEach((b, k) => {
        expect(Array.from(b.y.dataSync())).toEqual(Array.from(slow[k].y.dataSync()));
        expect(maxDiff(b.x.dataSync() as Float32Array, slow[k].x.dataSync() as Float32Array)).toBeLessThan(1e-6);
      });
      tf.dispose([...fast, ...slow].flatMap((b) => [b.x, b.y]));
    }
    // Both paths leave nothing behind once their batches are disposed.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
