/**
 * The defense stages end to end on a tiny synthetic dataset and an (untrained) small CNN saved as
 * a train artifact: each stage expands from params, runs against upstream artifact directories,
 * and writes what the report reads. Also: Neural Cleanse and the auto-encoder resume exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { JsonObject, StageContext, StageKind, UpstreamArtifact } from '../../engine/stage.js';
import { Rng } from '../../domain/common/rng.js';
import { loadDataset, saveDataset } from '../../domain/data/format.js';
import { buildModel } from '../../domain/models/zoo.js';
import { loadModel, saveModel } from '../../domain/models/io.js';
import { badNetsTrigger } from '../../domain/attacks/trigger.js';
import { loadTrigger, saveTrigger } from '../../domain/attacks/trigger-io.js';
import evaluateStage from '../../stages/evaluate.js';
import finePruningStage from '../../stages/fine-pruning.js';
import neuralCleanseStage from '../../stages/neural-cleanse.js';
import autoencoderStage from '../../stages/autoencoder.js';
import { noiseSplit } from './helpers.js';

const SIZE = 8;
const CLASSES = 4;
let root: string;
let dataDir: string;
let modelDir: string;

const filterAll = { architectures: null, attacks: null, variants: null };
const params: JsonObject = {
  seed: 0,
  models: { architectures: ['small-cnn'], width: { 'small-cnn': 0.125 } },
  training: { seeds: [0], batchSize: 8, momentum: 0.9, weightDecay: 0, gamma: 0.1, recipes: { 'small-cnn': { epochs: 1, lr: 0.01, milestones: [] } }, augment: { padding: 0, flipProbability: 0 }, evalBatchSize: 16, curveTestImages: null },
  attacks: { target: 1, train: [{ attack: 'badnets', variants: ['standard'] }], definitions: { badnets: { type: 'badnets', ratio: 0.25, value: 255, alpha: 1, layout: [[1]], bottomRight: null } }, enhanced: { transforms: [], benignToo: false } },
  defenses: {
    batchSize: 16,
    draws: 3,
    overhead: { images: 8, repeats: 1 },
    transformSets: [
      { name: 'spatial', defenses: [{ type: 'none' }, { type: 'flip' }, { type: 'shrinkpad', size: 2 }], models: filterAll },
      { name: 'colour', defenses: [{ type: 'noise', std: 10 }, { type: 'color-jitter', hue: 0.1 }, { type: 'flip' }], models: { architectures: null, attacks: ['badnets'], variants: ['standard'] } },
    ],
    finePruning: { enabled: true, models: filterAll, fractions: [0.25, 0.5], maxAccuracyDrop: 0.05, batchSize: 16 },
    neuralCleanse: {
      enabled: true, models: filterAll, cleanImages: 16,
      reverse: { epochs: 2, batchesPerEpoch: 1, batchSize: 8, learningRate: 0.1, adamBeta1: 0.5, adamBeta2: 0.9, initCost: 0.001, costMultiplier: 1.5, patience: 1, attackSuccessThreshold: 0.99, earlyStop: true, earlyStopThreshold: 1, earlyStopPatience: 1 },
      anomaly: { consistencyConstant: 1.4826, threshold: 2 },
      unlearn: { epochs: 1, batchSize: 8, learningRate: 0.01, stampFraction: 0.2, optimizer: 'sgd' },
      batchSize: 16, pngScale: 2,
    },
    autoencoder: { enabled: true, models: { architectures: null, attacks: ['badnets'], variants: null }, filters: [2], epochs: 2, learningRate: 0.01, batchSize: 8, loss: 'bce', trainImages: 16, evalBatchSize: 16 },
  },
};

function upstream(id: string, kind: string, dir: string): UpstreamArtifact {
  return { id, kind, key: `key-${id}`, dir, meta: { id, kind, key: 'k', params: null, upstream: {}, outputs: {}, startedAt: '', endedAt: '', durationMs: 0, environment: {}, extra: {} } };
}

async function runStage<P extends JsonObject>(kind: StageKind<P>, id: string, inputs: Record<string, UpstreamArtifact>, checkpointDir?: string, paramsOverride?: P) {
  const instance = kind.instances(params).find((i) => i.id === id);
  if (!instance) throw new Error(`no instance ${id} among ${kind.instances(params).map((i) => i.id).join(', ')}`);
  const outDir = await fs.mkdtemp(join(root, 'out-'));
  const meta: JsonObject = {};
  const ctx: StageContext<P> = {
    id, kind: kind.kind, key: 'k', params: paramsOverride ?? instance.params, outDir,
    checkpointDir: checkpointDir ?? (await fs.mkdtemp(join(root, 'ck-'))),
    inputs, progress: () => undefined, log: () => undefined, recordMeta: (m) => Object.assign(meta, m), signal: new AbortController().signal,
  };
  await kind.run(ctx);
  return { outDir, meta, instance };
}

const readJson = async (path: string) => JSON.parse(await fs.readFile(path, 'utf8'));

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(join(tmpdir(), 'defense-stages-'));
  dataDir = join(root, 'data');
  modelDir = join(root, 'model');
  await fs.mkdir(dataDir);
  const rng = new Rng('stages-data');
  await saveDataset(dataDir, { name: 'tiny', source: 'synthetic(test)', synthetic: true, classNames: ['a', 'b', 'c', 'd'], train: noiseSplit(32, SIZE, CLASSES, rng), test: noiseSplit(24, SIZE, CLASSES, rng), val: noiseSplit(24, SIZE, CLASSES, rng) });
  const model = buildModel('small-cnn', { numClasses: CLASSES, inputShape: [SIZE, SIZE, 3], seed: 0, width: 0.125 });
  await saveModel(model, modelDir);
  await saveTrigger(modelDir, badNetsTrigger({ imageShape: [SIZE, SIZE, 3], value: 255, alpha: 1, layout: [[1, 0], [0, 1]] }));
  model.dispose();
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('defense stages', () => {
  it('expand the grid from params without duplicates, with the right dependencies', () => {
    const ids = evaluateStage.instances(params).map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('evaluate/small-cnn/badnets/standard/seed0/shrinkpad-2');
    expect(ids).toContain('evaluate/small-cnn/benign/seed0/flip');
    expect(ids).toContain('evaluate/small-cnn/badnets/standard/seed0/jitter-hue-0.1');
    expect(ids).not.toContain('evaluate/small-cnn/benign/seed0/noise-10');
    // Only random transforms are drawn several times, so defenses.draws is in no deterministic defense's key.
    const drawsOf = (id: string) => evaluateStage.instances(params).find((i) => i.id === id)!.params.draws;
    expect(drawsOf('evaluate/small-cnn/benign/seed0/flip')).toBe(1);
    expect(drawsOf('evaluate/small-cnn/badnets/standard/seed0/none')).toBe(1);
    expect(drawsOf('evaluate/small-cnn/badnets/standard/seed0/shrinkpad-2')).toBe(3);
    expect(drawsOf('evaluate/small-cnn/badnets/standard/seed0/noise-10')).toBe(3);
    // A defense may run on fewer replicate seeds than are trained; a seed that is not trained is an error.
    const twoSeeds = structuredClone(params) as any;
    twoSeeds.training.seeds = [0, 1];
    twoSeeds.defenses.neuralCleanse.models = { ...twoSeeds.defenses.neuralCleanse.models, seeds: [1] };
    expect(neuralCleanseStage.instances(twoSeeds).map((i) => i.id)).toEqual(['neural-cleanse/small-cnn/badnets/standard/seed1']);
    twoSeeds.defenses.neuralCleanse.models.seeds = [7];
    expect(() => neuralCleanseStage.instances(twoSeeds)).toThrow(/seed 7 is not trained \(training.seeds: 0, 1\)/);
    const ae = evaluateStage.instances(params).find((i) => i.id.endsWith('/autoencoder'))!;
    expect(ae.deps).toEqual({ model: 'train/small-cnn/badnets/standard/seed0', data: 'data', autoencoder: 'autoencoder/seed0' });
    expect(finePruningStage.instances(params).map((i) => i.id)).toEqual(['fine-pruning/small-cnn/badnets/standard/seed0']);
    expect(neuralCleanseStage.instances(params).map((i) => i.id)).toEqual(['neural-cleanse/small-cnn/badnets/standard/seed0']);
    expect(autoencoderStage.instances(params).map((i) => i.id)).toEqual(['autoencoder/seed0']);
    const bad = structuredClone(params) as any;
    bad.defenses.transformSets[0].models = { architectures: ['resnet99'], attacks: null, variants: null };
    expect(() => evaluateStage.instances(bad)).toThrow(/architecture 'resnet99' is not trained \(trained: small-cnn\)/);
  });

  it('evaluate, fine-pruning and the auto-encoder run and write their metrics', async () => {
    const inputs = { model: upstream('train/small-cnn/badnets/standard/seed0', 'train', modelDir), data: upstream('data', 'data', dataDir) };
    const ev = await runStage(evaluateStage, 'evaluate/small-cnn/badnets/standard/seed0/shrinkpad-2', inputs);
    const m = await readJson(join(ev.outDir, 'metrics.json'));
    expect(m.defense).toBe('shrinkpad-2');
    // ShrinkPad is random: three seeded draws, pooled (counts summed), each draw's rates kept.
    expect(m.counts.total).toBe(3 * 24);
    expect(m.draws.n).toBe(3);
    expect(m.draws.asr).toHaveLength(3);
    const meanOf = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(m.asr).toBeCloseTo(meanOf(m.draws.asr), 12);
    expect(m.cleanAccuracy).toBeCloseTo(meanOf(m.draws.cleanAccuracy), 12);
    expect(m.asr).toBe(m.counts.attackHits / m.counts.nonTarget);
    // Flip is deterministic (one draw): its ASR by an independent route, the trigger stamped and the
    // image mirrored by hand, then the model's target predictions counted on the non-target images.
    // The untrained model sends most images to class 0, so target 0 gives a rate strictly inside (0, 1).
    {
      const flipId = 'evaluate/small-cnn/badnets/standard/seed0/flip';
      const flipParams = { ...evaluateStage.instances(params).find((i) => i.id === flipId)!.params, target: 0 };
      const flip = await readJson(join((await runStage(evaluateStage, flipId, inputs, undefined, flipParams)).outDir, 'metrics.json'));
      const { test } = await loadDataset(dataDir);
      const trigger = await loadTrigger(modelDir);
      const model = await loadModel(modelDir);
      const rows = Array.from(test.labels.keys()).filter((i) => test.labels[i] !== 0);
      const px = SIZE * SIZE * 3;
      const x = new Float32Array(rows.length * px);
      rows.forEach((i, k) => {
        for (let r = 0; r < SIZE; r++) for (let c = 0; c < SIZE; c++) for (let ch = 0; ch < 3; ch++) {
          const from = (r * SIZE + (SIZE - 1 - c)) * 3 + ch;
          x[k * px + (r * SIZE + c) * 3 + ch] = (test.images[i * px + from] / 255) * (1 - trigger.mask[from]) + trigger.pattern[from] * trigger.mask[from];
        }
      });
      const predicted = tf.tidy(() => Array.from((tf.argMax(model.predict(tf.tensor4d(x, [rows.length, SIZE, SIZE, 3])) as tf.Tensor2D, 1).dataSync())));
      model.dispose();
      const hits = predicted.filter((p) => p === 0).length;
      expect(hits).toBeGreaterThan(0);
      expect(hits).toBeLessThan(rows.length);
      expect(flip.counts).toMatchObject({ nonTarget: rows.length, attackHits: hits });
      expect(flip.asr).toBe(hits / rows.length);
    }
    // Timings are measurements of the run: in meta only, so metrics.json is the same on every run.
    expect(m).not.toHaveProperty('overheadMsPerImage');
    expect(m).not.toHaveProperty('evaluationMs');
    expect(ev.meta.overheadMsPerImage).toBeGreaterThan(0);
    expect(ev.meta.testImages).toBe(24);
    expect(ev.meta.costKind).toBe('inference-overhead');
    const evAgain = await runStage(evaluateStage, 'evaluate/small-cnn/badnets/standard/seed0/shrinkpad-2', inputs);
    expect(await fs.readFile(join(evAgain.outDir, 'metrics.json'), 'utf8')).toBe(await fs.readFile(join(ev.outDir, 'metrics.json'), 'utf8'));

    const fp = await runStage(finePruningStage, 'fine-pruning/small-cnn/badnets/standard/seed0', inputs);
    const fm = await readJson(join(fp.outDir, 'metrics.json'));
    expect([0, 0.25, 0.5]).toContain(fm.chosenFraction);
    expect(fm.layer).toBe('relu4');
    expect(fm.fineTuned).toBe(false);
    const csv = (await fs.readFile(join(fp.outDir, 'curve.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(4);
    expect(fp.meta.costMs).toBeGreaterThan(0);
    expect(fm).not.toHaveProperty('costMs');
    expect(fm).not.toHaveProperty('wallTimeMs');

    const ae = await runStage(autoencoderStage, 'autoencoder/seed0', { data: inputs.data });
    expect((await readJson(join(ae.outDir, 'training.json'))).losses).toHaveLength(2);
    expect(await readJson(join(ae.outDir, 'training.json'))).not.toHaveProperty('trainMs');
    expect(ae.meta.costMs).toBeGreaterThan(0);
    const withAe = await runStage(evaluateStage, 'evaluate/small-cnn/badnets/standard/seed0/autoencoder', { ...inputs, autoencoder: upstream('autoencoder/seed0', 'autoencoder', ae.outDir) });
    expect((await readJson(join(withAe.outDir, 'metrics.json'))).defense).toBe('autoencoder');
  });

  it('neural cleanse writes triggers, anomaly indices and a mitigated model, and resumes to the same result', async () => {
    const inputs = { model: upstream('train/small-cnn/badnets/standard/seed0', 'train', modelDir), data: upstream('data', 'data', dataDir) };
    const checkpoint = await fs.mkdtemp(join(root, 'nc-ck-'));
    const first = await runStage(neuralCleanseStage, 'neural-cleanse/small-cnn/badnets/standard/seed0', inputs, checkpoint);
    const anomaly = await readJson(join(first.outDir, 'anomaly.json'));
    expect(anomaly.perClass).toHaveLength(CLASSES);
    for (const f of ['masks.npy', 'patterns.npy', 'mask_0.png', 'pattern_3.png', 'trigger_1.png']) await fs.access(join(first.outDir, 'triggers', f));
    await fs.access(join(first.outDir, 'mitigated', 'model.json'));
    const metrics = await readJson(join(first.outDir, 'metrics.json'));
    expect(typeof metrics.targetFlagged).toBe('boolean');
    expect(metrics).not.toHaveProperty('costMs');
    expect(anomaly.perClass[0]).not.toHaveProperty('ms');
    expect(first.meta.costMs).toBeGreaterThan(0);
    // Drop one class's checkpoint: the rerun recomputes only it and must agree with the first run.
    await fs.rm(join(checkpoint, 'classes', 'class_2.json'));
    const second = await runStage(neuralCleanseStage, 'neural-cleanse/small-cnn/badnets/standard/seed0', inputs, checkpoint);
    expect((await readJson(join(second.outDir, 'anomaly.json'))).norms).toEqual(anomaly.norms);
    // Its files hold results only, so the resumed run's anomaly.json is byte-identical.
    expect(await fs.readFile(join(second.outDir, 'anomaly.json'), 'utf8')).toBe(await fs.readFile(join(first.outDir, 'anomaly.json'), 'utf8'));
  });

  it('the auto-encoder resumed after epoch 1 ends where an uninterrupted run does', async () => {
    const data = { data: upstream('data', 'data', dataDir) };
    const instance = autoencoderStage.instances(params)[0];
    const oneEpoch = { ...instance.params, training: { ...instance.params.training, epochs: 1 } };
    const checkpoint = await fs.mkdtemp(join(root, 'ae-ck-'));
    await runStage(autoencoderStage, 'autoencoder/seed0', data, checkpoint, oneEpoch);
    const resumed = await runStage(autoencoderStage, 'autoencoder/seed0', data, checkpoint);
    const straight = await runStage(autoencoderStage, 'autoencoder/seed0', data);
    const a = await fs.readFile(join(resumed.outDir, 'weights.bin'));
    const b = await fs.readFile(join(straight.outDir, 'weights.bin'));
    const fa = new Float32Array(a.buffer, a.byteOffset, a.byteLength / 4);
    const fb = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    const diff = fa.reduce((m, v, i) => Math.max(m, Math.abs(v - fb[i])), 0);
    // Same batches and state; tfjs's Adam rebuilds beta^t with pow() on restore instead of the running
    // product, so the weights agree to float rounding rather than bit for bit.
    expect(diff).toBeLessThan(1e-5);
    expect((await readJson(join(resumed.outDir, 'training.json'))).losses).toEqual((await readJson(join(straight.outDir, 'training.json'))).losses);
  });
});
