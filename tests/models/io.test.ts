import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../domain/common/rng.js';
import { loadModel, loadWeightsInto, saveModel } from '../../domain/models/io.js';
import { buildModel, featureLayer, gateLayers } from '../../domain/models/zoo.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(path.join(tmpdir(), 'models-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Random values for every weight, moving variance kept positive, so inference-mode BN is not the identity. */
function randomise(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const positive = w.originalName.endsWith('moving_variance');
    for (let i = 0; i < n; i++) data[i] = positive ? rng.range(0.5, 2) : rng.range(-0.3, 0.3);
    return tf.tensor(data, shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

describe('model IO', () => {
  it('saves model.json + weights.bin in the tfjs layers format and reloads identical predictions and metadata', async () => {
    const model = buildModel('resnet20', { numClasses: 10, inputShape: [8, 8, 3], seed: 4, width: 0.25 });
    randomise(model, 11);
    const target = path.join(dir, 'resnet20');
    await saveModel(model, target);
    expect((await readdir(target)).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(await readFile(path.join(target, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['./weights.bin']);

    const loaded = await loadModel(target);
    expect(featureLayer(loaded)).toBe(featureLayer(model));
    expect(gateLayers(loaded)).toEqual(gateLayers(model));
    const x = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 5);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('loads saved weights into another instance of the same architecture', async () => {
    const source = buildModel('vgg-narrow', { numClasses: 4, inputShape: [8, 8, 3], seed: 1, width: 0.125 });
    randomise(source, 2);
    const target = path.join(dir, 'vgg');
    await saveModel(source, target);
    const other = buildModel('vgg-narrow', { numClasses: 4, inputShape: [8, 8, 3], seed: 99, width: 0.125 });
    await loadWeightsInto(other, target);
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 6);
    const a = source.predict(x) as tf.Tensor;
    const b = other.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
  });

  it('names the missing file when there is no model', async () => {
    await expect(loadModel(path.join(dir, 'nothing-here'))).rejects.toThrow(/nothing-here.*model\.json/);
  });
});
