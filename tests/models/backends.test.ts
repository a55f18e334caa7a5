/**
 * Model IO and graph hooks on the wasm backend (inference only: its training
 * kernels belong to domain/backend and are tested there), and a model moved
 * between backends through the file format.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyWithHooks } from '../../domain/models/graph.js';
import { loadModel, saveModel } from '../../domain/models/io.js';
import { buildModel, gateLayers } from '../../domain/models/zoo.js';

let dir: string;
beforeAll(async () => {
  const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  tfWasm.setWasmPaths(path.join(path.dirname(pkg), 'dist') + path.sep);
  dir = await mkdtemp(path.join(tmpdir(), 'models-backends-'));
});
afterAll(async () => {
  await tf.setBackend('cpu');
  await rm(dir, { recursive: true, force: true });
});

function predictOn(model: tf.LayersModel, seed: number): number[] {
  return tf.tidy(() => Array.from((model.predict(tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', seed)) as tf.Tensor).dataSync()));
}

describe('models on the wasm backend', () => {
  it('save on wasm, reload on wasm (identical) and on cpu (same to 1e-4); hooks work there', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const model = buildModel('resnet20', { numClasses: 4, inputShape: [8, 8, 3], seed: 5, width: 0.25 });
    const onWasm = predictOn(model, 1);
    const target = path.join(dir, 'm');
    await saveModel(model, target);
    const again = await loadModel(target);
    expect(predictOn(again, 1)).toEqual(onWasm);

    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 1);
    const hooked = applyWithHooks(again, x, {});
    expect(Array.from(hooked.dataSync())).toEqual(onWasm);
    const gate = gateLayers(again)[3];
    const masked = applyWithHooks(again, x, { [gate]: (t) => tf.zerosLike(t) });
    expect(Array.from(masked.dataSync())).not.toEqual(onWasm);
    tf.dispose([x, hooked, masked]);

    await tf.setBackend('cpu');
    const onCpu = await loadModel(target);
    predictOn(onCpu, 1).forEach((v, i) => expect(v).toBeCloseTo(onWasm[i], 4));
  });
});
