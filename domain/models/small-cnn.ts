/**
 * The small CNN of issue 3 (the backend benchmark's reference model): two
 * pairs of 3x3 'same' convs with ReLU, each pair followed by a 2x2 max-pool,
 * then flatten and one dense layer. No batch norm.
 */
import * as tf from '@tensorflow/tfjs';
import { classifier, conv, maxPool, relu, scaledChannels, type Built, type Sym } from './blocks.js';

const STAGES = [
  [32, 32],
  [64, 64],
];

export function buildSmallCnn(inputShape: [number, number, number], numClasses: number, width: number): Built {
  const input = tf.input({ shape: inputShape, name: 'input' });
  let x: Sym = input;
  const gates: string[] = [];
  let n = 1;
  STAGES.forEach((filters, s) => {
    for (const f of filters) {
      x = conv(x, scaledChannels(f, width), 3, 1, true, `conv${n}`);
      x = relu(x, `relu${n}`);
      gates.push(`relu${n}`);
      n += 1;
    }
    x = maxPool(x, `pool${s + 1}`);
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as Sym;
  const logits = classifier(x, numClasses);
  return { model: tf.model({ inputs: input, outputs: logits, name: 'small-cnn' }), featureLayer: gates[gates.length - 1], gateLayers: gates };
}
