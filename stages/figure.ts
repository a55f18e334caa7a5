/**
 * One instance per paper figure (`figure:<id>`): gathers the analysis or evaluation instances it
 * plots and writes fig.svg, fig.png, data.csv, entry.json and facts.json, plus fig.vl.json for
 * charts. Image-grid figures (5, 8) are PNG grids (with an SVG wrapper) and carry their companion
 * chart as chart.svg / chart.png / chart.vl.json.
 *
 * A figure reads every replicate seed (training.seeds): its dependency names carry the seed, its
 * data rows one row per seed, its chart the mean with a min-max bar, and its facts.json each
 * seed's facts under `seed{N}/` (the analyses' own facts.json stay unprefixed, per instance).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { JsonObject, StageContext, StageInstance, StageKind, UpstreamArtifact } from '../engine/stage.js';
import { analysesParams, archSpecs, profileName, reportParams, type AnalysesParams } from '../domain/analyses/params.js';
import { readEvalMetrics } from '../domain/analyses/inputs.js';
import { readDatasetInfo } from '../domain/data/format.js';
import { saveFigure } from '../domain/plots/render.js';
import { stackPngs, pngAsSvg } from '../domain/plots/image-grid.js';
import { paperStatement, figure2, figure3, figure5Chart, figure6, figure8Chart, figure12, figure13, type AblationPoint, type BuiltFigure, type SensitivityData, type SaliencyData, type CdrpData, type PhysicalData } from '../domain/report/figures.js';
import { writeEntry, provenanceOf } from '../domain/report/entry.js';
import { upstreamWallSeconds } from '../domain/report/costs.js';
import { mergeFacts, factKey, type Facts } from '../domain/report/facts.js';
import type { ReportEntry } from '../domain/report/report.js';
import { instancesGiven as sensitivityInstances } from './sensitivity.js';
import { instancesGiven as saliencyInstances } from './saliency.js';
import { instancesGiven as cdrpInstances } from './cdrp.js';
import { instancesGiven as physicalInstances } from './physical.js';
import { trainedIds, evaluatedIds } from './availability.js';
import { dataId, evaluateId, figureAlias, figureId, modelPath, sMaxTrainId, trainId, type Variant } from './ids.js';
import { prefixFacts, replicateSeeds, seedFactPrefix } from './replicates.js';

export const FIGURE_IDS = ['fig2', 'fig3', 'fig5', 'fig6', 'fig8', 'fig12', 'fig13'] as const;

export interface FigureStageParams extends JsonObject {
  figure: string;
  profile: string;
  /** The replicate seeds the figure reads (training.seeds). */
  seeds: number[];
  archs: JsonObject[];
  ablation: JsonObject;
  shrinkSize: number;
}

const shrinkDefense = (s: number): string => (s === 0 ? 'none' : `shrinkpad-${s}`);
const evDep = (seed: number, arch: string, attack: string, variant: string, x: number, defense: string): string => `ev:${seed}:${arch}:${attack}:${variant}:${x}:${defense}`;
/** An analysis dependency: `an:<seed>:<instance id>`. */
const anDep = (seed: number, id: string): string => `an:${seed}:${id}`;
const seedOfDep = (name: string): number => Number(name.split(':')[1]);

/** What exists upstream: train instances, evaluations, and the analysis instances they allow. */
export interface Available {
  trained: Set<string>;
  evaluated: Set<string>;
}

function dependencies(figure: string, params: JsonObject, available: Available): Record<string, string> {
  const a = analysesParams(params);
  const deps: Record<string, string> = { data: dataId() };
  // The analyses expand one instance per seed themselves.
  const analyses = (list: StageInstance[]) => list.forEach((inst) => (deps[anDep((inst.params as { seed: number }).seed, inst.id)] = inst.id));
  if (figure === 'fig2' || figure === 'fig3') analyses(sensitivityInstances(params, available.trained));
  if (figure === 'fig5') analyses(saliencyInstances(params, available.trained));
  if (figure === 'fig6') analyses(cdrpInstances(params, available.trained));
  if (figure === 'fig8') analyses(physicalInstances(params, available.trained));
  // Every seed's models: one point per seed, which the chart averages.
  const models = replicateSeeds(params).flatMap((seed) => archSpecs(params).map((spec) => ({ seed, spec })));
  for (const { seed, spec } of models) {
    if (figure === 'fig12') {
      // Every ShrinkPad size the evaluation grid has for these models is a point: adding a size there adds a point here.
      for (const attack of a.ablation.attacks)
        for (const variant of ['standard', 'enhanced'] as Variant[]) {
          const model = trainId(spec.arch, attack, variant, seed);
          const prefix = `evaluate/${modelPath(model)}/`;
          for (const id of available.evaluated) {
            const m = /^(none|shrinkpad-(\d+))$/.exec(id.startsWith(prefix) ? id.slice(prefix.length) : '');
            if (m) deps[evDep(seed, spec.arch, attack, variant, m[2] ? Number(m[2]) : 0, m[1])] = id;
          }
        }
    }
    if (figure === 'fig13') {
      for (const attack of a.ablation.attacks)
        for (const sMax of a.ablation.sMaxList)
          for (const defense of ['none', shrinkDefense(a.ablation.sMaxDefense)]) {
            const train = sMax === a.ablation.sMax ? trainId(spec.arch, attack, 'enhanced', seed) : sMaxTrainId(spec.arch, attack, sMax, seed);
            const id = evaluateId(train, defense);
            if (available.evaluated.has(id)) deps[evDep(seed, spec.arch, attack, 'enhanced', sMax, defense)] = id;
          }
    }
  }
  return deps;
}

