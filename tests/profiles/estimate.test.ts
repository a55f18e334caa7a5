import { describe, expect, it } from 'vitest';
import type { Estimator, JsonObject } from '../../engine/stage.js';
import { buildDag } from '../../engine/graph.js';
import { describeEstimate, estimateRun } from '../../engine/estimate.js';
import { activeBackend, datasetSizes, estimateTraining, speedOf } from '../../domain/backend/estimate.js';
import { lookupThroughput, mergeThroughput, type ThroughputEntry } from '../../domain/backend/throughput.js';

const entry = (model: string, trainImgPerS: number, backend = 'wasm'): ThroughputEntry => ({ backend, model, batch: 128, date: '2026-11-26T00:00:00Z', trainImgPerS, forwardImgPerS: trainImgPerS * 5 });

const params = (over: Partial<Record<string, unknown>> = {}): JsonObject =>
  ({ compute: { backend: 'wasm' }, models: { architectures: ['resnet20'], width: { resnet20: 0.5 } }, data: { source: 'cifar10', perClassTrain: 100, perClassTest: 20, classes: null, valFraction: 0.5 }, ...over }) as JsonObject;

describe('throughput table', () => {
  it('prefers the width-specific entry, falls back to the default width, and merges by backend and model', () => {
    const table = mergeThroughput({ entries: [entry('resnet20', 60)] }, [entry('resnet20@0.5', 150), entry('resnet20', 58)]);
    expect(table.entries.map((e) => `${e.model}:${e.trainImgPerS}`)).toEqual(['resnet20:58', 'resnet20@0.5:150']);
    expect(lookupThroughput(table, 'wasm', 'resnet20', 0.5)?.trainImgPerS).toBe(150);
    expect(lookupThroughput(table, 'wasm', 'resnet20', 0.25)?.trainImgPerS).toBe(58);
    expect(lookupThroughput(table, 'tensorflow', 'resnet20', null)).toBeNull();
  });

  it('uses the active backend, and says so when only wasm figures exist', () => {
    const table = { entries: [entry('resnet20@0.5', 150)] };
    expect(activeBackend(params(), {})).toBe('wasm');
    expect(activeBackend(params(), { TRIGGER_LAB_BACKEND: 'cpu' })).toBe('cpu');
    expect(speedOf(params(), 'resnet20', table)?.basis).toMatch(/measured wasm throughput of resnet20@0\.5/);
    expect(speedOf(params({ compute: { backend: 'tensorflow' } }), 'resnet20', table)?.basis).toMatch(/no tensorflow measurement: wasm figures/);
    expect(speedOf(params(), 'vgg19-bn', table)).toBeNull();
  });
});

describe('training estimate', () => {
  it('counts epochs over the training set plus the curve and final evaluations', () => {
    const p = params();
    expect(datasetSizes(p)).toEqual({ train: 1000, test: 100, val: 100, classes: 10 });
    const speed = speedOf(p, 'resnet20')!;
    const e = estimateTraining(p, { arch: 'resnet20', recipe: { epochs: 3 }, curveTestImages: 50 })!;
    expect(e.seconds).toBeCloseTo((1000 * 3) / speed.trainImgPerS + (2 * (50 * 3 + 100)) / speed.forwardImgPerS, 9);
    const twice = estimateTraining(p, { arch: 'resnet20', recipe: { epochs: 6 }, curveTestImages: 50 })!;
    expect(twice.seconds).toBeGreaterThan(1.9 * e.seconds);
  });
});

describe('dry-run estimate', () => {
  const kinds = [
    { kind: 'train', module: 'train.ts', instances: [{ id: 'a', params: { s: 10 } }, { id: 'b', params: { s: 5 } }] },
    { kind: 'table', module: 'table.ts', instances: [{ id: 't', params: {}, deps: { a: 'a' } }] },
  ];
  const dag = buildDag(kinds);
  const estimator = (value?: number): Estimator => (kind, _params, instance) =>
    kind === 'train' ? { seconds: value ?? (instance.params as { s: number }).s, basis: 'test figures' } : null;

  it('sums the kinds that estimate and counts the instances that do not', () => {
    const e = estimateRun(dag, ['a', 'b', 't'], {}, estimator());
    expect(e.totalSeconds).toBe(15);
    expect(e.byKind).toEqual([
      { kind: 'train', instances: 2, missing: 0, seconds: 15, bases: ['test figures'] },
      { kind: 'table', instances: 1, missing: 1, seconds: 0, bases: [] },
    ]);
    expect(describeEstimate(e, 2)[0]).toMatch(/: 15 s of compute in all; at best 8 s wall with -j 2/);
  });

  it('groups instances by replicate seed, with the shared ones apart', async () => {
    const { estimateGroup } = await import('../../stages/estimates.js');
    // Seed from the instance's own params or its model's; figures, tables and the report are shared.
    const seeded = buildDag([
      { kind: 'train', module: 'train.ts', instances: [{ id: 'a', params: { s: 10, seed: 0 } }, { id: 'b', params: { s: 5, seed: 1 } }] },
      { kind: 'evaluate', module: 'evaluate.ts', instances: [{ id: 'e', params: { s: 2, model: { seed: 1 } }, deps: { b: 'b' } }] },
      { kind: 'table', module: 'table.ts', instances: [{ id: 't', params: { seed: 0 }, deps: { a: 'a' } }] },
    ]);
    const est: Estimator = (kind, _p, instance) => (kind === 'table' ? null : { seconds: (instance.params as { s: number }).s, basis: 'test' });
    const e = estimateRun(seeded, ['a', 'b', 'e', 't'], {}, est, estimateGroup);
    expect(e.byGroup).toEqual([
      { group: 'seed 0', instances: 1, seconds: 10 },
      { group: 'seed 1', instances: 2, seconds: 7 },
      { group: null, instances: 1, seconds: 0 },
    ]);
    expect(describeEstimate(e, 2)).toContain('  2 group(s): seed 0 1 instance(s), 10 s; seed 1 2 instance(s), 7 s; shared 1 instance(s), 0 s');
    expect(estimateRun(seeded, ['a'], {}, est).byGroup).toBeUndefined();
  });

  it('rejects a negative or non-finite estimate', () => {
    expect(() => estimateRun(dag, ['a'], {}, estimator(-1))).toThrow(/estimator: a got -1/);
  });
});
