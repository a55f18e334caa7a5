/**
 * Rough run-time estimates of the heavy stage kinds, from the measured throughput table
 * (throughput.json, written by bench/train.ts) of the backend a run would use. Costs are counted
 * in the two measured units: training-step images (forward + backward + update; a PGD or
 * reverse-engineering step is about one) and inference images. Start-up, data loading, JS-side
 * batching and transforms are not counted, so these are lower bounds of the real times.
 */
import { createRequire } from 'node:module';
import { BACKEND_ENV_VAR } from './select.js';
import { lookupThroughput, modelKey, readThroughputFileSync, type ThroughputTable } from './throughput.js';

export interface Estimate {
  seconds: number;
  basis: string;
}

type Obj = Record<string, unknown>;

const obj = (v: unknown, where: string): Obj => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`estimate: params.${where} must be an object, got ${JSON.stringify(v)}`);
  return v as Obj;
};

/** The installed tfjs-node packages `auto` would try before wasm (mirrors select.ts's order). */
const NODE_BACKENDS: Array<[string, string]> = [['tensorflow-gpu', '@tensorflow/tfjs-node-gpu'], ['tensorflow', '@tensorflow/tfjs-node']];

/** The backend a run would select (env override, else params.compute.backend; `auto` = first installed), without loading it. */
export function activeBackend(params: Obj, env: NodeJS.ProcessEnv = process.env): string {
  const choice = env[BACKEND_ENV_VAR] || (obj(params.compute, 'compute').backend as string);
  if (choice !== 'auto') return choice;
  const require = createRequire(import.meta.url);
  for (const [name, pkg] of NODE_BACKENDS) {
    try {
      require.resolve(pkg);
      return name;
    } catch {
      // not installed: auto goes on to the next
    }
  }
  return 'wasm';
}

/**
 * Train and test images the data stage keeps (CIFAR-10 has 5000 / 1000 per class); `valFraction`
 * of the test images become the validation split (Fine-Pruning, Neural Cleanse), the rest `test`.
 */
export function datasetSizes(params: Obj): { train: number; test: number; val: number; classes: number } {
  const data = obj(params.data, 'data');
  const classes = Array.isArray(data.classes) ? data.classes.length : 10;
  const synthetic = data.source === 'synthetic' ? obj(data.synthetic, 'data.synthetic') : null;
  const train = (synthetic ? (synthetic.trainPerClass as number) : ((data.perClassTrain as number | null) ?? 5000)) * classes;
  const heldOut = (synthetic ? (synthetic.testPerClass as number) : ((data.perClassTest as number | null) ?? 1000)) * classes;
  const val = Math.round(heldOut * ((data.valFraction as number | undefined) ?? 0));
  return { train, test: heldOut - val, val, classes };
}

export interface Speed {
  trainImgPerS: number;
  forwardImgPerS: number;
  basis: string;
}

/** Measured speed of `arch` (at its params width) on the active backend; falls back to wasm figures, saying so. */
export function speedOf(params: Obj, arch: string, table: ThroughputTable = readThroughputFileSync()): Speed | null {
  const width = (obj(obj(params.models, 'models').width, 'models.width')[arch] as number | undefined) ?? null;
  const backend = activeBackend(params);
  const entry = lookupThroughput(table, backend, arch, width) ?? lookupThroughput(table, 'wasm', arch, width);
  if (!entry) return null;
  const note = entry.backend === backend ? '' : ` (no ${backend} measurement: ${entry.backend} figures)`;
  return { trainImgPerS: entry.trainImgPerS, forwardImgPerS: entry.forwardImgPerS, basis: `measured ${entry.backend} throughput of ${entry.model}, batch ${entry.batch}${note}` };
}

const cost = (speed: Speed, trainImages: number, forwardImages: number): Estimate => ({
  seconds: trainImages / speed.trainImgPerS + forwardImages / speed.forwardImgPerS,
  basis: speed.basis,
});

/** A training run: epochs over the training set, the per-epoch curve evaluation and the final one (clean + triggered). */
export function estimateTraining(params: Obj, p: { arch: string; recipe: { epochs: number }; curveTestImages: number | null }): Estimate | null {
  const speed = speedOf(params, p.arch);
  if (!speed) return null;
  const { train, test } = datasetSizes(params);
  const curve = Math.min(p.curveTestImages ?? test, test);
  return cost(speed, train * p.recipe.epochs, 2 * (curve * p.recipe.epochs + test));
}

