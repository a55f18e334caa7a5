/**
 * Stage kind 'train': one instance per (architecture, attack, variant, seed) from params, plus one
 * benign model per (architecture, seed), which the label-consistent and UAP attacks consume
 * upstream. Each instance trains with the loop of domain/training (checkpoint every epoch, resume
 * after a kill), records clean accuracy, ASR and the clean target rate per epoch, and writes the
 * model (model.json + weights.bin), the trigger, the poisoned indices, the curve and metrics.json.
 *
 * This file also owns the expansion of the attack params, which lc-poison.ts and uap.ts reuse.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Json, JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { dataId, sMaxTrainId, trainId, type Variant } from './ids.js';
import { replicateSeeds } from './replicates.js';
import { Rng } from '../domain/common/rng.js';
import { writeNpy, readNpy } from '../domain/common/npy.js';
import type { LabelledImages } from '../domain/common/types.js';
import { loadDataset } from '../domain/data/format.js';
import { buildModel } from '../domain/models/zoo.js';
import { saveModel } from '../domain/models/io.js';
import { train } from '../domain/training/loop.js';
import { EPOCH_TIMING_KEYS, type EpochRecord } from '../domain/training/types.js';
import { choosePoisoned } from '../domain/attacks/poison.js';
import { poisonedBatches, substituteImages, type TrainingImages } from '../domain/attacks/batches.js';
import { patchTriggerFor, poisonModeFor, uapTriggerFor, type AttackDefinition } from '../domain/attacks/config.js';
import type { Trigger } from '../domain/attacks/trigger.js';
import { saveTrigger } from '../domain/attacks/trigger-io.js';
import { composeTransforms, type TransformSpec } from '../domain/transforms/compose.js';
import { evaluateModel, type Evaluation } from '../domain/metrics/evaluate.js';

// ---------- params ----------

export interface Recipe extends JsonObject {
  epochs: number;
  lr: number;
  milestones: number[];
}

export interface TrainingParams extends JsonObject {
  seeds: number[];
  batchSize: number;
  momentum: number;
  weightDecay: number;
  gamma: number;
  recipes: { [arch: string]: Recipe };
  augment: { padding: number; flipProbability: number };
  evalBatchSize: number;
  /** Test images used for the per-epoch curve (seeded sample); null = all. The final metrics use all. */
  curveTestImages: number | null;
}

export interface ModelsParams extends JsonObject {
  architectures: string[];
  /** Channel multiplier per architecture; absent = the architecture's default. */
  width: { [arch: string]: number };
}

export interface EnhancedParams extends JsonObject {
  transforms: TransformSpec[] & Json[];
  benignToo: boolean;
}

/** One entry of params.attacks.train; `architectures` absent or null = every architecture. */
export interface TrainRun {
  attack: string;
  variants: Variant[];
  architectures?: string[] | null;
}

export interface AttacksParams extends JsonObject {
  target: number;
  train: TrainRun[] & Json[];
  definitions: { [name: string]: AttackDefinition & JsonObject };
  enhanced: EnhancedParams;
}

export interface TrainStageParams extends JsonObject {
  arch: string;
  width: number | null;
  attack: string;
  variant: Variant | null;
  seed: number;
  target: number;
  definition: (AttackDefinition & JsonObject) | null;
  enhanced: EnhancedParams | null;
  recipe: Recipe & { batchSize: number; momentum: number; weightDecay: number; gamma: number };
  augment: { padding: number; flipProbability: number };
  evalBatchSize: number;
  curveTestImages: number | null;
}

export const lcPoisonId = (arch: string, attack: string, seed: number): string => `lc-poison/${arch}/${attack}/seed${seed}`;
export const uapId = (arch: string, attack: string, seed: number): string => `uap/${arch}/${attack}/seed${seed}`;

function section<T>(params: JsonObject, key: string): T {
  const v = params[key];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`params.${key} must be an object, got ${JSON.stringify(v)}`);
  return v as unknown as T;
}

export interface AttackPlan {
  models: ModelsParams;
  training: TrainingParams;
  attacks: AttacksParams;
}

