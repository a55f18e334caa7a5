import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURES, buildModel, featureLayer, gateLayers } from '../../domain/models/zoo.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tiny = { numClasses: 10, inputShape: [16, 16, 3] as [number, number, number], seed: 1, width: 0.125 };

function trainableCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
}

function flatWeights(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

describe('buildModel', () => {
  it('rejects an unknown architecture and lists the known ones', () => {
    expect(() => buildModel('resnet50', tiny)).toThrow(/unknown architecture 'resnet50'.*vgg19-bn.*resnet20.*small-cnn/);
    expect(() => buildModel('toString', tiny)).toThrow(/unknown architecture/);
  });

  it('rejects bad options naming the value', () => {
    expect(() => buildModel('small-cnn', { ...tiny, numClasses: 1 })).toThrow(/numClasses.*got 1/);
    expect(() => buildModel('small-cnn', { ...tiny, inputShape: [16, 16] as never })).toThrow(/inputShape/);
    expect(() => buildModel('small-cnn', { ...tiny, width: 0 })).toThrow(/width.*got 0/);
  });

  it.each(ARCHITECTURES.map((a) => [a]))('%s outputs logits of shape [N, classes] and names real layers', (arch) => {
    const model = buildModel(arch, tiny);
    const names = new Set(model.layers.map((l) => l.name));
    expect(names.has(featureLayer(model))).toBe(true);
    const gates = gateLayers(model);
    expect(gates.length).toBeGreaterThan(0);
    for (const g of gates) expect(names.has(g)).toBe(true);
    expect(gates[gates.length - 1]).toBe(featureLayer(model));
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 3);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 10]);
    // Logits, not probabilities: rows do not sum to 1.
    const sums = y.sum(1).dataSync();
    expect(Array.from(sums).some((s) => Math.abs(s - 1) > 1e-3)).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('has the published trainable parameter counts (PyTorch CIFAR models, 10 classes)', () => {
    const full = { numClasses: 10, inputShape: [32, 32, 3] as [number, number, number], seed: 0 };
    const expected: Record<string, number> = { 'vgg19-bn': 20_040_522, resnet18: 11_173_962, resnet34: 21_282_122 };
    for (const [arch, count] of Object.entries(expected)) {
      const model = buildModel(arch, full);
      expect(trainableCount(model)).toBe(count);
      model.dispose();
    }
  });

  it('ResNet-20 has three stages 16-32-64 with 9 blocks and downsamples 32 -> 8', () => {
    const model = buildModel('resnet20', { numClasses: 10, inputShape: [32, 32, 3], seed: 0 });
    expect(featureLayer(model)).toBe('block3_3_relu');
    expect(gateLayers(model)).toHaveLength(1 + 2 * 9);
    expect(model.getLayer('block3_3_relu').outputShape).toEqual([null, 8, 8, 64]);
    expect(model.getLayer('block1_1_relu').outputShape).toEqual([null, 32, 32, 16]);
    model.dispose();
  });

  it('VGG-19 feature layer is the last conv activation, 512 channels at 2x2', () => {
    const model = buildModel('vgg19-bn', { numClasses: 10, inputShape: [32, 32, 3], seed: 0, width: 0.25 });
    expect(featureLayer(model)).toBe('relu5_4');
    expect(gateLayers(model)).toHaveLength(16);
    expect(model.getLayer('relu5_4').outputShape).toEqual([null, 2, 2, 128]);
    model.dispose();
  });

  it('small-cnn follows issue 3: 4 convs 32-32-64-64, two pools, dense on 8x8x64 at 32x32', () => {
    const model = buildModel('small-cnn', { numClasses: 10, inputShape: [32, 32, 3], seed: 0 });
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D');
    expect(convs.map((c) => (c.outputShape as number[])[3])).toEqual([32, 32, 64, 64]);
    expect(model.getLayer('flatten').outputShape).toEqual([null, 8 * 8 * 64]);
    expect(trainableCount(model)).toBe(896 + 9248 + 18496 + 36928 + 40970);
    model.dispose();
  });

  it('same seed gives identical weights, another seed different ones', () => {
    const a = flatWeights(buildModel('resnet20', { ...tiny, seed: 7 }));
    const b = flatWeights(buildModel('resnet20', { ...tiny, seed: 7 }));
    const c = flatWeights(buildModel('resnet20', { ...tiny, seed: 8 }));
    expect(a.length).toBe(b.length);
    a.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(b[i])));
    expect(Array.from(a[0])).not.toEqual(Array.from(c[0]));
  });

  it('initialises conv kernels Kaiming-normal (fan-out), VGG classifier N(0, 0.01), other dense layers U(+-1/sqrt(fan_in))', () => {
    const model = buildModel('vgg11-bn', { numClasses: 10, inputShape: [32, 32, 3], seed: 3 });
    const rms = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0) / v.length);
    const kernel = model.getLayer('conv5_2').getWeights()[0].dataSync();
    expect(rms(kernel)).toBeCloseTo(Math.sqrt(2 / (9 * 512)), 3);
    const bias = model.getLayer('conv5_2').getWeights()[1].dataSync();
    expect(Array.from(bias).every((v) => v === 0)).toBe(true);
    const [vggDense, vggBias] = model.getLayer('logits').getWeights().map((w) => w.dataSync());
    expect(rms(vggDense)).toBeGreaterThan(0.009);
    expect(rms(vggDense)).toBeLessThan(0.011);
    expect(Array.from(vggBias).every((v) => v === 0)).toBe(true);
    model.dispose();

    const resnet = buildModel('resnet20', { numClasses: 10, inputShape: [32, 32, 3], seed: 3, width: 4 });
    const dense = Array.from(resnet.getLayer('logits').getWeights()[0].dataSync()).map(Math.abs);
    const bound = 1 / Math.sqrt(256);
    expect(Math.max(...dense)).toBeLessThanOrEqual(bound);
    expect(Math.max(...dense)).toBeGreaterThan(0.95 * bound);
    expect(Array.from(resnet.getLayer('logits').getWeights()[1].dataSync()).some((v) => v !== 0)).toBe(true);
    resnet.dispose();
  });
});
