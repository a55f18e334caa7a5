/**
 * CIFAR ResNets with BasicBlocks: a 3x3 stem without max-pool, stages of
 * blocks (the first block of every stage after the first halves the size),
 * global average pooling and one linear classifier. Shortcuts that change
 * shape are 1x1 conv + BN projections (He et al.'s option B, as in the
 * ResNet-18/34 CIFAR code the paper's community uses). ResNet-20 uses the
 * same projection instead of He et al.'s option A (zero-padded identity),
 * which tfjs has no serialisable layer for: 272,474 parameters instead of
 * 269,722 (+1%).
 */
import * as tf from '@tensorflow/tfjs';
import { batchNorm, classifier, conv, relu, scaledChannels, type Built, type Sym } from './blocks.js';

export interface ResNetConfig {
  /** Blocks per stage. */
  blocks: number[];
  /** Channels per stage; the stem has the first stage's channels. */
  channels: number[];
}

export const RESNET_CONFIGS = {
  resnet18: { blocks: [2, 2, 2, 2], channels: [64, 128, 256, 512] },
  resnet34: { blocks: [3, 4, 6, 3], channels: [64, 128, 256, 512] },
  resnet20: { blocks: [3, 3, 3], channels: [16, 32, 64] },
} satisfies Record<string, ResNetConfig>;

function basicBlock(x: Sym, inChannels: number, outChannels: number, stride: number, prefix: string): Sym {
  let y = conv(x, outChannels, 3, stride, false, `${prefix}_conv1`);
  y = batchNorm(y, `${prefix}_bn1`);
  y = relu(y, `${prefix}_relu1`);
  y = conv(y, outChannels, 3, 1, false, `${prefix}_conv2`);
  y = batchNorm(y, `${prefix}_bn2`);
  let shortcut = x;
  if (stride !== 1 || inChannels !== outChannels) {
    shortcut = conv(x, outChannels, 1, stride, false, `${prefix}_short_conv`);
    shortcut = batchNorm(shortcut, `${prefix}_short_bn`);
  }
  const sum = tf.layers.add({ name: `${prefix}_add` }).apply([y, shortcut]) as Sym;
  return relu(sum, `${prefix}_relu`);
}

export function buildResNet(
  name: string,
  config: ResNetConfig,
  inputShape: [number, number, number],
  numClasses: number,
  width: number,
): Built {
  const channels = config.channels.map((c) => scaledChannels(c, width));
  const input = tf.input({ shape: inputShape, name: 'input' });
  let x = conv(input, channels[0], 3, 1, false, 'stem_conv');
  x = batchNorm(x, 'stem_bn');
  x = relu(x, 'stem_relu');
  const gates = ['stem_relu'];
  let inChannels = channels[0];
  config.blocks.forEach((count, s) => {
    for (let b = 0; b < count; b++) {
      const prefix = `block${s + 1}_${b + 1}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      x = basicBlock(x, inChannels, channels[s], stride, prefix);
      inChannels = channels[s];
      gates.push(`${prefix}_relu1`, `${prefix}_relu`);
    }
  });
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Sym;
  const logits = classifier(x, numClasses);
  return { model: tf.model({ inputs: input, outputs: logits, name }), featureLayer: gates[gates.length - 1], gateLayers: gates };
}
