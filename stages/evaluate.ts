/**
 * Stage kind 'evaluate': one instance per (trained model, defense setting) of the defense grid.
 * Test-time transform defenses (none, flip, ShrinkPad, noise, colour jitter) and the Auto-Encoder
 * read the trained model straight from its train artifact (no copy), apply the transform to every
 * test image (after stamping, for the ASR), and write metrics.json with clean accuracy, ASR, the
 * clean target rate and the per-image overhead the transform adds (Table 5).
 *
 * This file also holds what the other defense stages share: the defenses params, the list of
 * trained models (the train stage's own expansion). Loading a train artifact is in artifacts.ts.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Json, JsonObject, StageContext, StageInstance, StageKind, UpstreamArtifact } from '../engine/stage.js';
import { dataId, evaluateId, isSMaxTrainId, modelPath } from './ids.js';
import trainStage, { readPlan } from './train.js';
import { Rng } from '../domain/common/rng.js';
import type { ImageTransform } from '../domain/common/types.js';
import { loadDataset } from '../domain/data/format.js';
import { loadModel } from '../domain/models/io.js';
import { loadTrained } from './artifacts.js';
import { evaluateModel, meanOverDraws } from '../domain/metrics/evaluate.js';
import { parseTransformDefense, transformDefense, transformDefenseId, transformOverheadMs, type TransformDefenseSpec } from '../domain/defenses/transform-defense.js';
import { autoencoderTransform } from '../domain/defenses/autoencoder.js';
import { imageBatch } from '../domain/common/pixels.js';
import { BENIGN, checkFilter, matchesFilter, type ModelFilter, type TrainedModelRef } from '../domain/defenses/grid.js';

// ---------- params shared by the defense stages ----------

export interface TransformSet extends JsonObject {
  name: string;
  defenses: Json[];
  models: ModelFilter & JsonObject;
}

export interface DefensesParams extends JsonObject {
  batchSize: number;
  overhead: { images: number; repeats: number };
  transformSets: TransformSet[] & Json[];
  /** Seeded draws of each random transform per evaluation (defenses.draws). */
  draws: number;
  finePruning: JsonObject & { enabled: boolean; models: ModelFilter & JsonObject };
  neuralCleanse: JsonObject & { enabled: boolean; models: ModelFilter & JsonObject };
  autoencoder: JsonObject & { enabled: boolean; models: ModelFilter & JsonObject };
}

export function readDefenses(params: JsonObject): DefensesParams {
  const d = params.defenses;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new Error(`params.defenses must be an object, got ${JSON.stringify(d)}`);
  return d as unknown as DefensesParams;
}

export const AUTOENCODER_DEFENSE = 'autoencoder';
/** The auto-encoder of one replicate seed: each seed trains its own, and its models are evaluated with it. */
export const autoencoderId = (seed: number): string => `autoencoder/seed${seed}`;
export const finePruningId = (trainInstanceId: string): string => `fine-pruning/${modelPath(trainInstanceId)}`;
export const neuralCleanseId = (trainInstanceId: string): string => `neural-cleanse/${modelPath(trainInstanceId)}`;

export interface TrainedModel extends TrainedModelRef {
  id: string;
}

/**
 * Every model the train stage expands, in its order (taken from its own instances, so models it
 * adds later, such as ablation variants, join the grid), and what is trained (for filter checks).
 */
export function trainedModels(params: JsonObject): { models: TrainedModel[]; known: { architectures: string[]; attacks: string[]; seeds: number[] } } {
  const plan = readPlan(params);
  // The s_max ablation models are evaluated only as figure 13 needs (ablationEvaluations), not across the grid.
  const models = trainStage.instances(params).filter(({ id }) => !isSMaxTrainId(id)).map(({ id, params: p }) => ({ id, arch: p.arch, attack: p.attack, variant: p.variant, seed: p.seed }));
  return { models, known: { architectures: plan.models.architectures, attacks: [...new Set(models.map((m) => m.attack).filter((a) => a !== BENIGN))], seeds: [...new Set(models.map((m) => m.seed))] } };
}