async function readJson<T>(dir: string, file: string): Promise<T> {
  return JSON.parse(await fs.readFile(join(dir, file), 'utf8')) as T;
}

/** Each analysis's facts.json under its seed's prefix (`seed1/sensitivity/...`). */
async function analysisFacts(inputs: Array<[string, UpstreamArtifact]>): Promise<Facts> {
  return mergeFacts(await Promise.all(inputs.map(async ([name, u]) => prefixFacts(seedOfDep(name), await readJson<Facts>(u.dir, 'facts.json')))));
}

export function instancesGiven(params: JsonObject, available: Available): StageInstance<FigureStageParams>[] {
  const a = analysesParams(params);
  const r = reportParams(params);
  const seeds = replicateSeeds(params);
  return r.figures.map((figure) => {
    if (!(FIGURE_IDS as readonly string[]).includes(figure)) throw new RangeError(`report.figures: unknown figure '${figure}' (known: ${FIGURE_IDS.join(', ')})`);
    return {
      id: figureId(figure),
      aliases: [figureAlias(figure)],
      params: { figure, profile: profileName(params), seeds, archs: archSpecs(params) as unknown as JsonObject[], ablation: a.ablation as unknown as JsonObject, shrinkSize: a.saliency.shrinkSize },
      deps: dependencies(figure, params, available),
      description: `figure ${figure}`,
    };
  });
}

