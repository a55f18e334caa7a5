/**
 * The pipeline's cost model for `repro --dry-run`: per stage kind, a rough time from the measured
 * throughput table (domain/backend/throughput.json, written by `npm run bench:train`). Kept out of
 * the stage modules so that refining an estimate never changes a cache key.
 */
import type { Estimator, JsonObject, TimeEstimate } from '../engine/stage.js';
import type { CalibratedEstimatorFactory, EstimateGroup } from '../engine/estimate.js';
import { activeBackend } from '../domain/backend/estimate.js';
import { describeCalibration, machineCalibration } from './calibration.js';
import {
  estimateAutoencoder, estimateCdrp, estimateEvaluation, estimateFinePruning, estimateLcPoison,
  estimateNeuralCleanse, estimateSensitivity, estimateTraining, estimateUap,
} from '../domain/backend/estimate.js';

type KindEstimator = (params: JsonObject, instanceParams: never) => TimeEstimate | null;

const byKind: Record<string, KindEstimator> = {
  train: estimateTraining,
  evaluate: estimateEvaluation,
  'lc-poison': estimateLcPoison,
  uap: estimateUap,
  'fine-pruning': estimateFinePruning,
  'neural-cleanse': estimateNeuralCleanse,
  autoencoder: estimateAutoencoder,
  sensitivity: estimateSensitivity,
  cdrp: estimateCdrp,
};

export const estimateSeconds: Estimator = (kind, params, instance) => byKind[kind]?.(params, instance.params as never) ?? null;

/**
 * The dry run's grouping: each instance's replicate seed (its own `seed`, or its model's), so the
 * dry run shows how many seeds the params expand and what each costs; data, figures, tables and
 * the report are shared by all seeds.
 */
export const estimateGroup: EstimateGroup = (kind, instance) => {
  if (kind === 'figure' || kind === 'table' || kind === 'report') return null;
  const p = instance.params as { seed?: unknown; model?: { seed?: unknown } } | null;
  const seed = p?.model?.seed ?? p?.seed;
  return typeof seed === 'number' ? `seed ${seed}` : null;
};

/**
 * The cost model scaled to this machine (see calibration.ts): the dry run probes once per machine
 * and backend (`probe`), a run uses an earlier probe's result if there is one.
 */
export const calibratedEstimator: CalibratedEstimatorFactory = async (params, { cacheDir, probe }) => {
  const backend = activeBackend(params);
  const calibration = await machineCalibration(backend, cacheDir, probe);
  if (!calibration) {
    const why = probe ? `throughput.json has no ${backend} small-cnn entry at batch 128 to calibrate against` : 'no probe has run on this machine yet (a dry run runs one)';
    return { estimate: estimateSeconds, calibration: `none, throughput.json as measured where bench:train ran (${why})` };
  }
  const factor = calibration.speedFactor;
  const estimate: Estimator = (kind, p, instance) => {
    const e = estimateSeconds(kind, p, instance);
    return e && { seconds: e.seconds / factor, basis: `${e.basis}, calibrated` };
  };
  return { estimate, calibration: describeCalibration(calibration) };
};