/** The trained models a defense runs on; its filter is checked against what is trained. */
export function selectModels(params: JsonObject, filter: ModelFilter, where: string, poisonedOnly: boolean): TrainedModel[] {
  const { models, known } = trainedModels(params);
  checkFilter(filter, known, where);
  return models.filter((m) => matchesFilter(m, filter) && !(poisonedOnly && m.attack === BENIGN));
}

export function targetOf(params: JsonObject): number {
  return readPlan(params).attacks.target;
}


export async function writeJson(path: string, value: unknown): Promise<void> {
  await fs.writeFile(path, JSON.stringify(value, null, 2) + '\n');
}

// ---------- the stage ----------

export type EvaluateDefense = TransformDefenseSpec | { type: typeof AUTOENCODER_DEFENSE };

export interface EvaluateParams extends JsonObject {
  model: TrainedModelRef & JsonObject;
  defense: EvaluateDefense & JsonObject;
  defenseId: string;
  target: number;
  /** Seeded draws of a random transform; 1 for deterministic defenses, so their keys do not depend on defenses.draws. */
  draws: number;
  batchSize: number;
  overhead: { images: number; repeats: number };
}

function instances(params: JsonObject): StageInstance<EvaluateParams>[] {
  const defenses = readDefenses(params);
  const target = targetOf(params);
  const out = new Map<string, StageInstance<EvaluateParams>>();
  const add = (m: TrainedModel, defense: EvaluateDefense, defenseId: string, extraDeps: Record<string, string>) => {
    const id = evaluateId(m.id, defenseId);
    if (out.has(id)) return;
    const { id: _ignored, ...model } = m;
    out.set(id, {
      id,
      params: {
        model: model as TrainedModelRef & JsonObject,
        defense: defense as EvaluateDefense & JsonObject,
        defenseId,
        target,
        draws: isRandomDefense(defense) ? defenses.draws : 1,
        batchSize: defenses.batchSize,
        overhead: defenses.overhead,
      },
      deps: { model: m.id, data: dataId(), ...extraDeps },
      description: `${defenseId} against ${modelPath(m.id)}`,
    });
  };
  defenses.transformSets.forEach((set, i) => {
    const where = `params.defenses.transformSets[${i}] (${set.name})`;
    const specs = set.defenses.map((raw) => parseTransformDefense(raw));
    for (const m of selectModels(params, set.models, where, false)) for (const spec of specs) add(m, spec, transformDefenseId(spec), {});
  });
  for (const { model, defense } of ablationEvaluations(params)) add(model, defense, transformDefenseId(defense), {});
  if (defenses.autoencoder.enabled) {
    for (const m of selectModels(params, defenses.autoencoder.models, 'params.defenses.autoencoder.models', false)) {
      add(m, { type: AUTOENCODER_DEFENSE }, AUTOENCODER_DEFENSE, { autoencoder: autoencoderId(m.seed) });
    }
  }
  return [...out.values()];
}

/** Figure 13's points: every s_max ablation model without defense and under ShrinkPad-(analyses.ablation.sMaxDefense). */
export function ablationEvaluations(params: JsonObject): Array<{ model: TrainedModel; defense: TransformDefenseSpec }> {
  const ablation = (params.analyses as JsonObject | undefined)?.ablation as { attacks: string[]; sMaxDefense: number } | undefined;
  if (!ablation) return [];
  const specs = [parseTransformDefense({ type: 'none' }), parseTransformDefense({ type: 'shrinkpad', size: ablation.sMaxDefense })];
  // The ordinary enhanced model is the default s_max's point, whether or not the transform sets cover it.
  return trainStage
    .instances(params)
    .filter(({ id, params: p }) => isSMaxTrainId(id) || (p.variant === 'enhanced' && ablation.attacks.includes(p.attack)))
    .flatMap(({ id, params: p }) => specs.map((defense) => ({ model: { id, arch: p.arch, attack: p.attack, variant: p.variant, seed: p.seed }, defense })));
}

