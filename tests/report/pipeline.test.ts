/**
 * The analysis, figure, table and report stages end to end on tiny untrained models and synthetic
 * data: instances expand from the smoke params, every stage runs, every figure renders to a valid
 * SVG and PNG, and REPORT.md lists every table and figure with no empty cell. The upstream train
 * and evaluate artifacts are built here in those stages' on-disk formats (model/, trigger files,
 * metrics.json from evaluateModel), since those stage kinds belong to other areas.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { JsonObject, StageKind, UpstreamArtifact, ArtifactMeta, StageInstance } from '../../engine/stage.js';
import { Rng } from '../../domain/common/rng.js';
import { generateSynthetic } from '../../domain/data/synthetic.js';
import { saveDataset, loadDataset } from '../../domain/data/format.js';
import { buildModel } from '../../domain/models/zoo.js';
import { saveModel } from '../../domain/models/io.js';
import { saveTrigger } from '../../domain/attacks/trigger-io.js';
import { badNetsTrigger } from '../../domain/attacks/trigger.js';
import { evaluateModel } from '../../domain/metrics/evaluate.js';
import { parseTransformDefense, transformDefense } from '../../domain/defenses/transform-defense.js';
import { pngSize } from '../../domain/plots/render.js';
import { lintReport } from '../../domain/report/report.js';
import sensitivity, { instancesGiven as sensitivityInstances } from '../../stages/sensitivity.js';
import saliency, { instancesGiven as saliencyInstances } from '../../stages/saliency.js';
import cdrp, { instancesGiven as cdrpInstances } from '../../stages/cdrp.js';
import physical, { instancesGiven as physicalInstances } from '../../stages/physical.js';
import figure, { instancesGiven as figureInstances } from '../../stages/figure.js';
import table, { instancesGiven as tableInstances } from '../../stages/table.js';
import report from '../../stages/report.js';

/** The train grid these fixtures stand for: the smoke profile's models. */
const TRAINED = new Set(['benign', 'badnets/standard', 'badnets/enhanced', 'consistent/standard', 'uap/standard'].map((m) => `train/small-cnn/${m}/seed0`));
/** Its evaluation grid: spatial defenses for every model, the rest for standard BadNets. */
const EVALUATED = new Set<string>();
for (const t of TRAINED) {
  const m = t.replace(/^train\//, '');
  for (const d of ['none', 'flip', 'shrinkpad-2', 'shrinkpad-4', 'shrinkpad-6']) EVALUATED.add(`evaluate/${m}/${d}`);
}
for (const d of ['noise-10', 'jitter-hue-0.1', 'autoencoder']) EVALUATED.add(`evaluate/small-cnn/badnets/standard/seed0/${d}`);
for (const k of ['fine-pruning', 'neural-cleanse']) EVALUATED.add(`${k}/small-cnn/badnets/standard/seed0`);

const SIDE = 16;
const TARGET = 4;
type Obj = Record<string, unknown>;

function deepMerge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = v && typeof v === 'object' && !Array.isArray(v) && a[k] && typeof a[k] === 'object' ? deepMerge(a[k] as Obj, v as Obj) : v;
  return out;
}

/** The smoke profile of params.json once the integrator has merged our fragment; until then the fragment itself. */
function smokeParams(): JsonObject {
  const paramsJson = new URL('../../params.json', import.meta.url);
  let ours: Obj;
  if (existsSync(paramsJson) && (JSON.parse(readFileSync(paramsJson, 'utf8')) as Obj).analyses) {
    const file = JSON.parse(readFileSync(paramsJson, 'utf8')) as Obj;
    const merged = deepMerge(file, ((file.profiles as Obj | undefined)?.smoke as Obj) ?? {});
    ours = { analyses: merged.analyses, report: merged.report, training: merged.training, data: merged.data };
  } else {
    const fragment = JSON.parse(readFileSync(new URL('./fixtures/params-fragment.json', import.meta.url), 'utf8')) as Obj;
    ours = deepMerge(fragment.params as Obj, fragment.smoke as Obj);
  }
  // CDRP is the slowest stage on the pure-JS backend: two images and two steps still exercise it.
  const smokeCdrp = { ...((ours.analyses as Obj).cdrp as Obj), images: 2, steps: 2, batchSize: 2 };
  const analyses = { ...(ours.analyses as Obj), cdrp: smokeCdrp };
  // The tiny fixtures below stand for the smoke profile's one architecture.
  return { ...(ours as JsonObject), analyses: analyses as JsonObject, seed: 0, attacks: { target: TARGET }, models: { architectures: ['small-cnn'], width: {} } };
}