export function readPlan(params: JsonObject): AttackPlan {
  const plan = { models: section<ModelsParams>(params, 'models'), training: section<TrainingParams>(params, 'training'), attacks: section<AttacksParams>(params, 'attacks') };
  for (const arch of plan.models.architectures) {
    if (!plan.training.recipes[arch]) throw new Error(`params.training.recipes has no recipe for architecture '${arch}' (recipes for: ${Object.keys(plan.training.recipes).join(', ')})`);
  }
  plan.attacks.train.forEach((run, i) => {
    if (!plan.attacks.definitions[run.attack]) throw new Error(`params.attacks.train names attack '${run.attack}', which params.attacks.definitions does not define (defined: ${Object.keys(plan.attacks.definitions).join(', ')})`);
    for (const arch of run.architectures ?? []) {
      if (!plan.models.architectures.includes(arch)) throw new Error(`params.attacks.train[${i}].architectures names '${arch}', which params.models.architectures does not list (listed: ${plan.models.architectures.join(', ')})`);
    }
  });
  return plan;
}

/** The training runs of `arch`: those whose architectures list is absent, null, or names it. */
export function runsFor(plan: AttackPlan, arch: string): TrainRun[] {
  return plan.attacks.train.filter((r) => r.architectures == null || r.architectures.includes(arch));
}

/** The training settings of one model of `arch` (the benign model, a surrogate, or a poisoned one). */
export function recipeFor(plan: AttackPlan, arch: string): TrainStageParams['recipe'] {
  const t = plan.training;
  return { ...t.recipes[arch], batchSize: t.batchSize, momentum: t.momentum, weightDecay: t.weightDecay, gamma: t.gamma };
}

export function widthFor(plan: AttackPlan, arch: string): number | null {
  return plan.models.width[arch] ?? null;
}

/** Every (attack name, definition) of a given type that some training run of `arch` uses. */
export function usedAttacks(plan: AttackPlan, type: AttackDefinition['type'], arch: string): Array<[string, AttackDefinition & JsonObject]> {
  const names = [...new Set(runsFor(plan, arch).map((r) => r.attack))];
  return names.map((n) => [n, plan.attacks.definitions[n]] as [string, AttackDefinition & JsonObject]).filter(([, d]) => d.type === type);
}

// ---------- the s_max ablation (figure 13) ----------

interface AblationParams {
  attacks: string[];
  sMax: number;
  sMaxList: number[];
}

/**
 * The enhanced attacks figure 13 retrains with another s_max: every (attack, s_max) of
 * analyses.ablation whose s_max is not the default (the default is the ordinary enhanced model).
 */
export function sMaxAblationRuns(params: JsonObject, plan: AttackPlan): Array<{ attack: string; sMax: number }> {
  const analyses = params.analyses as JsonObject | undefined;
  const ablation = analyses?.ablation as unknown as AblationParams | undefined;
  if (!ablation) return [];
  const trained = plan.attacks.train.map((r) => r.attack);
  for (const attack of ablation.attacks) {
    // Trained attacks only: their upstream (label-consistent poisons, UAP) exists only for those.
    if (!trained.includes(attack)) throw new Error(`params.analyses.ablation.attacks names attack '${attack}', which params.attacks.train does not train (trained: ${trained.join(', ')})`);
  }
  for (const k of ablation.sMaxList) {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`params.analyses.ablation.sMaxList: ${JSON.stringify(k)} is not a non-negative integer`);
  }
  const others = [...new Set(ablation.sMaxList)].filter((k) => k !== ablation.sMax);
  return ablation.attacks.flatMap((attack) => others.map((sMax) => ({ attack, sMax })));
}

/**
 * The enhanced transforms with every random ShrinkPad's maximum set to `sMax`; s_max 0 drops the
 * ShrinkPad (no shrinking at all, flip only), since a ShrinkPad of at most 0 pixels is the identity.
 */
