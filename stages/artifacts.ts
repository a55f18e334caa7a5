/**
 * Reading train artifacts from a stage, and the standard/enhanced pair of them that the analyses
 * compare. One place, so that every stage finds a trained model and its trigger the same way.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { UpstreamArtifact } from '../engine/stage.js';
import { loadTrainedModel } from '../domain/analyses/inputs.js';
import { loadTrigger, TRIGGER_JSON } from '../domain/attacks/trigger-io.js';
import type { Trigger } from '../domain/attacks/trigger.js';
import { dataId, trainId, type Variant } from './ids.js';

/** A trained model and, for a poisoned one, the trigger it was poisoned with (null for a benign one). */
export async function loadTrained(artifact: UpstreamArtifact): Promise<{ model: tf.LayersModel; trigger: Trigger | null }> {
  const model = await loadTrainedModel(artifact.dir);
  const hasTrigger = await fs.access(join(artifact.dir, TRIGGER_JSON)).then(() => true, () => false);
  return { model, trigger: hasTrigger ? await loadTrigger(artifact.dir) : null };
}

/** A poisoned model and its trigger; a missing trigger is an error that names the artifact. */
export async function loadPoisoned(artifact: UpstreamArtifact): Promise<{ model: tf.LayersModel; trigger: Trigger }> {
  const model = await loadTrainedModel(artifact.dir);
  return { model, trigger: await loadTrigger(artifact.dir) };
}

/** The two versions of an attack that the analyses set side by side, in report order. */
export const VARIANTS: readonly Variant[] = ['standard', 'enhanced'];

/** Whether both versions of `attack` on `arch` are among the trained instances. */
export function bothVariantsTrained(trained: Set<string>, arch: string, attack: string, seed: number): boolean {
  return VARIANTS.every((v) => trained.has(trainId(arch, attack, v, seed)));
}

/** Dependencies of an analysis of both versions: the dataset and the two train artifacts. */
export function variantPairDeps(arch: string, attack: string, seed: number): { data: string; standard: string; enhanced: string } {
  return { data: dataId(), standard: trainId(arch, attack, 'standard', seed), enhanced: trainId(arch, attack, 'enhanced', seed) };
}
