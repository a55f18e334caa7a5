/**
 * CIFAR VGG with batch norm (as in bearpaw's pytorch-classification, which the
 * paper used): 3x3 convs with bias, BN, ReLU, 2x2 max-pools, then one linear
 * classifier on the 512 pooled features. At 32x32 input the last pool leaves
 * 1x1, where global average pooling equals PyTorch's flatten.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNorm, classifier, conv, maxPool, relu, scaledChannels, type Built, type Sym } from './blocks.js';

/** bearpaw's VGG initialises its classifier N(0, 0.01) with zero bias. */
const CLASSIFIER_STD = 0.01;

export type VggConfig = (number | 'M')[];

export const VGG_CONFIGS = {
  vgg11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
} satisfies Record<string, VggConfig>;

export function buildVgg(
  name: string,
  config: VggConfig,
  inputShape: [number, number, number],
  numClasses: number,
  width: number,
): Built {
  const input = tf.input({ shape: inputShape, name: 'input' });
  let x: Sym = input;
  let stage = 1;
  let index = 1;
  const gates: string[] = [];
  for (const item of config) {
    if (item === 'M') {
      x = maxPool(x, `pool${stage}`);
      stage += 1;
      index = 1;
      continue;
    }
    const id = `${stage}_${index}`;
    x = conv(x, scaledChannels(item, width), 3, 1, true, `conv${id}`);
    x = batchNorm(x, `bn${id}`);
    x = relu(x, `relu${id}`);
    gates.push(`relu${id}`);
    index += 1;
  }
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Sym;
  const logits = classifier(x, numClasses);
  return {
    model: tf.model({ inputs: input, outputs: logits, name }),
    featureLayer: gates[gates.length - 1],
    gateLayers: gates,
    denseStd: CLASSIFIER_STD,
  };
}
