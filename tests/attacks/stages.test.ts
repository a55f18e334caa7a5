/**
 * The train, lc-poison and uap stage kinds, run in-process on a tiny synthetic dataset with a fake
 * StageContext: instance expansion and deps, files written, resume from a checkpoint.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, mkdir, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject, StageContext, StageInstance, UpstreamArtifact } from '../../engine/stage.js';
import { generateSynthetic } from '../../domain/data/synthetic.js';
import { saveDataset } from '../../domain/data/format.js';
import { readNpy } from '../../domain/common/npy.js';
import { loadModel } from '../../domain/models/io.js';
import { loadTrigger } from '../../domain/attacks/trigger-io.js';
import trainStage from '../../stages/train.js';
import lcPoisonStage from '../../stages/lc-poison.js';
import { EPOCH_TIMING_KEYS } from '../../domain/training/types.js';
import uapStage from '../../stages/uap.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The shipped params (params.json once integrated, else the fragment this area hands over). */
async function shippedParams(): Promise<{ params: JsonObject; profiles: Record<string, JsonObject> } | null> {
  const merged = JSON.parse(await readFile('params.json', 'utf8').catch(() => 'null'));
  if (merged?.attacks) return { params: merged, profiles: merged.profiles ?? {} };
  const f = JSON.parse(await readFile('/tmp/params-fragments/attacks.json', 'utf8').catch(() => 'null'));
  return f ? { params: f.params, profiles: { smoke: f.smoke, quick: f.quick, paper: f.paper } } : null;
}
const shipped = await shippedParams();
const LAYOUT = [[1, 0, 1], [0, 1, 0], [1, 0, 1]];
const params: JsonObject = {
  models: { architectures: ['small-cnn'], width: { 'small-cnn': 0.125 } },
  training: {
    seeds: [0], batchSize: 32, momentum: 0.9, weightDecay: 0.0005, gamma: 0.1,
    recipes: { 'small-cnn': { epochs: 2, lr: 0.05, milestones: [1] } },
    augment: { padding: 1, flipProbability: 0 }, evalBatchSize: 50, curveTestImages: 30,
  },
  attacks: {
    target: 4,
    train: [
      { attack: 'badnets', variants: ['standard', 'enhanced'] },
      { attack: 'consistent', variants: ['standard'] },
      { attack: 'uap', variants: ['enhanced'] },
    ],
    definitions: {
      badnets: { type: 'badnets', ratio: 0.25, value: 255, alpha: 1, layout: LAYOUT, bottomRight: null },
      consistent: {
        type: 'consistent', ratio: 0.5, value: 255, alpha: 1, layout: LAYOUT,
        pgd: { epsilon: 8, stepSize: 4, steps: 2, randomStart: false, batchSize: 4 },
        surrogate: 'standard',
        adversarialTraining: { epsilon: 8, stepSize: 4, steps: 1, randomStart: true, batchSize: 32, epochs: 1 },
      },
      uap: { type: 'uap', ratio: 0.2, norm: 'linf', radius: 10, stepSize: 2, epochs: 1, batchSize: 20, images: 40, targeted: true },
    },
    enhanced: { transforms: [{ type: 'flip', p: 0.5 }, { type: 'shrinkpad', maxSize: 2 }], benignToo: true },
  },
};

let root: string;
const done = new Map<string, UpstreamArtifact>();

