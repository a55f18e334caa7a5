/**
 * Stage kind 'fine-pruning': one instance per poisoned model the params select. Ranks and prunes
 * the channels of the model's feature layer (last conv activation for VGG, last block output for
 * ResNet, from the model's metadata), choosing the fraction on the validation split (held out of
 * the test set by the data stage) and reporting on the test split. No fine-tuning: see
 * domain/defenses/fine-pruning.ts. Writes the curve (CSV and JSON) and metrics.json.
 */
import { join } from 'node:path';
import { promises as fs } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { dataId } from './ids.js';
import { finePruningId, readDefenses, selectModels, targetOf, writeJson } from './evaluate.js';
import { loadTrained } from './artifacts.js';
import { Rng } from '../domain/common/rng.js';
import { loadDataset } from '../domain/data/format.js';
import { featureLayer } from '../domain/models/metadata.js';
import { applyWithHooks } from '../domain/models/graph.js';
import { stamp } from '../domain/attacks/trigger.js';
import { finePrune, fractionAtLoss, prunableNetwork } from '../domain/defenses/fine-pruning.js';
import { TABLE1, TABLE6, type Arch } from '../domain/report/paper-numbers.js';
import type { TrainedModelRef } from '../domain/defenses/grid.js';

export interface FinePruningParams extends JsonObject {
  model: TrainedModelRef & JsonObject;
  fractions: number[];
  maxAccuracyDrop: number;
  /** The paper's own clean-accuracy loss (points) for this row (its Standard clean minus its Fine-Pruning clean, Table 1 or 6); null where the paper has no such row. */
  paperCleanLoss: number | null;
  batchSize: number;
  target: number;
  seed: number;
}

/** Clean-accuracy points the paper's own Fine-Pruning row lost: Table 1 for its three attacks, Table 6 for the UAP trigger. */
export function paperFinePruningLoss(paper: Arch, attack: string, variant: string | null): number | null {
  if (variant !== 'standard') return null;
  if (attack === 'uap') return Math.round(10 * (TABLE6.standard[paper].clean - TABLE6['fine-pruning'][paper].clean)) / 10;
  if (attack !== 'badnets' && attack !== 'blended' && attack !== 'consistent') return null;
  return Math.round(10 * (TABLE1.standard[paper][attack].clean - TABLE1['fine-pruning'][paper][attack].clean)) / 10;
}

function instances(params: JsonObject): StageInstance<FinePruningParams>[] {
  const fp = readDefenses(params).finePruning;
  if (!fp.enabled) return [];
  const target = targetOf(params);
  // The paper column each architecture stands for (params.analyses.paperColumns); none, no paper row to match.
  const columns = ((params.analyses as JsonObject | undefined)?.paperColumns ?? {}) as Record<string, Arch>;
  const paperColumn = new Map(Object.entries(columns).filter(([, c]) => c === 'vgg19' || c === 'resnet34'));
  // Each model's defense draws from that model's replicate seed.
  return selectModels(params, fp.models, 'params.defenses.finePruning.models', true).map(({ id, ...model }) => ({
    id: finePruningId(id),
    params: { model: model as TrainedModelRef & JsonObject, fractions: fp.fractions as number[], maxAccuracyDrop: fp.maxAccuracyDrop as number, paperCleanLoss: paperColumn.has(model.arch) ? paperFinePruningLoss(paperColumn.get(model.arch)!, model.attack, model.variant) : null, batchSize: fp.batchSize as number, target, seed: model.seed },
    deps: { model: id, data: dataId() },
    description: `Fine-Pruning of ${id.replace(/^train\//, '')}`,
  }));
}

