/**
 * The model zoo: every architecture the pipeline trains, by name. Models take
 * float32 NHWC images in [0, 1] and output logits (no softmax); their weights
 * are seeded (init.ts) and their Fine-Pruning and CDRP layers are recorded in
 * the model's metadata (metadata.ts), which survives save and load.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Built } from './blocks.js';
import { initialiseWeights } from './init.js';
import { attachMetadata } from './metadata.js';
import { buildResNet, RESNET_CONFIGS } from './resnet.js';
import { buildSmallCnn } from './small-cnn.js';
import { buildVgg, VGG_CONFIGS } from './vgg.js';

export { featureLayer, gateLayers, readMetadata, type ModelMetadata } from './metadata.js';

export interface BuildOptions {
  numClasses: number;
  /** [height, width, channels]. */
  inputShape: [number, number, number];
  seed: number;
  /** Channel multiplier (1 = the published widths); each arch has its own default. */
  width?: number;
}

interface ArchSpec {
  defaultWidth: number;
  build(inputShape: [number, number, number], numClasses: number, width: number): Built;
}

const ARCHS: Record<string, ArchSpec> = {
  'vgg19-bn': { defaultWidth: 1, build: (s, n, w) => buildVgg('vgg19-bn', VGG_CONFIGS.vgg19, s, n, w) },
  'vgg11-bn': { defaultWidth: 1, build: (s, n, w) => buildVgg('vgg11-bn', VGG_CONFIGS.vgg11, s, n, w) },
  // A quarter-width VGG-11: the VGG family at CPU scale (16..128 channels).
  'vgg-narrow': { defaultWidth: 0.25, build: (s, n, w) => buildVgg('vgg-narrow', VGG_CONFIGS.vgg11, s, n, w) },
  resnet18: { defaultWidth: 1, build: (s, n, w) => buildResNet('resnet18', RESNET_CONFIGS.resnet18, s, n, w) },
  resnet34: { defaultWidth: 1, build: (s, n, w) => buildResNet('resnet34', RESNET_CONFIGS.resnet34, s, n, w) },
  resnet20: { defaultWidth: 1, build: (s, n, w) => buildResNet('resnet20', RESNET_CONFIGS.resnet20, s, n, w) },
  'small-cnn': { defaultWidth: 1, build: buildSmallCnn },
};

export const ARCHITECTURES: readonly string[] = Object.keys(ARCHS);

function validate(arch: string, opts: BuildOptions): void {
  if (!Object.hasOwn(ARCHS, arch)) throw new Error(`unknown architecture '${arch}'; known: ${ARCHITECTURES.join(', ')}`);
  if (!Number.isInteger(opts.numClasses) || opts.numClasses < 2) {
    throw new RangeError(`numClasses must be an integer >= 2, got ${opts.numClasses}`);
  }
  const shape = opts.inputShape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`inputShape must be [height, width, channels] of positive integers, got ${JSON.stringify(shape)}`);
  }
  if (!Number.isInteger(opts.seed)) throw new RangeError(`seed must be an integer, got ${opts.seed}`);
  if (opts.width !== undefined && !(opts.width > 0 && Number.isFinite(opts.width))) {
    throw new RangeError(`width must be a positive number, got ${opts.width}`);
  }
}

export function buildModel(arch: string, opts: BuildOptions): tf.LayersModel {
  validate(arch, opts);
  const spec = ARCHS[arch];
  const width = opts.width ?? spec.defaultWidth;
  const built = spec.build(opts.inputShape, opts.numClasses, width);
  initialiseWeights(built.model, opts.seed, { denseStd: built.denseStd });
  attachMetadata(built.model, {
    arch,
    numClasses: opts.numClasses,
    inputShape: opts.inputShape,
    width,
    seed: opts.seed,
    featureLayer: built.featureLayer,
    gateLayers: built.gateLayers,
  });
  return built.model;
}
