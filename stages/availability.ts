/**
 * Which upstream instances the current params produce, so that the analysis, figure and table
 * stages depend only on instances that exist (a cell or point whose instance is absent says "not
 * run in this profile" instead of failing the DAG on a dangling dependency). Also the one place
 * that maps a defense id of the report's tables to the instance that evaluates it.
 */
import type { JsonObject } from '../engine/stage.js';
import trainStage from './train.js';
import evaluateStage, { finePruningId, neuralCleanseId, autoencoderId } from './evaluate.js';
import finePruningStage from './fine-pruning.js';
import neuralCleanseStage from './neural-cleanse.js';
import { evaluateId } from './ids.js';

export function trainedIds(params: JsonObject): Set<string> {
  return new Set(trainStage.instances(params).map((i) => i.id));
}

/** Instances that hold a defended model's metrics.json: evaluate, fine-pruning, neural-cleanse. */
export function evaluatedIds(params: JsonObject): Set<string> {
  return new Set([evaluateStage, finePruningStage, neuralCleanseStage].flatMap((k) => (k.instances(params) as { id: string }[]).map((i) => i.id)));
}

/** The instance whose metrics.json holds `defenseId` applied to a trained model. */
export function defenseInstanceId(trainInstanceId: string, defenseId: string): string {
  if (defenseId === 'fine-pruning') return finePruningId(trainInstanceId);
  if (defenseId === 'neural-cleanse') return neuralCleanseId(trainInstanceId);
  return evaluateId(trainInstanceId, defenseId);
}

/** The auto-encoder's own training instance of a replicate seed (its cost is in that artifact's meta). */
export const autoencoderInstance = (seed: number): string => autoencoderId(seed);
