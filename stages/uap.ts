/**
 * Stage kind 'uap': a universal adversarial perturbation computed on the benign model of the same
 * architecture (appendix E.2), used as the trigger of the UAP attack (additive, see
 * domain/attacks/uap.ts). Outputs delta.npy (float32 HWC, [0, 1] pixel scale) and uap.json.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { dataId, trainId } from './ids.js';
import { readPlan, uapId, usedAttacks } from './train.js';
import { replicateSeeds } from './replicates.js';
import { Rng } from '../domain/common/rng.js';
import { writeNpy } from '../domain/common/npy.js';
import { gatherPixels } from '../domain/common/pixels.js';
import { loadDataset } from '../domain/data/format.js';
import { loadModel } from '../domain/models/io.js';
import { universalPerturbation } from '../domain/attacks/uap.js';
import type { UapAttackDefinition } from '../domain/attacks/config.js';

export interface UapStageParams extends JsonObject {
  arch: string;
  attack: string;
  seed: number;
  target: number;
  definition: UapAttackDefinition & JsonObject;
}

function instances(params: JsonObject): StageInstance<UapStageParams>[] {
  const plan = readPlan(params);
  const out: StageInstance<UapStageParams>[] = [];
  for (const arch of plan.models.architectures) {
    for (const [attack, definition] of usedAttacks(plan, 'uap', arch)) {
      for (const seed of replicateSeeds(params)) {
        out.push({
          id: uapId(arch, attack, seed),
          params: { arch, attack, seed, target: plan.attacks.target, definition: definition as UapAttackDefinition & JsonObject },
          deps: { data: dataId(), model: trainId(arch, 'benign', 'standard', seed) },
          description: `universal perturbation for ${attack} against benign ${arch}, seed ${seed}`,
        });
      }
    }
  }
  return out;
}

async function run(ctx: StageContext<UapStageParams>): Promise<void> {
  const p = ctx.params;
  const def = p.definition;
  const dataset = await loadDataset(ctx.inputs.data.dir);
  const split = dataset.train;
  const shape: [number, number, number] = [split.height, split.width, split.channels];
  const count = Math.min(def.images, split.count);
  const chosen = new Rng(`uap-images/${p.attack}/${p.seed}`).sample(split.count, count);
  const images = gatherPixels(split.images, split, chosen);
  const labels = Uint8Array.from(chosen, (i) => split.labels[i]);
  const model = await loadModel(ctx.inputs.model.dir);
  const started = Date.now();
  const result = universalPerturbation(model, images, labels, shape, {
    norm: def.norm,
    radius: def.radius / 255,
    stepSize: def.stepSize / 255,
    epochs: def.epochs,
    batchSize: def.batchSize,
    ...(def.targeted ? { target: p.target } : {}),
    signal: ctx.signal,
    progress: (epoch, epochs, fooling) => ctx.progress({ message: 'universal perturbation', current: epoch, total: epochs, unit: 'epoch', metrics: { fooling } }),
  }, new Rng(`uap/${p.attack}/${p.seed}`));
  await writeNpy(join(ctx.outDir, 'delta.npy'), result.delta, shape);
  const linf = result.delta.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const l2 = Math.sqrt(result.delta.reduce((s, v) => s + v * v, 0));
  const summary: JsonObject = {
    images: count,
    norm: def.norm,
    radius255: def.radius,
    targeted: def.targeted,
    foolingRates: result.foolingRates,
    finalFoolingRate: result.foolingRates[result.foolingRates.length - 1],
    linf255: linf * 255,
    l2_255: l2 * 255,
  };
  await fs.writeFile(join(ctx.outDir, 'uap.json'), JSON.stringify(summary, null, 2) + '\n');
  ctx.log(`UAP (${def.norm}, radius ${def.radius}/255, ${def.targeted ? 'targeted' : 'untargeted'}) on ${count} images: fooling rate ${result.foolingRates.map((r) => r.toFixed(3)).join(' -> ')}`);
  // The duration is a measurement of this run, not a result: meta.json only, so uap.json stays reproducible.
  ctx.recordMeta({ ...summary, seconds: (Date.now() - started) / 1000 });
  model.dispose();
}

const uapStage: StageKind<UapStageParams> = { kind: 'uap', instances, run };
export default uapStage;
