import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../domain/common/rng.js';
import { cameraTransform, homographyFromPoints, withCamera, drawCamera, type CameraOptions } from '../../domain/transforms/camera.js';
import { composeTransforms } from '../../domain/transforms/compose.js';
import { imageBatch } from '../../domain/common/pixels.js';
import { simulatedCaptureAsr, exampleCaptures } from '../../domain/analyses/physical.js';
import { randomSplit, trigger, triggerDetector, TARGET, SIDE } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const none: CameraOptions = { perspective: 0, zoom: 0, rotation: 0, blur: 0, brightness: 0, noise: 0 };
const strong: CameraOptions = { perspective: 0.05, zoom: 0.15, rotation: 10, blur: 1, brightness: 0.2, noise: 5 };

describe('simulated camera', () => {
  it('solves a homography that maps the four points', () => {
    const from: [number, number][] = [[0, 0], [7, 0], [7, 7], [0, 7]];
    const to: [number, number][] = [[1, 0.5], [6.5, 0], [7.2, 6.8], [0.3, 7.5]];
    const h = homographyFromPoints(from, to);
    from.forEach(([x, y], i) => {
      const k = h[6] * x + h[7] * y + 1;
      expect((h[0] * x + h[1] * y + h[2]) / k).toBeCloseTo(to[i][0], 6);
      expect((h[3] * x + h[4] * y + h[5]) / k).toBeCloseTo(to[i][1], 6);
    });
  });

  it('is the identity with every strength at zero, and stays in [0, 1] otherwise', () => {
    const x = imageBatch(randomSplit(4, 'cam'), 0, 4);
    const id = cameraTransform(none)(x, new Rng(1));
    expect(tf.max(tf.abs(tf.sub(id, x))).dataSync()[0]).toBeLessThan(1e-5);
    const y = cameraTransform(strong)(x, new Rng(2));
    const [lo, hi] = [tf.min(y).dataSync()[0], tf.max(y).dataSync()[0]];
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(tf.mean(tf.abs(tf.sub(y, x))).dataSync()[0]).toBeGreaterThan(0.01);
    tf.dispose([x, id, y]);
  });

  it('draws differently per image and reproducibly per seed', () => {
    const a = drawCamera(strong, SIDE, SIDE, new Rng(5));
    const b = drawCamera(strong, SIDE, SIDE, new Rng(5));
    expect(a).toEqual(b);
    const r = new Rng(5);
    expect(drawCamera(strong, SIDE, SIDE, r)).not.toEqual(drawCamera(strong, SIDE, SIDE, r));
  });

  it('composes from params through the transform registry and rejects bad options', () => {
    const t = composeTransforms([{ type: 'camera', ...strong }], withCamera());
    const x = imageBatch(randomSplit(2, 'c2'), 0, 2);
    const before = tf.memory().numTensors;
    const y = t(x, new Rng(0));
    expect(y.shape).toEqual(x.shape);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    expect(() => composeTransforms([{ type: 'camera', ...strong, rotation: 90 }], withCamera())).toThrow(/'rotation' must be a number in \[0, 45\], got 90/);
    expect(() => composeTransforms([{ type: 'camera', perspective: 0 }], withCamera())).toThrow(/missing option/);
  });
});

describe('physical-capture simulation', () => {
  it('keeps the digital ASR and lowers a static-trigger detector under capture', () => {
    const t = trigger();
    const model = triggerDetector(t);
    const test = randomSplit(30, 'phys');
    const r = simulatedCaptureAsr(model, test, t, cameraTransform(strong), { batchSize: 16, target: TARGET, captures: 2 }, new Rng(3));
    expect(r.digitalAsr).toBe(100);
    expect(r.capturedAsr).toBeLessThan(r.digitalAsr);
    const shots = exampleCaptures(test, 0, t, cameraTransform(strong), 3, new Rng(4));
    expect(shots).toHaveLength(4);
    expect(shots[0].length).toBe(SIDE * SIDE * 3);
  });
});