const kind: StageKind<FigureStageParams> = {
  kind: 'figure',
  instances: (params: JsonObject) => instancesGiven(params, { trained: trainedIds(params), evaluated: evaluatedIds(params) }),
  async run(ctx: StageContext<FigureStageParams>): Promise<void> {
    const p = ctx.params;
    const ablation = p.ablation as unknown as AnalysesParams['ablation'];
    const upstream = Object.entries(ctx.inputs).filter(([name]) => name !== 'data');
    const analyses = upstream.filter(([name]) => name.startsWith('an:'));
    const info = await readDatasetInfo(ctx.inputs.data.dir);
    const provenance = provenanceOf(
      p.profile,
      p.seeds,
      { name: info.name, synthetic: info.synthetic, test: info.counts.test?.total ?? 0 },
      upstream.map(([, u]) => ({ environment: u.meta.environment as Record<string, unknown> })),
    );
    // A measurement, so meta.json and not entry.json: the report reads it there for its "wall time" line.
    ctx.recordMeta({ upstreamWallSeconds: upstreamWallSeconds(upstream.map(([, u]) => u.meta.durationMs)) });
    if (upstream.length === 0) {
      // The params train no model this figure needs: say so rather than draw an empty plot.
      const reason = 'not run in this profile: the models this figure needs are not in the train grid';
      await writeEntry(ctx.outDir, { kind: 'figure', id: p.figure, title: p.figure, caption: reason, paper: paperStatement(p.figure), lines: [reason], provenance }, {});
      return;
    }
    let built: BuiltFigure;
    let facts: Facts = {};
    let grid: Buffer | undefined;
    // Image grids (figures 5, 8) show one seed's examples: the lowest seed present.
    const gridSeed = Math.min(...analyses.map(([name]) => seedOfDep(name)));

    if (p.figure === 'fig2' || p.figure === 'fig3') {
      const data: SensitivityData[] = [];
      for (const [name, u] of analyses) {
        const r = await readJson<{ arch: string; plainAsr: number; originalValue: number; grid: SensitivityData['grid']; values: SensitivityData['values'] }>(u.dir, 'result.json');
        data.push({ model: r.arch, seed: seedOfDep(name), plainAsr: r.plainAsr, originalValue: r.originalValue, grid: r.grid, values: r.values });
      }
      built = p.figure === 'fig2' ? figure2(data) : figure3(data);
      facts = await analysisFacts(analyses);
    } else if (p.figure === 'fig5') {
      const data: SaliencyData[] = [];
      const grids: Buffer[] = [];
      for (const [name, u] of analyses) {
        const r = await readJson<{ arch: string; attack: string; shrinkSize: number; standard: { triggerMass: SaliencyData['triggerMass']['standard'] }; enhanced: { triggerMass: SaliencyData['triggerMass']['enhanced'] } }>(u.dir, 'result.json');
        data.push({ model: r.arch, seed: seedOfDep(name), attack: r.attack, shrinkSize: r.shrinkSize, triggerMass: { standard: r.standard.triggerMass, enhanced: r.enhanced.triggerMass } });
        if (seedOfDep(name) === gridSeed) grids.push(await fs.readFile(join(u.dir, 'grid.png')));
      }
      built = figure5Chart(data);
      grid = (await stackPngs(grids, 16)).png;
      facts = await analysisFacts(analyses);
    } else if (p.figure === 'fig6') {
      const data: CdrpData[] = [];
      for (const [name, u] of analyses) {
        const r = await readJson<{ arch: string; attack: string; lambda: number; standard: { correlations: CdrpData['correlations']['standard']; images: number }; enhanced: { correlations: CdrpData['correlations']['enhanced'] } }>(u.dir, 'result.json');
        data.push({ model: r.arch, seed: seedOfDep(name), attack: r.attack, lambda: r.lambda, images: r.standard.images, correlations: { standard: r.standard.correlations, enhanced: r.enhanced.correlations } });
      }
      built = figure6(data);
      facts = await analysisFacts(analyses);
    } else if (p.figure === 'fig8') {
      const data: PhysicalData[] = [];
      const grids: Buffer[] = [];
      for (const [name, u] of analyses) {
        const r = await readJson<PhysicalData & { arch: string }>(u.dir, 'result.json');
        data.push({ model: r.arch, seed: seedOfDep(name), attack: r.attack, standard: r.standard, enhanced: r.enhanced });
        if (seedOfDep(name) === gridSeed) grids.push(await fs.readFile(join(u.dir, 'grid.png')));
      }
      built = figure8Chart(data);
      grid = (await stackPngs(grids, 16)).png;
      facts = await analysisFacts(analyses);
    } else if (p.figure === 'fig12' || p.figure === 'fig13') {
      const points: AblationPoint[] = [];
      for (const [name, u] of upstream) {
        const [, seedText, arch, attack, variant, x, defense] = name.split(':');
        const seed = Number(seedText);
        const m = await readEvalMetrics(u.dir);
        if (m.asr === undefined) throw new Error(`${u.id}: metrics.json has no ASR`);
        points.push({ model: arch, seed, attack, variant: variant as Variant, x: Number(x), defense: defense === 'none' ? 'no defense' : defense.replace('shrinkpad-', 'ShrinkPad-'), asr: m.asr });
        const key = p.figure === 'fig12' ? factKey.ablationShrink(arch, attack, variant, Number(x)) : factKey.ablationSMax(arch, attack, Number(x), defense);
        facts[seedFactPrefix(seed) + key] = m.asr;
      }
      points.sort((q, r) => q.model.localeCompare(r.model) || q.attack.localeCompare(r.attack) || q.variant.localeCompare(r.variant) || q.x - r.x || q.seed - r.seed);
      // Each seed's facts are complete on their own, the s_max they are judged against included.
      if (p.figure === 'fig12') for (const seed of new Set(points.map((q) => q.seed))) facts[seedFactPrefix(seed) + 'ablation/sMax'] = ablation.sMax;
      built = p.figure === 'fig12' ? figure12(points, ablation.sMax) : figure13(points, ablation.sMaxDefense);
    } else throw new RangeError(`figure stage: unknown figure '${p.figure}'`);

    const files: Partial<ReportEntry> = {};
    if (grid) {
      const meta = await import('sharp').then((s) => s.default(grid!).metadata());
      await fs.writeFile(join(ctx.outDir, 'fig.png'), grid);
      await fs.writeFile(join(ctx.outDir, 'fig.svg'), pngAsSvg(grid, meta.width ?? 0, meta.height ?? 0, built.title));
      await saveFigure(ctx.outDir, 'chart', built.spec);
      Object.assign(files, { image: 'fig.png', svg: 'fig.svg', spec: 'chart.vl.json', chartImage: 'chart.png' });
    } else {
      await saveFigure(ctx.outDir, 'fig', built.spec);
      Object.assign(files, { image: 'fig.png', svg: 'fig.svg', spec: 'fig.vl.json' });
    }
    const columns = [...new Set(built.rows.flatMap((r) => Object.keys(r)))];
    await fs.writeFile(join(ctx.outDir, 'data.csv'), stringify([columns, ...built.rows.map((r) => columns.map((c) => r[c] ?? ''))]));
    const entry: ReportEntry = {
      kind: 'figure',
      id: p.figure,
      title: built.title,
      caption: grid && new Set(analyses.map(([name]) => seedOfDep(name))).size > 1 ? `${built.caption} The image grid shows the models of seed ${gridSeed}.` : built.caption,
      paper: built.paper,
      ...files,
      csv: 'data.csv',
      lines: built.lines,
      provenance,
    };
    await writeEntry(ctx.outDir, entry, facts);
  },
};

export default kind;