export function withShrinkPadMax(transforms: TransformSpec[], sMax: number): TransformSpec[] & Json[] {
  if (!transforms.some((t) => t.type === 'shrinkpad')) {
    throw new Error(`params.attacks.enhanced.transforms has no 'shrinkpad' transform whose maxSize the s_max ablation could vary (got ${JSON.stringify(transforms)})`);
  }
  const out = transforms.filter((t) => !(t.type === 'shrinkpad' && sMax === 0)).map((t) => (t.type === 'shrinkpad' ? { ...t, maxSize: sMax } : t));
  return out as TransformSpec[] & Json[];
}

// ---------- stage ----------

function instances(params: JsonObject): StageInstance<TrainStageParams>[] {
  const plan = readPlan(params);
  const out: StageInstance<TrainStageParams>[] = [];
  const common = (arch: string, seed: number) => ({
    arch,
    width: widthFor(plan, arch),
    seed,
    target: plan.attacks.target,
    recipe: recipeFor(plan, arch),
    augment: plan.training.augment,
    evalBatchSize: plan.training.evalBatchSize,
    curveTestImages: plan.training.curveTestImages,
  });
  for (const arch of plan.models.architectures) {
    for (const seed of replicateSeeds(params)) {
      out.push({
        id: trainId(arch, 'benign', 'standard', seed),
        params: { ...common(arch, seed), attack: 'benign', variant: null, definition: null, enhanced: null },
        deps: { data: dataId() },
        description: `benign ${arch}, seed ${seed}`,
      });
      const attackDeps = (attack: string): Record<string, string> => {
        const deps: Record<string, string> = { data: dataId() };
        const type = plan.attacks.definitions[attack].type;
        if (type === 'consistent') deps.lcPoison = lcPoisonId(arch, attack, seed);
        if (type === 'uap') deps.uap = uapId(arch, attack, seed);
        return deps;
      };
      const runs = runsFor(plan, arch);
      for (const run of runs) {
        const definition = plan.attacks.definitions[run.attack];
        for (const variant of run.variants) {
          out.push({
            id: trainId(arch, run.attack, variant, seed),
            params: { ...common(arch, seed), attack: run.attack, variant, definition, enhanced: variant === 'enhanced' ? plan.attacks.enhanced : null },
            deps: attackDeps(run.attack),
            description: `${run.attack}${variant === 'enhanced' ? '+' : ''} on ${arch}, seed ${seed}`,
          });
        }
      }
      // Figure 13 sets these beside the ordinary enhanced model, so only where that one is trained.
      const enhancedHere = (attack: string) => runs.some((r) => r.attack === attack && r.variants.includes('enhanced'));
      for (const { attack, sMax } of sMaxAblationRuns(params, plan).filter((r) => enhancedHere(r.attack))) {
        out.push({
          id: sMaxTrainId(arch, attack, sMax, seed),
          params: { ...common(arch, seed), attack, variant: 'enhanced', definition: plan.attacks.definitions[attack], enhanced: { ...plan.attacks.enhanced, transforms: withShrinkPadMax(plan.attacks.enhanced.transforms, sMax) } },
          deps: attackDeps(attack),
          description: `${attack}+ with s_max ${sMax} on ${arch}, seed ${seed} (figure 13)`,
        });
      }
    }
  }
  return out;
}

/** Evaluates on at most `limit` test images (a fixed seeded sample), for the per-epoch curve. */
export function testSample(test: LabelledImages, limit: number | null, seed: string): LabelledImages {
  if (limit === null || limit >= test.count) return test;
  const size = test.height * test.width * test.channels;
  const chosen = new Rng(seed).sample(test.count, limit);
  const images = new Uint8Array(limit * size);
  chosen.forEach((i, k) => images.set(test.images.subarray(i * size, (i + 1) * size), k * size));
  return { ...test, images, labels: Uint8Array.from(chosen, (i) => test.labels[i]), count: limit };
}

