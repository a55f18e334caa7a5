import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { triggerSensitivity, ringMaximum, axisCurves } from '../../domain/analyses/sensitivity.js';
import { evaluateModel } from '../../domain/metrics/evaluate.js';
import { Rng } from '../../domain/common/rng.js';
import { randomSplit, trigger, triggerDetector, TARGET } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('trigger sensitivity', () => {
  const t = trigger(255);
  const model = triggerDetector(t);
  const test = randomSplit(40, 'sens');
  const o = { dx: [-3, -2, -1, 0, 1], dy: [-2, -1, 0], values: [0, 64, 128, 255], batchSize: 16, target: TARGET };

  it('equals the plain ASR at offset (0,0) and the original value, and falls when moved or dimmed', () => {
    const r = triggerSensitivity(model, test, t, o);
    const plain = evaluateModel(model, test, { batchSize: 16, target: TARGET, trigger: t, rng: new Rng(0) });
    expect(r.plainAsr).toBeCloseTo(100 * plain.asr!, 10);
    expect(r.plainAsr).toBe(100);
    expect(r.grid.find((p) => p.dx === 0 && p.dy === 0)!.asr).toBe(r.plainAsr);
    expect(r.values.find((v) => v.value === 255)!.asr).toBe(r.plainAsr);
    expect(r.values.find((v) => v.value === 64)!.asr).toBeLessThan(20);
    expect(ringMaximum(r.grid, 2)!).toBeLessThan(50);
    // dx = +1 pushes a bottom-right trigger off the image: skipped, not evaluated.
    expect(r.skipped).toEqual(expect.arrayContaining([{ dx: 1, dy: 0 }]));
    expect(r.grid).toHaveLength(4 * 3);
    const curves = axisCurves(r.grid);
    expect(curves.filter((c) => c.axis === 'horizontal (dx)').map((c) => c.shift)).toEqual([-3, -2, -1, 0]);
  });

  it('does not leak tensors across the grid', () => {
    triggerSensitivity(model, test, t, { ...o, dx: [0], dy: [0], values: [255] });
    const before = tf.memory().numTensors;
    triggerSensitivity(model, test, t, o);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects values outside 0..255 and non-integer shifts', () => {
    expect(() => triggerSensitivity(model, test, t, { ...o, values: [300] })).toThrow(/300 is not an integer in \[0, 255\]/);
    expect(() => triggerSensitivity(model, test, t, { ...o, dx: [0.5] })).toThrow(/dx: 0.5/);
  });
});