/** Runs one instance in-process; `abortOnLog` aborts the run (through its signal) at the first log line it matches. */
async function runInstance(kind: typeof trainStage | typeof lcPoisonStage | typeof uapStage, inst: StageInstance<JsonObject>, checkpointDir?: string, abortOnLog?: RegExp, outName = inst.id): Promise<{ dir: string; extra: JsonObject; progress: number }> {
  const outDir = join(root, 'out', outName);
  const ckpt = checkpointDir ?? join(root, 'ckpt', inst.id);
  await mkdir(outDir, { recursive: true });
  await mkdir(ckpt, { recursive: true });
  const extra: JsonObject = {};
  const abort = new AbortController();
  let progress = 0;
  const inputs: Record<string, UpstreamArtifact> = {};
  for (const [name, id] of Object.entries(inst.deps ?? {})) {
    const a = done.get(id);
    if (!a) throw new Error(`test ordering: ${id} has not run`);
    inputs[name] = a;
  }
  const ctx: StageContext<JsonObject> = {
    id: inst.id, kind: kind.kind, key: 'k', params: inst.params as JsonObject, outDir, checkpointDir: ckpt, inputs,
    progress: () => void progress++, log: (line) => void (abortOnLog?.test(line) && abort.abort()), recordMeta: (e) => Object.assign(extra, e), signal: abort.signal,
  };
  await (kind.run as (c: StageContext<JsonObject>) => Promise<void>)(ctx);
  done.set(inst.id, { id: inst.id, kind: kind.kind, key: 'k', dir: outDir, meta: { extra } as unknown as UpstreamArtifact['meta'] });
  return { dir: outDir, extra, progress };
}