async function transformFor(ctx: StageContext<EvaluateParams>): Promise<{ transform: ImageTransform | null; dispose: () => void }> {
  const defense = ctx.params.defense;
  if (defense.type === AUTOENCODER_DEFENSE) {
    const ae = await loadModel(ctx.inputs.autoencoder.dir);
    return { transform: autoencoderTransform(ae), dispose: () => ae.dispose() };
  }
  return { transform: transformDefense(defense as TransformDefenseSpec), dispose: () => undefined };
}

async function run(ctx: StageContext<EvaluateParams>): Promise<void> {
  const p = ctx.params;
  const dataset = await loadDataset(ctx.inputs.data.dir);
  const { model, trigger } = await loadTrained(ctx.inputs.model);
  const { transform, dispose } = await transformFor(ctx);
  try {
    const draws = p.draws;
    ctx.progress({ message: `${p.defenseId}: evaluating ${dataset.test.count} test images${draws > 1 ? ` x ${draws} draws` : ''}` });
    // Each draw has its own stream, named by the model's replicate seed, so draw k of seed s is the same in every run.
    const rngOf = (draw: number) => new Rng(`evaluate/seed${p.model.seed}/${p.defenseId}/draw${draw}`);
    const started = performance.now();
    const perDraw = Array.from({ length: draws }, (_, d) =>
      evaluateModel(model, dataset.test, { batchSize: p.batchSize, target: p.target, ...(trigger ? { trigger } : {}), ...(transform ? { transform } : {}), rng: rngOf(d) }),
    );
    const result = meanOverDraws(perDraw);
    const evaluationMs = performance.now() - started;
    const rng = rngOf(0);
    const sample = imageBatch(dataset.test, 0, Math.min(p.overhead.images, dataset.test.count));
    const overheadMsPerImage = transformOverheadMs(transform, sample, rng.fork('overhead'), { repeats: p.overhead.repeats });
    sample.dispose();
    const metrics = {
      model: ctx.inputs.model.id,
      ...p.model,
      defense: p.defenseId,
      spec: p.defense,
      target: p.target,
      cleanAccuracy: result.cleanAccuracy,
      asr: result.asr,
      targetRateClean: result.targetRateClean,
      counts: result.counts,
      ...(draws > 1 ? { draws: { n: draws, cleanAccuracy: perDraw.map((r) => r.cleanAccuracy), asr: perDraw.map((r) => r.asr), targetRateClean: perDraw.map((r) => r.targetRateClean) } } : {}),
      synthetic: dataset.synthetic,
    };
    await writeJson(join(ctx.outDir, 'metrics.json'), metrics);
    const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`);
    ctx.log(`${ctx.id}: clean ${pct(result.cleanAccuracy)}, ASR ${pct(result.asr)}, clean->target ${pct(result.targetRateClean)}, +${overheadMsPerImage.toFixed(3)} ms/img`);
    // Timings are measurements of this run, not results: meta.json only (table 5 reads them there), so metrics.json is reproducible.
    ctx.recordMeta({ defense: p.defenseId, cleanAccuracy: result.cleanAccuracy, asr: result.asr, targetRateClean: result.targetRateClean, costKind: 'inference-overhead', overheadMsPerImage, testImages: perDraw[0].counts.total, draws, evaluationMs, backend: tf.getBackend() });
  } finally {
    dispose();
    model.dispose();
  }
}

const evaluateStage: StageKind<EvaluateParams> = { kind: 'evaluate', instances, run };
export default evaluateStage;

/** ShrinkPad's offsets, noise and colour jitter are drawn at random per image; none, Flip and the Auto-Encoder are not. */
export function isRandomDefense(defense: EvaluateDefense): boolean {
  return defense.type === 'shrinkpad' || defense.type === 'noise' || defense.type === 'color-jitter';
}