/** Reports training progress at most twice a second. */
export function throttledProgress(ctx: StageContext<JsonObject>, label: string): (p: { epoch: number; epochs: number; batch: number; batches?: number; loss: number; imagesPerSecond: number }) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 500 && p.batch + 1 !== p.batches) return;
    last = now;
    ctx.progress({
      message: `${label}: epoch ${p.epoch + 1}/${p.epochs}`,
      current: p.batch + 1,
      total: p.batches,
      unit: 'batch',
      metrics: { loss: Math.round(p.loss * 1e4) / 1e4, 'img/s': Math.round(p.imagesPerSecond) },
    });
  };
}

/** The fields of an EpochRecord that measure the run (wall clock and its phases), not the model. */
export const CURVE_TIMING_KEYS = EPOCH_TIMING_KEYS;

export type EpochTiming = { epoch: number } & Partial<Record<(typeof EPOCH_TIMING_KEYS)[number], number>>;

/**
 * Splits the loop's curve into the per-epoch results (written to curve.json/csv, identical run to
 * run) and the per-epoch timings with their phases (recorded in meta.json: they differ on every run).
 */
export function splitCurve(curve: EpochRecord[]): { results: Array<Record<string, number>>; timings: EpochTiming[] } {
  const timing = new Set<string>(CURVE_TIMING_KEYS);
  return {
    results: curve.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !timing.has(k)))),
    timings: curve.map((r) => ({ epoch: r.epoch, ...Object.fromEntries(Object.entries(r).filter(([k]) => timing.has(k))) })),
  };
}

export async function writeCurve(dir: string, curve: Array<Record<string, number>>): Promise<void> {
  await fs.writeFile(join(dir, 'curve.json'), JSON.stringify(curve, null, 2) + '\n');
  const columns = [...new Set(curve.flatMap((r) => Object.keys(r)))];
  const rows = curve.map((r) => columns.map((c) => (r[c] === undefined ? '' : String(r[c]))).join(','));
  await fs.writeFile(join(dir, 'curve.csv'), [columns.join(','), ...rows].join('\n') + '\n');
}

interface PoisonedSetup {
  set: TrainingImages;
  trigger?: Trigger;
  indices: Int32Array;
  extra: JsonObject;
}

async function poisonedSetup(ctx: StageContext<TrainStageParams>, trainSplit: LabelledImages): Promise<PoisonedSetup> {
  const p = ctx.params;
  const shape: [number, number, number] = [trainSplit.height, trainSplit.width, trainSplit.channels];
  const benign: TrainingImages = { images: trainSplit.images, labels: trainSplit.labels, isPoisoned: new Uint8Array(trainSplit.count), shape };
  const def = p.definition;
  if (!def) return { set: benign, indices: new Int32Array(0), extra: {} };
  const selection = choosePoisoned(trainSplit.labels, { mode: poisonModeFor(def), ratio: def.ratio, target: p.target, seed: poisonSeed(p.attack, p.seed) });
  let images = trainSplit.images;
  let trigger: Trigger;
  const extra: JsonObject = {};
  if (def.type === 'consistent') {
    const dir = ctx.inputs.lcPoison.dir;
    const indices = await readNpy(join(dir, 'indices.npy'));
    if (indices.data.length !== selection.indices.length || indices.data.some((v, k) => v !== selection.indices[k])) {
      throw new Error(`${dir}/indices.npy does not list the images this run poisons (${indices.data.length} vs ${selection.indices.length}); the lc-poison and train params disagree`);
    }
    const perturbed = await readNpy(join(dir, 'perturbed_images.npy'));
    images = substituteImages(trainSplit.images, shape[0] * shape[1] * shape[2], selection.indices, perturbed.data as Uint8Array);
    trigger = patchTriggerFor(def, shape);
    extra.surrogate = ctx.inputs.lcPoison.meta.extra.surrogate ?? null;
  } else if (def.type === 'uap') {
    const delta = await readNpy(join(ctx.inputs.uap.dir, 'delta.npy'));
    trigger = uapTriggerFor(def, delta.data as Float32Array, shape);
    extra.uapFoolingRate = ctx.inputs.uap.meta.extra.finalFoolingRate ?? null;
  } else {
    trigger = patchTriggerFor(def, shape);
  }
  return { set: { images, labels: selection.labels, isPoisoned: selection.isPoisoned, shape }, trigger, indices: selection.indices, extra };
}