function defenseSpec(id: string): unknown {
  if (id === 'none' || id === 'flip') return { type: id };
  const shrink = /^shrinkpad-(\d+)$/.exec(id);
  if (shrink) return { type: 'shrinkpad', size: Number(shrink[1]) };
  const noise = /^noise-([\d.]+)$/.exec(id);
  if (noise) return { type: 'noise', std: Number(noise[1]) };
  const jitter = /^jitter-([a-z]+)-([\d.]+)$/.exec(id);
  if (jitter) return { type: 'color-jitter', [jitter[1]]: Number(jitter[2]) };
  // Model-based baselines are another area's stages; here they evaluate undefended.
  return { type: 'none' };
}

const meta = (id: string, kind: string, durationMs: number): ArtifactMeta => ({ id, kind, key: id, params: null, upstream: {}, outputs: {}, startedAt: '', endedAt: '', durationMs, environment: { backend: 'cpu' }, extra: {} });

describe('analysis, figure, table and report stages (smoke)', () => {
  const root = mkdtempSync(join(tmpdir(), 'report-smoke-'));
  const done = new Map<string, UpstreamArtifact>();
  let params: JsonObject;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    params = smokeParams();
    const dataDir = join(root, 'data');
    mkdirSync(dataDir);
    await saveDataset(dataDir, generateSynthetic({ seed: 0, trainPerClass: 1, testPerClass: 4, height: SIDE, width: SIDE, noiseStd: 8, minSizeFraction: 0.45, maxSizeFraction: 0.9, minContrast: 40 }));
    done.set('data', { id: 'data', kind: 'data', key: 'data', dir: dataDir, meta: meta('data', 'data', 10) });
  });

  /** Builds the train or evaluate artifact an instance needs, in those stages' formats. */
  async function provide(id: string): Promise<void> {
    if (done.has(id)) return;
    const dir = join(root, id.replace(/\//g, '_'));
    mkdirSync(dir, { recursive: true });
    if (id.startsWith('train/')) {
      const model = buildModel('small-cnn', { numClasses: 10, inputShape: [SIDE, SIDE, 3], seed: id.length, width: 0.25 });
      await saveModel(model, join(dir, 'model'));
      model.dispose();
      await saveTrigger(dir, badNetsTrigger({ imageShape: [SIDE, SIDE, 3], value: 255, alpha: 1 }));
    } else if (/^autoencoder\/seed\d+$/.test(id)) {
      done.set(id, { id, kind: id, key: id, dir, meta: { ...meta(id, id, 5), extra: { costMs: 1500 } } });
      return;
    } else if (/^(evaluate|fine-pruning|neural-cleanse)\//.test(id)) {
      // [model path, defense]; the model-based defenses are evaluated undefended here (their stages belong to the defenses area).
      const m = id.startsWith('evaluate/') ? /^evaluate\/(.+)\/([^/]+)$/.exec(id)! : [id, id.slice(id.indexOf('/') + 1), 'none'];
      const trainId = `train/${m[1]}`;
      await provide(trainId);
      const trainDir = done.get(trainId)!.dir;
      const { loadModel } = await import('../../domain/models/io.js');
      const { loadTrigger } = await import('../../domain/attacks/trigger-io.js');
      const model = await loadModel(join(trainDir, 'model'));
      const ds = await loadDataset(done.get('data')!.dir);
      const t0 = performance.now();
      const e = evaluateModel(model, ds.test, { batchSize: 64, target: TARGET, trigger: await loadTrigger(trainDir), transform: transformDefense(parseTransformDefense(defenseSpec(m[2]))) ?? undefined, rng: new Rng(id) });
      model.dispose();
      // The formats of stages/evaluate.ts (overhead per image) and of the model-based defenses (costMs):
      // results in metrics.json, timings in meta.json's extra only.
      const cost: JsonObject = id.startsWith('evaluate/') ? { overheadMsPerImage: (performance.now() - t0) / ds.test.count, testImages: e.counts.total } : { costMs: performance.now() - t0 };
      writeFileSync(join(dir, 'metrics.json'), JSON.stringify({ cleanAccuracy: e.cleanAccuracy, asr: e.asr, targetRateClean: e.targetRateClean, counts: e.counts }));
      done.set(id, { id, kind: id.split('/')[0], key: id, dir, meta: { ...meta(id, id.split('/')[0], 5), extra: cost } });
      return;
    } else throw new Error(`no fixture for ${id}`);
    done.set(id, { id, kind: id.split('/')[0], key: id, dir, meta: meta(id, id.split('/')[0], 5) });
  }

  const available = { trained: TRAINED, evaluated: EVALUATED };
  const expanders: Record<string, () => StageInstance<JsonObject>[]> = {
    sensitivity: () => sensitivityInstances(params, TRAINED) as unknown as StageInstance<JsonObject>[],
    saliency: () => saliencyInstances(params, TRAINED) as unknown as StageInstance<JsonObject>[],
    cdrp: () => cdrpInstances(params, TRAINED) as unknown as StageInstance<JsonObject>[],
    physical: () => physicalInstances(params, TRAINED) as unknown as StageInstance<JsonObject>[],
    figure: () => figureInstances(params, available) as unknown as StageInstance<JsonObject>[],
    table: () => tableInstances(params, EVALUATED) as unknown as StageInstance<JsonObject>[],
    report: () => report.instances(params) as unknown as StageInstance<JsonObject>[],
  };

  async function runKind(kind: StageKind<JsonObject>): Promise<StageInstance<JsonObject>[]> {
    const instances = expanders[kind.kind]();
    for (const inst of instances) {
      const inputs: Record<string, UpstreamArtifact> = {};
      for (const [name, dep] of Object.entries(inst.deps ?? {})) {
        await provide(dep);
        inputs[name] = done.get(dep)!;
      }
      const outDir = join(root, inst.id.replace(/[/:]/g, '_'));
      mkdirSync(outDir, { recursive: true });
      const t0 = performance.now();
      const started = performance.now();
      const extra: JsonObject = {};
      await kind.run({ id: inst.id, kind: kind.kind, key: inst.id, params: inst.params, outDir, checkpointDir: join(outDir, '.ckpt'), inputs, progress: () => {}, log: () => {}, recordMeta: (e) => Object.assign(extra, e), signal: new AbortController().signal });
      if (process.env.TIMINGS) console.log(`${inst.id}: ${(performance.now() - started).toFixed(0)} ms`);
      done.set(inst.id, { id: inst.id, kind: kind.kind, key: inst.id, dir: outDir, meta: { ...meta(inst.id, kind.kind, performance.now() - t0), extra } });
    }
    return instances;
  }

  it('runs every analysis stage', async () => {
    for (const k of [sensitivity, saliency, cdrp, physical]) {
      const instances = await runKind(k as unknown as StageKind<JsonObject>);
      expect(instances.length).toBeGreaterThan(0);
      for (const inst of instances) expect(existsSync(join(done.get(inst.id)!.dir, 'facts.json'))).toBe(true);
    }
  });

  it('renders every figure of the smoke profile to a valid SVG and PNG', async () => {
    const instances = await runKind(figure as unknown as StageKind<JsonObject>);
    expect(instances.map((i) => i.aliases?.[0])).toEqual(['figure:fig2', 'figure:fig3', 'figure:fig5', 'figure:fig6', 'figure:fig8', 'figure:fig12', 'figure:fig13']);
    for (const inst of instances) {
      const dir = done.get(inst.id)!.dir;
      const svg = readFileSync(join(dir, 'fig.svg'), 'utf8');
      expect(svg).toMatch(/<svg/);
      expect(svg).not.toMatch(/NaN/);
      const png = readFileSync(join(dir, 'fig.png'));
      const size = pngSize(png);
      expect(size.width).toBeGreaterThan(100);
      expect(size.height).toBeGreaterThan(100);
      expect(readFileSync(join(dir, 'data.csv'), 'utf8').split('\n').length).toBeGreaterThan(2);
    }
  });

  it('writes every table and a REPORT.md that lists them all with no empty cell', async () => {
    const tables = await runKind(table as unknown as StageKind<JsonObject>);
    expect(tables).toHaveLength(6);
    for (const inst of tables) expect(readFileSync(join(done.get(inst.id)!.dir, 'table.md'), 'utf8')).toMatch(/\(paper /);
    const [rep] = await runKind(report as unknown as StageKind<JsonObject>);
    const md = readFileSync(join(done.get(rep.id)!.dir, 'REPORT.md'), 'utf8');
    const r = params.report as Obj;
    expect(lintReport(md, [...(r.figures as string[]), ...(r.tables as string[])])).toEqual([]);
    expect(md.indexOf('## Claims')).toBeLessThan(md.indexOf('## Table 1'));
    expect(md).toContain('(**synthetic**)');
    expect(md).toMatch(/profile smoke/);
    // Measurements stay out of entry.json (an output); the report takes wall times and costs from meta.
    for (const inst of tables) expect(JSON.parse(readFileSync(join(done.get(inst.id)!.dir, 'entry.json'), 'utf8')).provenance).not.toHaveProperty('wallSeconds');
    expect(md).not.toMatch(/wall time unknown/);
    expect(md).toMatch(/wall time \d+(\.\d)? (s|min|h)\./);
    expect(md).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:/);
    const t5 = JSON.parse(readFileSync(join(done.get('table/table5')!.dir, 'facts.json'), 'utf8')) as Record<string, number>;
    // Every fact belongs to a replicate seed; the smoke profile has one.
    expect(Object.keys(t5).every((k) => k.startsWith('seed0/'))).toBe(true);
    const costs = Object.entries(t5).filter(([k]) => k.startsWith('seed0/cost/'));
    expect(costs.length).toBeGreaterThan(0);
    for (const [, v] of costs) expect(v).toBeGreaterThan(0);
    for (const link of md.matchAll(/\]\(((figures|tables)\/[^)]+)\)/g)) expect(existsSync(join(done.get(rep.id)!.dir, link[1]))).toBe(true);
    console.log(`smoke report: ${done.get(rep.id)!.dir}/REPORT.md`);
  });
});
