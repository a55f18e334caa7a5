/**
 * A small real-data run of the defense grid without the engine: builds a CIFAR-10 subset from a
 * local archive, trains one small model with BadNets through the train stage, then runs the
 * defense stages against it and prints a Table-1-like summary. Not a test: run with
 *   npx tsx bench/defense-real-probe.ts /work/shared/data/cifar10-jpeg.tar.gz /tmp/real-probe
 * Numbers from a briefly trained small model, printed as measured.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, StageContext, StageKind, UpstreamArtifact } from '../engine/stage.js';
import { selectBackend } from '../domain/backend/select.js';
import dataStage from '../stages/data.js';
import trainStage from '../stages/train.js';
import evaluateStage from '../stages/evaluate.js';
import finePruningStage from '../stages/fine-pruning.js';
import neuralCleanseStage from '../stages/neural-cleanse.js';
import autoencoderStage from '../stages/autoencoder.js';

const [archive, work] = process.argv.slice(2);
if (!archive || !work) throw new Error('usage: real-probe.ts <cifar archive> <work dir>');
await selectBackend('wasm');
await fs.mkdir(work, { recursive: true });

const frag = async (name: string) => JSON.parse(await fs.readFile(`/tmp/params-fragments/${name}.json`, 'utf8'));
const [data, attacks, defenses] = await Promise.all([frag('data'), frag('attacks'), frag('defenses')]);
const filter = { architectures: null, attacks: ['badnets'], variants: ['standard'] };
const params: JsonObject = {
  seed: 0,
  data: { ...data.params.data, archive, perClassTrain: 500, perClassTest: 200, valFraction: 0.5 },
  models: { architectures: ['small-cnn'], width: { 'small-cnn': 0.5 } },
  training: { ...attacks.params.training, recipes: { 'small-cnn': { epochs: 12, lr: 0.05, milestones: [8, 10] } }, curveTestImages: 500, evalBatchSize: 250 },
  attacks: { ...attacks.params.attacks, train: [{ attack: 'badnets', variants: ['standard'] }] },
  defenses: {
    ...defenses.params.defenses,
    batchSize: 250,
    transformSets: [{ name: 'probe', defenses: [{ type: 'none' }, { type: 'flip' }, { type: 'shrinkpad', size: 4 }, { type: 'noise', std: 10 }, { type: 'noise', std: 20 }, { type: 'color-jitter', hue: 0.4 }, { type: 'color-jitter', brightness: 0.4 }], models: filter }],
    finePruning: { ...defenses.params.defenses.finePruning, models: filter, fractions: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] },
    neuralCleanse: { ...defenses.params.defenses.neuralCleanse, models: filter, cleanImages: 500, reverse: { ...defenses.params.defenses.neuralCleanse.reverse, epochs: 8, batchesPerEpoch: 2, patience: 2, earlyStopPatience: 4 }, unlearn: { ...defenses.params.defenses.neuralCleanse.unlearn, epochs: 2 } },
    autoencoder: { ...defenses.params.defenses.autoencoder, models: filter, epochs: 3, batchSize: 32, trainImages: 3000 },
  },
};

const artifacts: Record<string, UpstreamArtifact> = {};
async function run(kind: StageKind<JsonObject>, id: string): Promise<UpstreamArtifact> {
  const inst = kind.instances(params).find((i) => i.id === id);
  if (!inst) throw new Error(`no ${id}`);
  const safe = id.replace(/\//g, '_');
  const outDir = join(work, 'out', safe);
  const done = await fs.access(join(outDir, 'DONE')).then(() => true, () => false);
  if (!done) {
    await fs.rm(outDir, { recursive: true, force: true });
    await fs.mkdir(outDir, { recursive: true });
    const started = Date.now();
    const extra: JsonObject = {};
    const ctx: StageContext<JsonObject> = {
      id, kind: kind.kind, key: safe, params: inst.params, outDir, checkpointDir: join(work, 'ckpt', safe),
      inputs: Object.fromEntries(Object.entries(inst.deps ?? {}).map(([k, v]) => [k, artifacts[v]])),
      progress: () => undefined, log: (m) => console.log(`  [${id}] ${m}`), recordMeta: (e) => Object.assign(extra, e), signal: new AbortController().signal,
    };
    await fs.mkdir(ctx.checkpointDir, { recursive: true });
    await kind.run(ctx);
    // Costs are measurements, so the stages record them in meta (as the engine's meta.json), not in metrics.json.
    await fs.writeFile(join(outDir, 'meta.json'), JSON.stringify({ extra }));
    await fs.writeFile(join(outDir, 'DONE'), String(Date.now() - started));
  }
  const ms = Number(await fs.readFile(join(outDir, 'DONE'), 'utf8'));
  console.log(`${id}: ${(ms / 1000).toFixed(1)} s`);
  const art: UpstreamArtifact = { id, kind: kind.kind, key: safe, dir: outDir, meta: { id, kind: kind.kind, key: safe, params: null, upstream: {}, outputs: {}, startedAt: '', endedAt: '', durationMs: ms, environment: {}, extra: {} } };
  artifacts[id] = art;
  return art;
}

const d = (k: unknown) => k as StageKind<JsonObject>;
await run(d(dataStage), 'data');
const model = 'train/small-cnn/badnets/standard/seed0';
await run(d(trainStage), model);
const rows: string[] = [];
const pct = (v: number | null) => (v === null ? '-' : (100 * v).toFixed(1));
const show = async (label: string, dir: string) => {
  const metrics = JSON.parse(await fs.readFile(join(dir, 'metrics.json'), 'utf8'));
  const { extra } = JSON.parse(await fs.readFile(join(dir, 'meta.json'), 'utf8').catch(() => '{"extra":{}}'));
  const m = { ...metrics, ...extra };
  rows.push(`| ${label} | ${pct(m.cleanAccuracy)} | ${pct(m.asr)} | ${pct(m.targetRateClean)} | ${m.overheadMsPerImage !== undefined ? m.overheadMsPerImage.toFixed(3) + ' ms/img' : m.costMs !== undefined ? (m.costMs / 1000).toFixed(1) + ' s' : ''} |`);
};
await show('trained (train stage)', artifacts[model].dir);
for (const inst of evaluateStage.instances(params).filter((i) => !i.id.endsWith('autoencoder'))) {
  await show(inst.id.split('/').pop()!, (await run(d(evaluateStage), inst.id)).dir);
}
await show('fine-pruning', (await run(d(finePruningStage), 'fine-pruning/small-cnn/badnets/standard/seed0')).dir);
await show('neural-cleanse', (await run(d(neuralCleanseStage), 'neural-cleanse/small-cnn/badnets/standard/seed0')).dir);
const ae = await run(d(autoencoderStage), 'autoencoder');
await show('autoencoder', (await run(d(evaluateStage), 'evaluate/small-cnn/badnets/standard/seed0/autoencoder')).dir);
console.log(`AE training: ${(Number(await fs.readFile(join(ae.dir, 'DONE'), 'utf8')) / 1000).toFixed(1)} s`);
console.log(['| defense | clean % | ASR % | clean->target % | cost |', '|---|---|---|---|---|', ...rows].join('\n'));