/** The poisoning seed of an attack: shared by train and lc-poison, so both pick the same images. */
export const poisonSeed = (attack: string, seed: number): string => `${attack}/seed${seed}`;

function metricsRecord(e: Evaluation): Record<string, number> {
  const out: Record<string, number> = { testAcc: e.cleanAccuracy, targetRateClean: e.targetRateClean };
  if (e.asr !== null) out.asr = e.asr;
  return out;
}

async function run(ctx: StageContext<TrainStageParams>): Promise<void> {
  const p = ctx.params;
  const dataset = await loadDataset(ctx.inputs.data.dir);
  const shape: [number, number, number] = [dataset.train.height, dataset.train.width, dataset.train.channels];
  const { set, trigger, indices, extra } = await poisonedSetup(ctx, dataset.train);
  const model = buildModel(p.arch, { numClasses: dataset.classNames.length, inputShape: shape, seed: p.seed, ...(p.width !== null ? { width: p.width } : {}) });
  const enhanceTransform = p.enhanced ? composeTransforms(p.enhanced.transforms) : undefined;
  const batches = poisonedBatches(set, { batchSize: p.recipe.batchSize, augment: p.augment, trigger, enhanceTransform, enhanceBenign: p.enhanced?.benignToo ?? false });
  const curveSplit = testSample(dataset.test, p.curveTestImages, `curve/${p.seed}`);
  const evalOptions = { batchSize: p.evalBatchSize, target: p.target, trigger };
  const label = ctx.id.replace(/^train\//, '');
  const result = await train(model, {
    ...p.recipe,
    seed: p.seed,
    batches,
    checkpointDir: ctx.checkpointDir,
    progress: throttledProgress(ctx as unknown as StageContext<JsonObject>, label),
    signal: ctx.signal,
    onEpochEnd: async (epoch) => {
      const record = metricsRecord(evaluateModel(model, curveSplit, { ...evalOptions, rng: new Rng('curve-eval') }));
      ctx.log(`epoch ${epoch + 1}/${p.recipe.epochs}: ${Object.entries(record).map(([k, v]) => `${k} ${(v * 100).toFixed(2)}%`).join(', ')}`);
      return record;
    },
  });
  const final = evaluateModel(model, dataset.test, { ...evalOptions, rng: new Rng('final-eval') });
  await saveModel(model, ctx.outDir);
  const { results: curve, timings } = splitCurve(result.curve);
  await writeCurve(ctx.outDir, curve);
  await writeNpy(join(ctx.outDir, 'poisoned_indices.npy'), indices, [indices.length]);
  if (trigger) await saveTrigger(ctx.outDir, trigger);
  const summary: JsonObject = {
    arch: p.arch,
    attack: p.attack,
    type: p.definition?.type ?? 'benign',
    variant: p.variant,
    seed: p.seed,
    target: p.target,
    poisoned: indices.length,
    trainImages: dataset.train.count,
    synthetic: dataset.synthetic,
    cleanAccuracy: final.cleanAccuracy,
    asr: final.asr,
    targetRateClean: final.targetRateClean,
    counts: { ...final.counts },
    ...extra,
  };
  await fs.writeFile(join(ctx.outDir, 'metrics.json'), JSON.stringify(summary, null, 2) + '\n');
  ctx.log(`${label}: clean acc ${(final.cleanAccuracy * 100).toFixed(2)}%, ASR ${final.asr === null ? 'n/a' : (final.asr * 100).toFixed(2) + '%'}, clean->target ${(final.targetRateClean * 100).toFixed(2)}%`);
  // Where a run resumed and how fast it went describe this run, not the model: meta.json only.
  ctx.recordMeta({ ...summary, epochs: result.curve.length, resumedAt: result.resumedAt, epochTimings: timings as unknown as Json[], backend: tf.getBackend() });
  model.dispose();
}

const trainStage: StageKind<TrainStageParams> = { kind: 'train', instances, run };
export default trainStage;
