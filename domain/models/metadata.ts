/**
 * Facts about a zoo model that later stages need (which layer Fine-Pruning
 * prunes, which layers carry per-channel gates for CDRP). They are stored in
 * the model's user-defined metadata, which tfjs writes into model.json, so
 * they survive save and load without a side file.
 */
import type * as tf from '@tensorflow/tfjs';

export interface ModelMetadata {
  arch: string;
  numClasses: number;
  inputShape: [number, number, number];
  width: number;
  seed: number;
  /** The last conv layer's activation (VGG) or the last block's output (ResNet). */
  featureLayer: string;
  /** Layers whose outputs are per-channel activations, input to output order. */
  gateLayers: string[];
}

const KEY = 'triggerLab';

export function attachMetadata(model: tf.LayersModel, meta: ModelMetadata): void {
  const names = new Set(model.layers.map((l) => l.name));
  for (const name of [meta.featureLayer, ...meta.gateLayers]) {
    if (!names.has(name)) throw new Error(`model metadata names layer '${name}', which model '${model.name}' does not have`);
  }
  const existing = (model.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  model.setUserDefinedMetadata({ ...existing, [KEY]: meta });
}

export function readMetadata(model: tf.LayersModel): ModelMetadata {
  const all = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  const meta = all?.[KEY] as ModelMetadata | undefined;
  if (!meta) throw new Error(`model '${model.name}' carries no trigger-lab metadata: build it with buildModel() or load one saved from it`);
  return meta;
}

/** Name of the layer whose output Fine-Pruning ranks and masks. */
export function featureLayer(model: tf.LayersModel): string {
  return readMetadata(model).featureLayer;
}

/** Names of the per-channel activation layers, in forward order (CDRP gates). */
export function gateLayers(model: tf.LayersModel): string[] {
  return [...readMetadata(model).gateLayers];
}
