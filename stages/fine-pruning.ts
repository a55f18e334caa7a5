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
import { finePrune, prunableNetwork } from '../domain/defenses/fine-pruning.js';
import type { TrainedModelRef } from '../domain/defenses/grid.js';

export interface FinePruningParams extends JsonObject {
  model: TrainedModelRef & JsonObject;
  fractions: number[];
  maxAccuracyDrop: number;
  batchSize: number;
  target: number;
  seed: number;
}

function instances(params: JsonObject): StageInstance<FinePruningParams>[] {
  const fp = readDefenses(params).finePruning;
  if (!fp.enabled) return [];
  const target = targetOf(params);
  // Each model's defense draws from that model's replicate seed.
  return selectModels(params, fp.models, 'params.defenses.finePruning.models', true).map(({ id, ...model }) => ({
    id: finePruningId(id),
    params: { model: model as TrainedModelRef & JsonObject, fractions: fp.fractions as number[], maxAccuracyDrop: fp.maxAccuracyDrop as number, batchSize: fp.batchSize as number, target, seed: model.seed },
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
    await writeJson(join(ctx.outDir, 'metrics.json'), metrics);
    ctx.log(`${ctx.id}: pruned ${(result.chosenFraction * 100).toFixed(0)}% of ${layer}; test clean ${(result.test.cleanAccuracy * 100).toFixed(2)}%, ASR ${((result.test.asr ?? 0) * 100).toFixed(2)}%`);
    // Timings are measurements of this run, not results: meta.json only (table 5 reads them there), so metrics.json is reproducible.
    ctx.recordMeta({ defense: 'fine-pruning', chosenFraction: result.chosenFraction, cleanAccuracy: result.test.cleanAccuracy, asr: result.test.asr, targetRateClean: result.test.targetRateClean, costKind: 'optimisation', costMs: result.selectionMs, wallTimeMs: result.wallTimeMs, backend: tf.getBackend() });
  } finally {
    model.dispose();
  }
}

const finePruningStage: StageKind<FinePruningParams> = { kind: 'fine-pruning', instances, run };
export default finePruningStage;