describe('attack stages', () => {
  it('expand the expected instances with their deps', () => {
    const train = trainStage.instances(params);
    expect(train.map((i) => i.id)).toEqual([
      'train/small-cnn/benign/seed0',
      'train/small-cnn/badnets/standard/seed0',
      'train/small-cnn/badnets/enhanced/seed0',
      'train/small-cnn/consistent/standard/seed0',
      'train/small-cnn/uap/enhanced/seed0',
    ]);
    expect(train[3].deps).toEqual({ data: 'data', lcPoison: 'lc-poison/small-cnn/consistent/seed0' });
    expect(train[4].deps).toEqual({ data: 'data', uap: 'uap/small-cnn/uap/seed0' });
    expect((train[1].params as JsonObject).enhanced).toBeNull();
    expect(lcPoisonStage.instances(params).map((i) => [i.id, i.deps])).toEqual([['lc-poison/small-cnn/consistent/seed0', { data: 'data', surrogate: 'train/small-cnn/benign/seed0' }]]);
    expect(uapStage.instances(params).map((i) => [i.id, i.deps])).toEqual([['uap/small-cnn/uap/seed0', { data: 'data', model: 'train/small-cnn/benign/seed0' }]]);
    expect(() => trainStage.instances({ ...params, models: { architectures: ['resnet20'], width: {} } })).toThrow(/no recipe for architecture 'resnet20'/);
  });

  it('train an attack only on the architectures its entry lists, with its poisons and UAP only there', () => {
    const attacks = structuredClone(params.attacks) as JsonObject;
    const recipes = { 'small-cnn': { epochs: 1, lr: 0.05, milestones: [] }, resnet20: { epochs: 1, lr: 0.05, milestones: [] } };
    const two: JsonObject = { ...params, models: { architectures: ['small-cnn', 'resnet20'], width: {} }, training: { ...(params.training as JsonObject), recipes }, attacks };
    attacks.train = [
      { attack: 'badnets', variants: ['standard', 'enhanced'] },
      { attack: 'consistent', variants: ['standard'], architectures: ['small-cnn'] },
      { attack: 'uap', variants: ['enhanced'], architectures: null },
    ];
    const ids = trainStage.instances(two).map((i) => i.id);
    expect(ids.filter((id) => id.includes('/resnet20/'))).toEqual([
      'train/resnet20/benign/seed0', 'train/resnet20/badnets/standard/seed0', 'train/resnet20/badnets/enhanced/seed0', 'train/resnet20/uap/enhanced/seed0',
    ]);
    expect(ids).toContain('train/small-cnn/consistent/standard/seed0');
    expect(lcPoisonStage.instances(two).map((i) => i.id)).toEqual(['lc-poison/small-cnn/consistent/seed0']);
    expect(uapStage.instances(two).map((i) => i.id)).toEqual(['uap/small-cnn/uap/seed0', 'uap/resnet20/uap/seed0']);
    attacks.train = [{ attack: 'badnets', variants: ['standard'], architectures: ['vgg19'] }];
    expect(() => trainStage.instances(two)).toThrow(/params\.attacks\.train\[0\]\.architectures names 'vgg19'.*listed: small-cnn, resnet20/);
  });

  it('the shipped params expand for every profile', () => {
    if (!shipped) return expect.fail('neither params.json with an attacks section nor the attacks params fragment was found');
    const merge = (a: unknown, b: unknown): unknown => (b && typeof b === 'object' && !Array.isArray(b) && a && typeof a === 'object' && !Array.isArray(a)
      ? Object.fromEntries([...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, merge((a as JsonObject)[k], (b as JsonObject)[k])]))
      : b === undefined ? a : b);
    for (const profile of ['smoke', 'quick', 'paper']) {
      const p = merge(shipped.params, shipped.profiles[profile] ?? {}) as JsonObject;
      const train = trainStage.instances(p);
      expect(train.length).toBeGreaterThan(1);
      // Every poison and UAP instance feeds a training run, and every training run's poison or UAP exists.
      const consumed = (dep: string) => [...new Set(train.map((i) => (i.deps as Record<string, string>)[dep]).filter((d) => d !== undefined))].sort();
      const lc = lcPoisonStage.instances(p).map((i) => i.id).sort();
      const uap = uapStage.instances(p).map((i) => i.id).sort();
      expect(lc, `${profile}: lc-poison instances`).toEqual(consumed('lcPoison'));
      expect(uap, `${profile}: uap instances`).toEqual(consumed('uap'));
      const trainsType = (type: string) => train.some((i) => ((i.params as JsonObject).definition as JsonObject | null)?.type === type);
      expect(lc.length > 0, `${profile}: lc-poison instances exist iff a consistent attack is trained`).toBe(trainsType('consistent'));
      expect(uap.length > 0, `${profile}: uap instances exist iff a UAP attack is trained`).toBe(trainsType('uap'));
    }
  });

  it('run end to end on tiny synthetic data, writing models, triggers and metrics; train resumes from its checkpoint', async () => {
    root = await mkdtemp(join(tmpdir(), 'attack-stages-'));
    const dataDir = join(root, 'data');
    await mkdir(dataDir);
    const ds = generateSynthetic({ seed: 1, trainPerClass: 8, testPerClass: 3, height: 8, width: 8, noiseStd: 4, minSizeFraction: 0.5, maxSizeFraction: 1, minContrast: 40 });
    await saveDataset(dataDir, ds);
    done.set('data', { id: 'data', kind: 'data', key: 'k', dir: dataDir, meta: { extra: {} } as unknown as UpstreamArtifact['meta'] });

    const train = trainStage.instances(params) as StageInstance<JsonObject>[];
    const benign = await runInstance(trainStage, train[0]);
    expect((await readdir(benign.dir)).sort()).toEqual(['curve.csv', 'curve.json', 'metrics.json', 'model.json', 'poisoned_indices.npy', 'weights.bin']);
    const benignMetrics = JSON.parse(await readFile(join(benign.dir, 'metrics.json'), 'utf8'));
    expect(benignMetrics).toMatchObject({ attack: 'benign', poisoned: 0, asr: null });
    expect(benign.progress).toBeGreaterThan(0);

    const badnets = await runInstance(trainStage, train[1]);
    const m = JSON.parse(await readFile(join(badnets.dir, 'metrics.json'), 'utf8'));
    expect(m.poisoned).toBe(20);
    {
      // The ASR by an independent route: stamp the trigger by hand on the non-target test images
      // and count the model's target predictions.
      const t = await loadTrigger(badnets.dir);
      const model = await loadModel(badnets.dir);
      const size = ds.test.height * ds.test.width * ds.test.channels;
      const rows = Array.from(ds.test.labels.keys()).filter((i) => ds.test.labels[i] !== 4);
      const stamped = new Float32Array(rows.length * size);
      rows.forEach((i, k) => {
        for (let j = 0; j < size; j++) stamped[k * size + j] = (ds.test.images[i * size + j] / 255) * (1 - t.mask[j]) + t.pattern[j] * t.mask[j];
      });
      const predicted = tf.tidy(() => Array.from((tf.argMax(model.predict(tf.tensor4d(stamped, [rows.length, ds.test.height, ds.test.width, ds.test.channels])) as tf.Tensor2D, 1).dataSync())));
      const hits = predicted.filter((c) => c === 4).length;
      model.dispose();
      expect(m.counts).toMatchObject({ nonTarget: rows.length, attackHits: hits });
      expect(m.asr).toBe(hits / rows.length);
    }
    const curve = JSON.parse(await readFile(join(badnets.dir, 'curve.json'), 'utf8'));
    expect(curve.length).toBe(2);
    expect(Object.keys(curve[0])).toEqual(expect.arrayContaining(['loss', 'testAcc', 'asr', 'targetRateClean']));
    // Wall-clock figures and the epoch's phases go to meta.json, never into the curve files.
    for (const key of EPOCH_TIMING_KEYS) expect(Object.keys(curve[0])).not.toContain(key);
    const timings = badnets.extra.epochTimings as Array<Record<string, number>>;
    for (const key of EPOCH_TIMING_KEYS) expect(timings[0][key], key).toBeGreaterThanOrEqual(0);
    expect(timings[0].gradientSeconds).toBeGreaterThan(0);
    const indices = await readNpy(join(badnets.dir, 'poisoned_indices.npy'));
    expect(indices.data.length).toBe(20);
    expect((await loadTrigger(badnets.dir)).description.kind).toBe('badnets');
    const model = await loadModel(badnets.dir);
    expect(model.outputs[0].shape).toEqual([null, 10]);

    // Resume: a run stopped after its first epoch's checkpoint (aborted as epoch 1 is logged, so the
    // next batch check stops it once the checkpoint is written) continues from it, and ends with the
    // same weights, curve and metrics as the uninterrupted run above.
    const ckpt = join(root, 'ckpt-interrupted', train[1].id);
    await expect(runInstance(trainStage, train[1], ckpt, /^epoch 1\/2:/, 'interrupted')).rejects.toThrow(/abort/i);
    const again = await runInstance(trainStage, train[1], ckpt, undefined, 'resumed');
    expect(again.extra.resumedAt).toBe(1);
    expect((again.extra.epochTimings as unknown[]).length).toBe(2);
    // Files are results only: the resumed run wrote the same bytes, and its timings went to meta.
    for (const file of ['weights.bin', 'model.json', 'curve.json', 'curve.csv', 'metrics.json']) {
      expect((await readFile(join(again.dir, file))).equals(await readFile(join(badnets.dir, file))), `${file} after resuming`).toBe(true);
    }
    // The finished run's checkpoint reloads without training again.
    expect((await runInstance(trainStage, train[1], join(root, 'ckpt', train[1].id), undefined, 'reloaded')).extra.resumedAt).toBe(2);
    expect(Object.keys(curve[0])).not.toContain('seconds');
    expect((badnets.extra.epochTimings as Array<{ seconds: number }>).map((t) => t.seconds > 0)).toEqual([true, true]);

    const lcInst = lcPoisonStage.instances(params)[0] as StageInstance<JsonObject>;
    const lc = await runInstance(lcPoisonStage, lcInst);
    const perturbed = await readNpy(join(lc.dir, 'perturbed_images.npy'));
    expect(perturbed.shape).toEqual([4, 8, 8, 3]);
    expect(lc.extra.surrogate).toBe('standard');
    expect(lc.extra.maxPixelChange255 as number).toBeLessThanOrEqual(8);
    const consistent = await runInstance(trainStage, train[3]);
    const cm = JSON.parse(await readFile(join(consistent.dir, 'metrics.json'), 'utf8'));
    expect(cm).toMatchObject({ type: 'consistent', poisoned: 4, surrogate: 'standard' });

    const uapInst = uapStage.instances(params)[0] as StageInstance<JsonObject>;
    const uap = await runInstance(uapStage, uapInst);
    const delta = await readNpy(join(uap.dir, 'delta.npy'));
    expect(Math.max(...Array.from(delta.data as Float32Array, Math.abs))).toBeLessThanOrEqual(10 / 255 + 1e-6);
    const uapModel = await runInstance(trainStage, train[4]);
    expect((await loadTrigger(uapModel.dir)).description.mode).toBe('additive');
  });
});
