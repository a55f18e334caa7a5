/**
 * The pipeline's cost model for `repro --dry-run`: per stage kind, a rough time from the measured
 * throughput table (domain/backend/throughput.json, written by `npm run bench:train`). Kept out of
 * the stage modules so that refining an estimate never changes a cache key.
 */
import type { Estimator, JsonObject, TimeEstimate } from '../engine/stage.js';
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
