/**
 * How learnable the synthetic set is: a tiny CNN (three stride-2 convs, global
 * average pooling) trained for a few epochs with Adam; returns test accuracy per
 * epoch. Chance is 10%. Used by bench/data.ts --learn.
 */
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../domain/common/types.js';
import { Rng } from '../domain/common/rng.js';
import type { Dataset } from '../domain/data/format.js';

function toFloat(split: LabelledImages): tf.Tensor4D {
  return tf.tidy(() => tf.tensor4d(split.images, [split.count, split.height, split.width, split.channels], 'int32').toFloat().div(255));
}

export async function tinyCnnAccuracy(ds: Dataset, epochs: number, seed: number): Promise<number[]> {
  const { height, width, channels } = ds.train;
  const rng = new Rng(`learnability/${seed}`);
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [height, width, channels], filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: rng.seed() }) }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: rng.seed() }) }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: rng.seed() }) }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: ds.classNames.length, kernelInitializer: tf.initializers.glorotUniform({ seed: rng.seed() }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.003), loss: (y: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, logits) });
  const xs = toFloat(ds.train);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(ds.train.labels, 'int32'), ds.classNames.length));
  const xt = toFloat(ds.test);
  const accuracies: number[] = [];
  try {
    for (let e = 0; e < epochs; e++) {
      await model.fit(xs, ys, { epochs: 1, batchSize: 32, shuffle: true, verbose: 0 });
      const predicted = tf.tidy(() => (model.predict(xt) as tf.Tensor).argMax(-1).dataSync());
      let correct = 0;
      predicted.forEach((p, i) => (correct += +(p === ds.test.labels[i])));
      accuracies.push(correct / ds.test.count);
    }
  } finally {
    tf.dispose([xs, ys, xt]);
    model.dispose();
  }
  return accuracies;
}