/** A test-time evaluation: every test image clean and triggered (an auto-encoder's pass is not counted). */
export function estimateEvaluation(params: Obj, p: { model: { arch: string } }): Estimate | null {
  const speed = speedOf(params, p.model.arch);
  return speed && cost(speed, 0, 2 * datasetSizes(params).test);
}

/** PGD on the poisoned target-class images, plus adversarial training of the surrogate when it is adversarial. */
export function estimateLcPoison(params: Obj, p: { arch: string; definition: { ratio: number; pgd: { steps: number }; surrogate: string; adversarialTraining?: { steps: number; epochs: number | null } }; recipe: { epochs: number } | null }): Estimate | null {
  const speed = speedOf(params, p.arch);
  if (!speed) return null;
  const { train, classes } = datasetSizes(params);
  let steps = (train / classes) * p.definition.ratio * p.definition.pgd.steps;
  const adv = p.definition.adversarialTraining;
  if (p.definition.surrogate === 'adversarial' && adv) steps += train * (adv.epochs ?? p.recipe?.epochs ?? 0) * (adv.steps + 1);
  return cost(speed, steps, 0);
}

/** UAP: one gradient per image per epoch. */
export function estimateUap(params: Obj, p: { arch: string; definition: { images: number | null; epochs: number } }): Estimate | null {
  const speed = speedOf(params, p.arch);
  return speed && cost(speed, Math.min(p.definition.images ?? Infinity, datasetSizes(params).train) * p.definition.epochs, 0);
}

/** Fine-pruning: the validation split (clean + triggered) per fraction, then the test split. */
export function estimateFinePruning(params: Obj, p: { model: { arch: string }; fractions: number[] }): Estimate | null {
  const speed = speedOf(params, p.model.arch);
  const { val, test } = datasetSizes(params);
  return speed && cost(speed, 0, 2 * (val * p.fractions.length + test));
}

/** Neural Cleanse: a trigger reversed per class, unlearning, and one evaluation. */
export function estimateNeuralCleanse(params: Obj, p: { model: { arch: string }; cleanImages: number | null; reverse: { epochs: number; batchesPerEpoch: number; batchSize: number }; unlearn: { epochs: number } }): Estimate | null {
  const speed = speedOf(params, p.model.arch);
  if (!speed) return null;
  const { test, val, classes } = datasetSizes(params);
  const clean = Math.min(p.cleanImages ?? val, val);
  return cost(speed, classes * p.reverse.epochs * p.reverse.batchesPerEpoch * p.reverse.batchSize + p.unlearn.epochs * clean, 2 * test);
}

/** Sensitivity grid: one forward pass of the sampled images per grid point. */
export function estimateSensitivity(params: Obj, p: { arch: string; dx: number[]; dy: number[]; values: number[]; images: number | null }): Estimate | null {
  const speed = speedOf(params, p.arch);
  const images = Math.min(p.images ?? Infinity, datasetSizes(params).test);
  return speed && cost(speed, 0, images * (p.dx.length * p.dy.length + p.values.length));
}

/** CDRP: gate optimisation steps for benign, attacked and transformed images, on the standard and the enhanced model. */
export function estimateCdrp(params: Obj, p: { arch: string; images: number; steps: number }): Estimate | null {
  const speed = speedOf(params, p.arch);
  return speed && cost(speed, 2 * 3 * p.images * p.steps, 0);
}

/**
 * The auto-encoder's training: no measured figure for it, so it is priced like the measured
 * small-cnn (a few conv layers at full resolution), and said so.
 */
export function estimateAutoencoder(params: Obj, p: { trainImages: number | null; training: { epochs: number } }, proxyArch = 'small-cnn'): Estimate | null {
  const speed = speedOf({ ...params, models: { width: {} } }, proxyArch);
  if (!speed) return null;
  const images = Math.min(p.trainImages ?? Infinity, datasetSizes(params).train);
  const e = cost(speed, images * p.training.epochs, 0);
  return { ...e, basis: `priced as ${modelKey(proxyArch, null)}: ${e.basis}` };
}
