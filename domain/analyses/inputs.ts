/**
 * Reading the upstream artifacts an analysis needs, from plain directories: a trained model, its
 * trigger, the dataset's test split and an evaluation's metrics. The expected layouts are named
 * here once, and a missing file is an error that says what was looked for.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { loadModel } from '../models/io.js';
import { MODEL_JSON } from '../models/io.js';
import { loadDataset } from '../data/format.js';
import { takeIndices } from '../data/subset.js';
import type { LabelledImages } from '../common/types.js';

/** Where a train artifact may keep its model, in order of preference. */
export const MODEL_DIRS = ['model', '.'];
export const METRICS_FILE = 'metrics.json';

async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(
    () => true,
    () => false,
  );
}

export async function loadTrainedModel(trainDir: string): Promise<tf.LayersModel> {
  for (const sub of MODEL_DIRS) {
    const dir = join(trainDir, sub);
    if (await exists(join(dir, MODEL_JSON))) return loadModel(dir);
  }
  throw new Error(`no ${MODEL_JSON} in ${MODEL_DIRS.map((d) => join(trainDir, d)).join(' or ')}`);
}

/** The trigger a train artifact was poisoned with (the attacks area's trigger-io format). */
export { loadTrigger } from '../attacks/trigger-io.js';

export interface TestData {
  test: LabelledImages;
  name: string;
  synthetic: boolean;
  source: string;
  classNames: string[];
  imageShape: [number, number, number];
}

export async function loadTestData(dataDir: string): Promise<TestData> {
  const ds = await loadDataset(dataDir);
  return {
    test: ds.test,
    name: ds.name,
    synthetic: ds.synthetic,
    source: ds.source,
    classNames: ds.classNames,
    imageShape: [ds.test.height, ds.test.width, ds.test.channels],
  };
}

/** Clean accuracy, ASR and clean target rate in percent, from an evaluate artifact's metrics.json. */
export interface EvalMetrics {
  clean: number;
  asr?: number;
  targetRateClean?: number;
  /** Seconds the defense added; never in metrics.json (a run measurement): the table stage fills it from meta.json. */
  defenseSeconds?: number;
  /** Fine-Pruning only: its stopping rule and its test numbers at the paper's own clean-accuracy loss (stages/fine-pruning.ts). */
  finePruning?: FinePruningExtras;
}

export interface FinePruningExtras {
  /** Largest validation clean-accuracy drop allowed (0-1). */
  maxAccuracyDrop: number;
  chosenFraction: number;
  /** Percent metrics on the test half at the fraction whose validation loss first reaches the paper's loss; null where the paper has no row. */
  atPaperLoss: { paperLoss: number; fraction: number; validationLoss: number; reached: boolean; clean: number; asr?: number; targetRateClean?: number } | null;
}

function finePruningExtras(m: Record<string, unknown>, path: string): FinePruningExtras | undefined {
  if (m.maxAccuracyDrop === undefined) return undefined;
  const num = (v: unknown, field: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${path}: '${field}' must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const a = m.atPaperLoss as Record<string, unknown> | null | undefined;
  return {
    maxAccuracyDrop: num(m.maxAccuracyDrop, 'maxAccuracyDrop'),
    chosenFraction: num(m.chosenFraction, 'chosenFraction'),
    atPaperLoss: a == null ? null : {
      paperLoss: num(a.paperLoss, 'atPaperLoss.paperLoss'),
      fraction: num(a.fraction, 'atPaperLoss.fraction'),
      validationLoss: num(a.validationLoss, 'atPaperLoss.validationLoss'),
      reached: a.reached === true,
      clean: asPercent(a.cleanAccuracy, 'atPaperLoss.cleanAccuracy', path)!,
      asr: asPercent(a.asr, 'atPaperLoss.asr', path),
      targetRateClean: asPercent(a.targetRateClean, 'atPaperLoss.targetRateClean', path),
    },
  };
}

const asPercent = (v: unknown, field: string, path: string): number | undefined => {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${path}: '${field}' must be a number, got ${JSON.stringify(v)}`);
  // evaluateModel reports fractions in [0, 1]; a percentage here would be a silent 100x error.
  if (v < 0 || v > 1) throw new Error(`${path}: '${field}' must be a fraction in [0, 1], got ${v}`);
  return 100 * v;
};

export async function readEvalMetrics(evalDir: string): Promise<EvalMetrics> {
  const path = join(evalDir, METRICS_FILE);
  const m = JSON.parse(await fs.readFile(path, 'utf8')) as Record<string, unknown>;
  const clean = asPercent(m.cleanAccuracy ?? m.clean, 'cleanAccuracy', path);
  if (clean === undefined) throw new Error(`${path}: no cleanAccuracy`);
  return {
    clean,
    asr: asPercent(m.asr, 'asr', path),
    targetRateClean: asPercent(m.targetRateClean, 'targetRateClean', path),
    ...(m.maxAccuracyDrop !== undefined ? { finePruning: finePruningExtras(m, path) } : {}),
  };
}

/** `count` test images whose label is not the target, drawn by `rng` (the same for every model given the same seed). */
export function sampleNonTarget(test: LabelledImages, target: number, count: number, rng: import('../common/rng.js').Rng): LabelledImages {
  const candidates: number[] = [];
  test.labels.forEach((l, i) => {
    if (l !== target) candidates.push(i);
  });
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`image count must be a positive integer, got ${count}`);
  const k = Math.min(count, candidates.length);
  return takeIndices(test, rng.sample(candidates.length, k).map((j) => candidates[j]));
}