async function run(ctx: StageContext<FinePruningParams>): Promise<void> {
  const p = ctx.params;
  const dataset = await loadDataset(ctx.inputs.data.dir);
  if (!dataset.val) throw new Error(`fine-pruning needs the validation split held out of the test set; the dataset has none (set data.valFraction > 0)`);
  const { model, trigger } = await loadTrained(ctx.inputs.model);
  if (!trigger) throw new Error(`${ctx.inputs.model.id} has no trigger: fine-pruning runs on poisoned models only`);
  try {
    const layer = featureLayer(model);
    const net = prunableNetwork(model, layer, applyWithHooks);
    ctx.progress({ message: `pruning ${layer} (${net.channels} channels) over ${p.fractions.length} fractions` });
    const result = finePrune(net, { validation: dataset.val, test: dataset.test }, {
      fractions: p.fractions,
      maxAccuracyDrop: p.maxAccuracyDrop,
      batchSize: p.batchSize,
      target: p.target,
      poison: (x) => stamp(x, trigger),
      rng: new Rng(`fine-pruning/${p.seed}`),
    });
    const curve = result.validationCurve.map((v, i) => ({
      fraction: v.fraction,
      prunedChannels: v.prunedChannels,
      valCleanAccuracy: v.validation.cleanAccuracy,
      valAsr: v.validation.asr,
      testCleanAccuracy: result.testCurve[i].test.cleanAccuracy,
      testAsr: result.testCurve[i].test.asr,
      testTargetRateClean: result.testCurve[i].test.targetRateClean,
      chosen: v.fraction === result.chosenFraction,
    }));
    await writeJson(join(ctx.outDir, 'curve.json'), curve);
    const columns = Object.keys(curve[0]) as (keyof (typeof curve)[number])[];
    await fs.writeFile(join(ctx.outDir, 'curve.csv'), [columns.join(','), ...curve.map((r) => columns.map((c) => String(r[c])).join(','))].join('\n') + '\n');
    const metrics = {
      model: ctx.inputs.model.id,
      ...p.model,
      defense: 'fine-pruning',
      target: p.target,
      layer,
      channels: net.channels,
      chosenFraction: result.chosenFraction,
      prunedChannels: result.chosenPruned,
      meanActivation: result.ranking.meanActivation,
      cleanAccuracy: result.test.cleanAccuracy,
      asr: result.test.asr,
      targetRateClean: result.test.targetRateClean,
      counts: { total: result.test.counts.total, nonTarget: result.test.counts.nonTarget },
      validationImages: dataset.val.count,
      fineTuned: false,
      synthetic: dataset.synthetic,
    };
    // Like with like: the paper's rows lost more (or less) clean accuracy than our stopping rule allows, so also read the
    // test curve where the validation loss first reaches the paper's own loss for this row (chosen on validation, too).
    const atPaperLoss = p.paperCleanLoss === null ? null : (() => {
      const m = fractionAtLoss(result.validationCurve, p.paperCleanLoss);
      const test = result.testCurve.find((t) => t.fraction === m.point.fraction)!.test;
      return { paperLoss: p.paperCleanLoss, fraction: m.point.fraction, validationLoss: m.validationLoss, reached: m.reached, cleanAccuracy: test.cleanAccuracy, asr: test.asr, targetRateClean: test.targetRateClean };
    })();
    await writeJson(join(ctx.outDir, 'metrics.json'), { ...metrics, maxAccuracyDrop: p.maxAccuracyDrop, atPaperLoss });
    ctx.log(`${ctx.id}: pruned ${(result.chosenFraction * 100).toFixed(0)}% of ${layer}; test clean ${(result.test.cleanAccuracy * 100).toFixed(2)}%, ASR ${((result.test.asr ?? 0) * 100).toFixed(2)}%`);
    // Timings are measurements of this run, not results: meta.json only (table 5 reads them there), so metrics.json is reproducible.
    ctx.recordMeta({ defense: 'fine-pruning', chosenFraction: result.chosenFraction, cleanAccuracy: result.test.cleanAccuracy, asr: result.test.asr, targetRateClean: result.test.targetRateClean, costKind: 'optimisation', costMs: result.selectionMs, wallTimeMs: result.wallTimeMs, backend: tf.getBackend() });
  } finally {
    model.dispose();
  }
}

const finePruningStage: StageKind<FinePruningParams> = { kind: 'fine-pruning', instances, run };
export default finePruningStage;
