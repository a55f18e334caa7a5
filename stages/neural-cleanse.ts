/**
 * Stage kind 'neural-cleanse': one instance per poisoned model the params select. Reverses a
 * trigger for every class on clean validation images (held out of the test set), flags classes
 * by the MAD anomaly index, and, when a class is flagged, mitigates by unlearning on the same
 * clean images; the mitigated model is scored on the test split. A killed run resumes after the
 * last finished class (each class is checkpointed). Writes the reversed triggers (PNG, .npy),
 * anomaly.json, metrics.json and the mitigated model (mitigated/).
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { dataId } from './ids.js';
import { neuralCleanseId, readDefenses, selectModels, targetOf, writeJson } from './evaluate.js';
import { loadTrained } from './artifacts.js';
import { Rng } from '../domain/common/rng.js';
import type { LabelledImages } from '../domain/common/types.js';
import { loadDataset } from '../domain/data/format.js';
import { loadModel, saveModel } from '../domain/models/io.js';
import { evaluateModel } from '../domain/metrics/evaluate.js';
import { madOutliers, reverseTrigger, unlearn, type AnomalyOptions, type ReverseOptions, type ReversedTrigger, type UnlearnOptions } from '../domain/defenses/neural-cleanse.js';
import { takeIndices } from '../domain/data/subset.js';
import { loadClassCheckpoint, saveClassCheckpoint, writeReversedTriggers } from '../domain/defenses/trigger-files.js';
import type { TrainedModelRef } from '../domain/defenses/grid.js';

export interface NeuralCleanseParams extends JsonObject {
  model: TrainedModelRef & JsonObject;
  /** Clean validation images used for reversal and unlearning (seeded sample); null = all. */
  cleanImages: number | null;
  reverse: ReverseOptions & JsonObject;
  anomaly: AnomalyOptions & JsonObject;
  unlearn: Omit<UnlearnOptions, 'numClasses'> & JsonObject;
  batchSize: number;
  pngScale: number;
  target: number;
  seed: number;
}

function instances(params: JsonObject): StageInstance<NeuralCleanseParams>[] {
  const nc = readDefenses(params).neuralCleanse;
  if (!nc.enabled) return [];
  const target = targetOf(params);
  return selectModels(params, nc.models, 'params.defenses.neuralCleanse.models', true).map(({ id, ...model }) => ({
    id: neuralCleanseId(id),
    params: {
      model: model as TrainedModelRef & JsonObject,
      cleanImages: nc.cleanImages as number | null,
      reverse: nc.reverse as ReverseOptions & JsonObject,
      anomaly: nc.anomaly as AnomalyOptions & JsonObject,
      unlearn: nc.unlearn as Omit<UnlearnOptions, 'numClasses'> & JsonObject,
      batchSize: nc.batchSize as number,
      pngScale: nc.pngScale as number,
      target,
      // The model's own replicate seed: each seed's defense draws its own clean images and starts.
      seed: model.seed,
    },
    deps: { model: id, data: dataId() },
    description: `Neural Cleanse of ${id.replace(/^train\//, '')}`,
  }));
}

function cleanSample(val: LabelledImages, limit: number | null, seed: number): LabelledImages {
  if (limit === null || limit >= val.count) return val;
  return takeIndices(val, new Rng(`neural-cleanse/clean/${seed}`).sample(val.count, limit));
}

