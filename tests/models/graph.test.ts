import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../domain/common/rng.js';
import { activations, applyWithHooks } from '../../domain/models/graph.js';
import { buildModel, featureLayer } from '../../domain/models/zoo.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Non-trivial BN statistics, so that inference mode and training mode differ. */
function randomiseBatchNorm(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const values = layer.weights.map((w) => {
      const n = (w.shape as number[])[0];
      const positive = /gamma|moving_variance/.test(w.originalName);
      return tf.tensor1d(Array.from({ length: n }, () => (positive ? rng.range(0.5, 1.5) : rng.range(-0.2, 0.2))));
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

function channelMask(channels: number, off: number): tf.Tensor1D {
  return tf.tensor1d(Array.from({ length: channels }, (_, i) => (i === off ? 0 : 1)));
}

const input = (n: number, size: number, seed: number) => tf.randomUniform([n, size, size, 3], 0, 1, 'float32', seed) as tf.Tensor4D;

describe('applyWithHooks', () => {
  it('without hooks equals model.predict exactly (ResNet with skips, VGG, small CNN)', () => {
    for (const arch of ['resnet20', 'vgg-narrow', 'small-cnn']) {
      const model = buildModel(arch, { numClasses: 5, inputShape: [8, 8, 3], seed: 2, width: 0.25 });
      randomiseBatchNorm(model, 3);
      const x = input(3, 8, 1);
      const expected = model.predict(x) as tf.Tensor;
      const got = applyWithHooks(model, x, {});
      expect(got.shape).toEqual(expected.shape);
      expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()));
      tf.dispose([x, expected, got]);
      model.dispose();
    }
  });

  it('works for a Sequential model', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, name: 'c' }),
        tf.layers.flatten({ name: 'f' }),
        tf.layers.dense({ units: 2, name: 'd' }),
      ],
    });
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 4);
    const expected = model.predict(x) as tf.Tensor;
    const got = applyWithHooks(model, x, {});
    expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()));
    const zeroed = applyWithHooks(model, x, { c: (t) => tf.zerosLike(t) });
    // With the conv output zeroed the logits are the dense bias alone.
    const bias = model.getLayer('d').getWeights()[1];
    const expectZero = tf.tile(bias.expandDims(0), [2, 1]);
    expect(Array.from(zeroed.dataSync())).toEqual(Array.from(expectZero.dataSync()));
    tf.dispose([x, expected, got, zeroed, expectZero]);
  });

  it('in training mode matches model.apply(x, {training: true}) (BN on batch statistics)', () => {
    const model = buildModel('resnet20', { numClasses: 5, inputShape: [8, 8, 3], seed: 5, width: 0.25 });
    randomiseBatchNorm(model, 6);
    const x = input(4, 8, 2);
    const expected = model.apply(x, { training: true }) as tf.Tensor;
    const inference = model.predict(x) as tf.Tensor;
    const got = applyWithHooks(model, x, {}, { training: true });
    expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()));
    expect(Array.from(got.dataSync())).not.toEqual(Array.from(inference.dataSync()));
    tf.dispose([x, expected, inference, got]);
  });

  it('a zero mask on one channel equals removing that channel from the next conv', () => {
    const model = buildModel('small-cnn', { numClasses: 4, inputShape: [8, 8, 3], seed: 9, width: 0.25 });
    const x = input(2, 8, 3);
    const c = 3;
    const mask = channelMask(8, c);
    const hooked = applyWithHooks(model, x, { relu1: (t) => t.mul(mask) });
    const seen = activations(model, x, ['relu1'], { hooks: { relu1: (t) => t.mul(mask) } }).relu1;
    const channel = seen.slice([0, 0, 0, c], [-1, -1, -1, 1]);
    expect(channel.abs().max().dataSync()[0]).toBe(0);
    expect(seen.abs().max().dataSync()[0]).toBeGreaterThan(0);

    // Same model with conv2's input slice for channel c zeroed, run without hooks.
    const conv2 = model.getLayer('conv2');
    const [kernel, bias] = conv2.getWeights();
    const original = [kernel.clone(), bias.clone()];
    const cut = kernel.mul(channelMask(8, c).reshape([1, 1, 8, 1]));
    conv2.setWeights([cut, bias]);
    const reference = model.predict(x) as tf.Tensor;
    expect(Array.from(hooked.dataSync())).toEqual(Array.from(reference.dataSync()));
    conv2.setWeights(original);
    const plain = model.predict(x) as tf.Tensor;
    expect(Array.from(plain.dataSync())).not.toEqual(Array.from(hooked.dataSync()));
    tf.dispose([x, mask, hooked, seen, channel, cut, reference, plain, ...original]);
  });

  it('lets gradients flow through hooks: d(sum logits)/d(gate) matches finite differences', () => {
    const model = buildModel('resnet20', { numClasses: 3, inputShape: [8, 8, 3], seed: 1, width: 0.25 });
    const x = input(2, 8, 7);
    const layer = 'block1_2_relu1';
    const f = (g: tf.Tensor) => applyWithHooks(model, x, { [layer]: (t) => t.mul(g) }).sum();
    const g0 = tf.ones([4]);
    const grad = tf.grad(f)(g0).dataSync();
    expect(Array.from(grad).some((v) => Math.abs(v) > 1e-4)).toBe(true);
    const eps = 1e-3;
    for (let k = 0; k < 4; k++) {
      const delta = tf.oneHot(k, 4).mul(eps);
      const up = tf.tidy(() => f(g0.add(delta)).dataSync()[0]);
      const down = tf.tidy(() => f(g0.sub(delta)).dataSync()[0]);
      const numeric = (up - down) / (2 * eps);
      // ReLU kinks and float32 round-off make finite differences approximate.
      expect(Math.abs(grad[k] - numeric)).toBeLessThan(0.02 * Math.max(1, Math.abs(numeric)));
      delta.dispose();
    }
    tf.dispose([x, g0]);
  });

  it('applies a hook on the input layer to the input itself', () => {
    const model = buildModel('small-cnn', { numClasses: 4, inputShape: [8, 8, 3], seed: 1, width: 0.25 });
    const x = input(2, 8, 1);
    const flipped = tf.reverse(x, 2);
    const expected = model.predict(flipped) as tf.Tensor;
    const got = applyWithHooks(model, x, { input: (t) => tf.reverse(t, 2) });
    expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([x, flipped, expected, got]);
  });

  it('rejects unknown hook names and shape-changing hooks', () => {
    const model = buildModel('small-cnn', { numClasses: 4, inputShape: [8, 8, 3], seed: 1, width: 0.25 });
    const x = input(1, 8, 1);
    expect(() => applyWithHooks(model, x, { nope: (t) => t })).toThrow(/'nope' not in model.*relu1/);
    expect(() => applyWithHooks(model, x, { relu1: (t) => t.sum(-1) })).toThrow(/relu1.*changed its output shape/);
    x.dispose();
  });

  it('does not leak tensors across repeated calls', () => {
    const model = buildModel('resnet20', { numClasses: 3, inputShape: [8, 8, 3], seed: 1, width: 0.25 });
    const x = input(2, 8, 7);
    const mask = channelMask(4, 0);
    const run = () => {
      applyWithHooks(model, x, { block1_1_relu: (t) => t.mul(mask) }).dispose();
      tf.dispose(Object.values(activations(model, x, ['stem_relu', featureLayer(model)])));
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, mask]);
  });
});

describe('activations', () => {
  it('returns the requested layers with their shapes, the input included', () => {
    const model = buildModel('resnet20', { numClasses: 3, inputShape: [8, 8, 3], seed: 1, width: 0.25 });
    const x = input(2, 8, 8);
    const acts = activations(model, x, ['input', 'stem_relu', 'block2_1_relu', 'logits']);
    expect(acts.input.shape).toEqual([2, 8, 8, 3]);
    expect(acts.stem_relu.shape).toEqual([2, 8, 8, 4]);
    expect(acts.block2_1_relu.shape).toEqual([2, 4, 4, 8]);
    const predicted = model.predict(x) as tf.Tensor;
    expect(Array.from(acts.logits.dataSync())).toEqual(Array.from(predicted.dataSync()));
    expect(acts.stem_relu.min().dataSync()[0]).toBeGreaterThanOrEqual(0);
    tf.dispose([x, predicted, ...Object.values(acts)]);
  });
});
