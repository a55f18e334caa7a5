/**
 * Models on disk in the standard tfjs layers format (model.json + one
 * weights file), through an IOHandler written with node:fs: tfjs's own
 * 'file://' handler only exists in tfjs-node, and this must work on the wasm
 * and cpu backends too. Files are written under a temporary name and renamed,
 * so a killed process never leaves a half-written model.json beside a
 * complete weights file.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

function toBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(new tf.io.CompositeArrayBuffer(data).slice());
}

async function readArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = path.join(dir, MODEL_JSON);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
  } catch (err) {
    throw new Error(`cannot read model at ${jsonPath}: ${(err as Error).message}`);
  }
  if (!Array.isArray(modelJson.weightsManifest)) throw new Error(`${jsonPath}: no weightsManifest`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of modelJson.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(await fs.readFile(path.join(dir, p)));
  }
  const joined = Buffer.concat(buffers);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
  return tf.io.getModelArtifactsForJSONSync(modelJson, specs, weightData);
}

/** An IOHandler that saves to and loads from `dir` (created on save). */
export function fileHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('fileHandler: binary (graph-model) topologies are not supported, only layers models');
      }
      await fs.mkdir(dir, { recursive: true });
      const weights = toBytes(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      // Weights first: model.json is what marks the directory as a complete model.
      await writeAtomic(path.join(dir, WEIGHTS_BIN), weights);
      const json = JSON.stringify(modelJson);
      await writeAtomic(path.join(dir, MODEL_JSON), json);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: json.length,
          weightSpecsBytes: JSON.stringify(modelJson.weightsManifest).length,
          weightDataBytes: weights.byteLength,
        },
      };
    },

    load: () => readArtifacts(dir),
  };
}

export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(fileHandler(dir));
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileHandler(dir));
}

/**
 * Overwrites the weights of an existing model (same architecture) with those
 * saved in `dir`; used to resume training into the caller's model object.
 */
export async function loadWeightsInto(model: tf.LayersModel, dir: string): Promise<void> {
  const artifacts = await readArtifacts(dir);
  const named = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
  try {
    model.loadWeights(named, true);
  } finally {
    tf.dispose(Object.values(named));
  }
}