async function run(ctx: StageContext<NeuralCleanseParams>): Promise<void> {
  const p = ctx.params;
  const dataset = await loadDataset(ctx.inputs.data.dir);
  if (!dataset.val) throw new Error(`neural-cleanse needs the validation split held out of the test set; the dataset has none (set data.valFraction > 0)`);
  const numClasses = dataset.classNames.length;
  const shape: [number, number, number] = [dataset.test.height, dataset.test.width, dataset.test.channels];
  const clean = cleanSample(dataset.val, p.cleanImages, p.seed);
  const { model, trigger } = await loadTrained(ctx.inputs.model);
  if (!trigger) throw new Error(`${ctx.inputs.model.id} has no trigger: neural-cleanse runs on poisoned models only`);
  const rng = new Rng(`neural-cleanse/${p.seed}`);
  const checkpoints = join(ctx.checkpointDir, 'classes');
  const logits = (x: tf.Tensor4D) => model.apply(x, { training: false }) as tf.Tensor2D;
  try {
    // Time spent in earlier, killed attempts is carried in each class's checkpoint.
    const triggers: ReversedTrigger[] = [];
    const classMs: number[] = [];
    // Classes a killed earlier attempt finished: a measurement of this run (meta.json), not a result.
    let resumedClasses = 0;
    for (let label = 0; label < numClasses; label++) {
      ctx.progress({ message: `reversing the trigger of class ${label}`, current: label, total: numClasses, unit: 'class' });
      const saved = await loadClassCheckpoint(checkpoints, label);
      if (saved) {
        triggers.push(saved.trigger);
        classMs.push(saved.ms);
        resumedClasses += 1;
        continue;
      }
      const started = performance.now();
      const t = reverseTrigger(logits, clean, label, numClasses, p.reverse, rng.fork(`class${label}`));
      const ms = performance.now() - started;
      await saveClassCheckpoint(checkpoints, { trigger: t, ms }, shape);
      triggers.push(t);
      classMs.push(ms);
      ctx.log(`class ${label}: |m|_1 = ${t.l1Norm.toFixed(1)}, success ${(t.attackSuccess * 100).toFixed(1)}%, ${t.epochsRun} epochs${t.reachedThreshold ? '' : ' (threshold never reached)'}`);
    }
    const reverseMs = classMs.reduce((a, b) => a + b, 0);
    const anomaly = madOutliers(triggers.map((t) => t.l1Norm), p.anomaly);
    await writeReversedTriggers(join(ctx.outDir, 'triggers'), triggers, shape, p.pngScale);
    await writeJson(join(ctx.outDir, 'anomaly.json'), {
      ...anomaly,
      target: p.target,
      detected: anomaly.flagged,
      targetFlagged: anomaly.flagged.includes(p.target),
      perClass: triggers.map((t, k) => ({ label: t.label, l1Norm: t.l1Norm, anomalyIndex: anomaly.anomalyIndex[k], attackSuccess: t.attackSuccess, reachedThreshold: t.reachedThreshold, epochsRun: t.epochsRun, finalCost: t.finalCost })),
    });

    const evalRng = new Rng(`neural-cleanse/eval/${p.seed}`);
    const before = evaluateModel(model, dataset.test, { batchSize: p.batchSize, target: p.target, trigger, rng: evalRng.fork('before') });
    let unlearnMs = 0;
    let losses: number[] = [];
    let after = before;
    const mitigated = await loadModel(ctx.inputs.model.dir);
    try {
      if (anomaly.flagged.length > 0) {
        ctx.progress({ message: `unlearning the reversed trigger(s) of class(es) ${anomaly.flagged.join(', ')}` });
        const started = performance.now();
        losses = unlearn(mitigated, clean, anomaly.flagged.map((l) => triggers[l]), { ...p.unlearn, numClasses }, rng.fork('unlearn'));
        unlearnMs = performance.now() - started;
        after = evaluateModel(mitigated, dataset.test, { batchSize: p.batchSize, target: p.target, trigger, rng: evalRng.fork('after') });
      }
      await saveModel(mitigated, join(ctx.outDir, 'mitigated'));
    } finally {
      mitigated.dispose();
    }
    const costMs = reverseMs + unlearnMs;
    const metrics = {
      model: ctx.inputs.model.id,
      ...p.model,
      defense: 'neural-cleanse',
      target: p.target,
      detected: anomaly.flagged,
      targetFlagged: anomaly.flagged.includes(p.target),
      targetAnomalyIndex: anomaly.anomalyIndex[p.target],
      mitigated: anomaly.flagged.length > 0,
      cleanAccuracy: after.cleanAccuracy,
      asr: after.asr,
      targetRateClean: after.targetRateClean,
      counts: after.counts,
      beforeMitigation: { cleanAccuracy: before.cleanAccuracy, asr: before.asr, targetRateClean: before.targetRateClean },
      unlearnLosses: losses,
      cleanImages: clean.count,
      synthetic: dataset.synthetic,
    };
    await writeJson(join(ctx.outDir, 'metrics.json'), metrics);
    ctx.log(`${ctx.id}: flagged [${anomaly.flagged.join(', ')}] (target ${p.target}, index ${anomaly.anomalyIndex[p.target].toFixed(2)}); after mitigation clean ${(after.cleanAccuracy * 100).toFixed(2)}%, ASR ${((after.asr ?? 0) * 100).toFixed(2)}%`);
    // Timings are measurements of this run, not results: meta.json only (table 5 reads them there), so the files are reproducible.
    ctx.recordMeta({ defense: 'neural-cleanse', detected: anomaly.flagged, targetFlagged: metrics.targetFlagged, cleanAccuracy: after.cleanAccuracy, asr: after.asr, targetRateClean: after.targetRateClean, costKind: 'optimisation', costMs, reverseMs, unlearnMs, classMs, resumedClasses, backend: tf.getBackend() });
  } finally {
    model.dispose();
  }
}

const neuralCleanseStage: StageKind<NeuralCleanseParams> = { kind: 'neural-cleanse', instances, run };
export default neuralCleanseStage;
