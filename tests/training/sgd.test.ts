import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkSchedule, learningRateAt } from '../../domain/training/schedule.js';
import { Sgd } from '../../domain/training/sgd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const GRADS = [
  [0.5, 1],
  [-1, 0.25],
  [0.1, 0.1],
];
const LRS = [0.1, 0.1, 0.01];

function run(sgd: Sgd, w: tf.Variable, steps: number[]): number[] {
  for (const s of steps) {
    const g = tf.tensor1d(GRADS[s]);
    sgd.step([{ name: 'w', variable: w }], { w: g }, LRS[s]);
    g.dispose();
  }
  return Array.from(w.dataSync());
}

describe('Sgd (torch.optim.SGD semantics)', () => {
  it('matches three hand-computed steps with momentum 0.9 and weight decay 0.1', () => {
    // d_p = g + 0.1 w; buf = d_p, then 0.9 buf + d_p; w -= lr buf.
    // step 1: d_p = [0.6, 0.8], w = [0.94, -2.08]
    // step 2: d_p = [-0.906, 0.042], buf = [-0.366, 0.762], w = [0.9766, -2.1562]
    // step 3 (lr 0.01): d_p = [0.19766, -0.11562], buf = [-0.13174, 0.57018], w = [0.9779174, -2.1619018]
    const w = tf.variable(tf.tensor1d([1, -2]));
    const sgd = new Sgd({ momentum: 0.9, weightDecay: 0.1 });
    expect(run(sgd, w, [0])).toEqual([expect.closeTo(0.94, 6), expect.closeTo(-2.08, 6)]);
    expect(run(sgd, w, [1])).toEqual([expect.closeTo(0.9766, 6), expect.closeTo(-2.1562, 6)]);
    expect(run(sgd, w, [2])).toEqual([expect.closeTo(0.9779174, 6), expect.closeTo(-2.1619018, 6)]);
    const state = sgd.getState();
    expect(Array.from(state.buffers.w.values)).toEqual([expect.closeTo(-0.13174, 6), expect.closeTo(0.57018, 6)]);
    sgd.dispose();
    w.dispose();
  });

  it('is plain gradient descent without momentum and weight decay', () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const sgd = new Sgd({ momentum: 0, weightDecay: 0 });
    expect(run(sgd, w, [0, 1])).toEqual([expect.closeTo(1 - 0.05 + 0.1, 6), expect.closeTo(-2 - 0.1 - 0.025, 6)]);
    expect(Object.keys(sgd.getState().buffers)).toEqual([]);
    w.dispose();
  });

  it('resumes exactly from saved state', () => {
    const a = tf.variable(tf.tensor1d([1, -2]));
    const sgdA = new Sgd({ momentum: 0.9, weightDecay: 5e-4 });
    run(sgdA, a, [0, 1]);
    const state = sgdA.getState();
    const b = tf.variable(a.clone());
    const sgdB = new Sgd({ momentum: 0.9, weightDecay: 5e-4 });
    sgdB.setState(state);
    expect(run(sgdB, b, [2])).toEqual(run(sgdA, a, [2]));
    expect(() => new Sgd({ momentum: 0.5, weightDecay: 5e-4 }).setState(state)).toThrow(/momentum 0.9.*momentum 0.5/);
    [sgdA, sgdB].forEach((s) => s.dispose());
    tf.dispose([a, b]);
  });

  it('does not leak tensors across steps', () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const sgd = new Sgd({ momentum: 0.9, weightDecay: 0.1 });
    run(sgd, w, [0]);
    const before = tf.memory().numTensors;
    run(sgd, w, [1, 2, 1, 2]);
    expect(tf.memory().numTensors).toBe(before);
    sgd.dispose();
    w.dispose();
  });

  it('rejects bad settings and missing gradients by name', () => {
    expect(() => new Sgd({ momentum: 1, weightDecay: 0 })).toThrow(/momentum.*\[0, 1\).*got 1/);
    expect(() => new Sgd({ momentum: 0.9, weightDecay: -1 })).toThrow(/weightDecay.*got -1/);
    const w = tf.variable(tf.tensor1d([1]));
    const sgd = new Sgd({ momentum: 0.9, weightDecay: 0 });
    expect(() => sgd.step([{ name: 'conv1/kernel', variable: w }], {}, 0.1)).toThrow(/no gradient for parameter 'conv1\/kernel'/);
    expect(() => sgd.step([], {}, Number.NaN)).toThrow(/learning rate.*NaN/);
    w.dispose();
  });
});

describe('step learning-rate schedule', () => {
  it('follows MultiStepLR: x gamma from each milestone epoch (0-based) on', () => {
    const s = { lr: 0.1, milestones: [81, 122], gamma: 0.1 };
    expect(learningRateAt(0, s)).toBe(0.1);
    expect(learningRateAt(80, s)).toBe(0.1);
    expect(learningRateAt(81, s)).toBeCloseTo(0.01, 12);
    expect(learningRateAt(121, s)).toBeCloseTo(0.01, 12);
    expect(learningRateAt(122, s)).toBeCloseTo(0.001, 12);
    expect(learningRateAt(163, s)).toBeCloseTo(0.001, 12);
  });

  it('rejects unordered milestones and bad rates', () => {
    expect(() => checkSchedule({ lr: 0.1, milestones: [150, 150], gamma: 0.1 })).toThrow(/increase strictly.*150,150/);
    expect(() => checkSchedule({ lr: 0, milestones: [], gamma: 0.1 })).toThrow(/learning rate.*got 0/);
    expect(() => checkSchedule({ lr: 0.1, milestones: [0.5], gamma: 0.1 })).toThrow(/milestones.*0.5/);
    expect(() => learningRateAt(-1, { lr: 0.1, milestones: [], gamma: 0.1 })).toThrow(/epoch.*-1/);
  });
});
