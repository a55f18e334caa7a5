/**
 * The paper's figures as Vega-Lite specs and data rows, built from analysis and evaluation
 * results already loaded in memory; each comes with its caption, the paper's statement and one
 * comparison line per model ("X in the paper; here Y").
 *
 * Every result carries its replicate seed: data rows keep one row per seed, the charts draw the
 * mean over seeds with a min-max error bar (charts.ts `spread`), and the comparison lines give
 * the mean with its range ("97.1% (95.0–99.0%, n=3)").
 */
import { heatmap, lineChart, groupedBar, type Row } from '../plots/charts.js';
import type { VegaLiteSpec } from '../plots/render.js';
import { FIGURE_STATEMENTS } from './paper-numbers.js';
import type { OffsetPoint } from '../analyses/sensitivity.js';
import { axisCurves, ringMaximum } from '../analyses/sensitivity.js';
import { formatStat, groupBy, pctStat, seedCount, seedsNote, statOf, statOver } from './seed-lines.js';

export interface BuiltFigure {
  title: string;
  caption: string;
  paper: string;
  spec: VegaLiteSpec;
  rows: Row[];
  lines: string[];
}

const ASR_AXIS = { field: 'asr', title: 'Attack success rate (%)', domain: [0, 100] as [number, number] };

export function paperStatement(id: string): string {
  const s = FIGURE_STATEMENTS[id];
  if (!s) return 'no statement about this figure in the extracted text';
  return `${s.statement} (${s.source})${s.lostInExtraction ? `; lost in extraction: ${s.lostInExtraction}` : ''}`;
}

export interface SensitivityData {
  model: string;
  seed: number;
  plainAsr: number;
  originalValue: number;
  grid: OffsetPoint[];
  values: { value: number; asr: number }[];
}

function concat(title: string, specs: VegaLiteSpec[]): VegaLiteSpec {
  if (specs.length === 1) return { ...specs[0], title };
  return { title, hconcat: specs.map((s) => ({ ...s, title: (s.title as string) ?? undefined })), resolve: { scale: { color: 'shared' } } };
}

export function figure2(data: SensitivityData[]): BuiltFigure {
  const rows: Row[] = data.flatMap((d) => d.grid.map((p) => ({ model: d.model, seed: d.seed, dx: p.dx, dy: p.dy, asr: p.asr })));
  const byModel = [...groupBy(data, (d) => d.model)];
  const specs = byModel.map(([model, ds]) =>
    heatmap(ds.flatMap((d) => d.grid.map((p) => ({ seed: d.seed, dx: p.dx, dy: p.dy, asr: p.asr }))), {
      title: model,
      x: { field: 'dx', title: 'Horizontal shift dx (pixels)' },
      y: { field: 'dy', title: 'Vertical shift dy (pixels)' },
      value: { ...ASR_AXIS, title: 'ASR (%)' },
      annotate: ds[0].grid.length <= 100,
      spread: 'seed',
      size: { width: 300, height: 300 },
    }),
  );
  return {
    title: 'ASR when the test-time trigger is moved',
    caption: `ASR of a standard BadNets model with the trigger moved by (dx, dy) pixels at test time (section 3.2). Offsets that would push the trigger off the image are not evaluated.${seedsNote(seedCount(data), { what: 'cell', bars: false })}`,
    paper: paperStatement('fig2'),
    spec: concat('ASR when the test-time trigger is moved (section 3.2)', specs),
    rows,
    lines: byModel.map(
      ([model, ds]) =>
        `${model}: ASR ${pctStat(statOver(ds, (d) => d.plainAsr))} at the training location; at most ${pctStat(statOver(ds, (d) => ringMaximum(d.grid, 1)), 'not in the grid')} at 1 pixel, ${pctStat(statOver(ds, (d) => ringMaximum(d.grid, 2)), 'not in the grid')} at 2 pixels away`,
    ),
  };
}

export function figure3(data: SensitivityData[]): BuiltFigure {
  const shiftRows: Row[] = data.flatMap((d) => axisCurves(d.grid).map((c) => ({ series: `${d.model}, ${c.axis}`, seed: d.seed, shift: c.shift, asr: c.asr })));
  const valueRows: Row[] = data.flatMap((d) => d.values.map((v) => ({ series: d.model, seed: d.seed, value: v.value, asr: v.asr })));
  const shift = lineChart(shiftRows, {
    title: 'Trigger location',
    x: { field: 'shift', title: 'Shift along one axis (pixels)', integer: true },
    y: ASR_AXIS,
    series: { field: 'series', title: 'Model, axis' },
    spread: 'seed',
    size: { width: 300, height: 220 },
  });
  const value = lineChart(valueRows, {
    title: 'Trigger appearance',
    x: { field: 'value', title: 'Non-zero trigger pixel value (0-255)', domain: [0, 255] },
    y: ASR_AXIS,
    series: { field: 'series', title: 'Model' },
    ruleX: data.length ? { value: data[0].originalValue, label: 'training value' } : undefined,
    spread: 'seed',
    size: { width: 300, height: 220 },
  });
  const spec: VegaLiteSpec = { title: 'ASR vs trigger location and appearance (section 3.2)', hconcat: [shift, value], resolve: { scale: { color: 'independent', shape: 'independent' } } };
  const lines = [...groupBy(data, (d) => d.model)].map(([model, ds]) => {
    // Every seed tries the same values (they are params): pick them from the first, read each seed's ASR there.
    const d = ds[0];
    const asrAt = (value: number) => pctStat(statOver(ds, (x) => x.values.find((v) => v.value === value)?.asr));
    const low = d.values.filter((v) => v.value < d.originalValue);
    const high = d.values.filter((v) => v.value > d.originalValue);
    const below = low.length ? low.reduce((a, b) => (b.value > a.value ? b : a)) : undefined;
    const lowest = low.length ? low.reduce((a, b) => (b.value < a.value ? b : a)) : undefined;
    const lowText = below && lowest ? `${asrAt(below.value)} at value ${below.value}${lowest !== below ? `, ${asrAt(lowest.value)} at value ${lowest.value}` : ''}` : 'no lower value tried';
    const highText = high.length ? `, ${pctStat(statOver(ds, (x) => Math.min(...x.values.filter((v) => v.value > x.originalValue).map((v) => v.asr))))} or more above it` : '';
    return `${model}: the paper says ASR falls sharply within a few pixels of shift and as the value drops; here ${pctStat(statOver(ds, (x) => x.plainAsr))} unmoved, ${pctStat(statOver(ds, (x) => ringMaximum(x.grid, 1) ?? 0))} at most 1 pixel away, ${lowText} (training value ${d.originalValue})${highText}`;
  });
  return {
    title: 'ASR vs trigger location and pixel value',
    caption: `Left: ASR as the trigger moves along each axis (negative: left/up). Right: ASR as the non-zero trigger pixel value changes at the training location (dashed: the training value).${seedsNote(seedCount(data))}`,
    paper: paperStatement('fig3'),
    spec,
    rows: [...shiftRows.map((r) => ({ panel: 'location', ...r })), ...valueRows.map((r) => ({ panel: 'appearance', ...r }))],
    lines,
  };
}

export interface SaliencyData {
  model: string;
  seed: number;
  attack: string;
  shrinkSize: number;
  triggerMass: Record<'standard' | 'enhanced', Record<'benign' | 'attacked' | 'transformed', number>>;
}

export function figure5Chart(data: SaliencyData[]): BuiltFigure {
  // Short labels and axis title: longer ones run into the neighbouring bar group or facet.
  const versionLabel = (v: string, s: number) => (v === 'transformed' ? `ShrinkPad-${s}` : v);
  const rows: Row[] = data.flatMap((d) =>
    (['standard', 'enhanced'] as const).flatMap((variant) =>
      (['benign', 'attacked', 'transformed'] as const).map((v) => ({
        model: `${d.model}, ${d.attack}`,
        seed: d.seed,
        version: versionLabel(v, d.shrinkSize),
        attack: variant === 'enhanced' ? `${d.attack}+` : d.attack,
        share: 100 * d.triggerMass[variant][v],
      })),
    ),
  );
  return {
    title: 'Saliency maps of benign, attacked and transformed attacked images',
    caption: `Grid: each image beside its vanilla-gradient saliency map (viridis overlay, brighter = larger |gradient|), for the standard attack (top rows) and the enhanced attack (bottom rows). The companion chart gives the mean share of saliency that falls on the trigger; its ShrinkPad bars are the attacked images after ShrinkPad, whose trigger share is measured where ShrinkPad moved the trigger.${seedsNote(seedCount(data), { what: 'bar of the chart' })}`,
    paper: paperStatement('fig5'),
    spec: groupedBar(rows, {
      title: 'Share of saliency on the trigger',
      category: { field: 'version', title: 'Image' },
      group: { field: 'attack', title: 'Attack' },
      value: { field: 'share', title: 'Saliency on the trigger (%)', domain: [0, 100] },
      facet: new Set(data.map((d) => `${d.model}|${d.attack}`)).size > 1 ? { field: 'model', title: 'Model' } : undefined,
      spread: 'seed',
      size: { width: 260, height: 220 },
    }),
    rows,
    lines: [...groupBy(data, (d) => `${d.model}|${d.attack}`).values()].map((ds) => {
      const d = ds[0];
      const share = (variant: 'standard' | 'enhanced', v: 'attacked' | 'transformed') => pctStat(statOver(ds, (x) => 100 * x.triggerMass[variant][v]));
      return `${d.model}, ${d.attack}: on the trigger for attacked images ${share('standard', 'attacked')} (standard) and ${share('enhanced', 'attacked')} (enhanced); for ShrinkPad-${d.shrinkSize} attacked images ${share('standard', 'transformed')} (standard) vs ${share('enhanced', 'transformed')} (enhanced); the paper shows saliency leaving the trigger only under the standard attack`;
    }),
  };
}

export interface CdrpData {
  model: string;
  seed: number;
  attack: string;
  lambda: number;
  images: number;
  correlations: Record<'standard' | 'enhanced', Record<string, { layer: string; index: number; r: number }[]>>;
}

const PAIR_LABEL: Record<string, string> = {
  'benign-attacked': '(benign, attacked)',
  'benign-transformed': '(benign, transformed attacked)',
  'attacked-transformed': '(attacked, transformed attacked)',
};

export function figure6(data: CdrpData[]): BuiltFigure {
  const rows: Row[] = data.flatMap((d) =>
    (['standard', 'enhanced'] as const).flatMap((variant) =>
      Object.entries(d.correlations[variant]).flatMap(([pair, layers]) =>
        layers.map((l) => ({ panel: `${d.model}, ${variant === 'enhanced' ? `${d.attack}+` : d.attack}`, seed: d.seed, pair: PAIR_LABEL[pair] ?? pair, layer: l.index + 1, layerName: l.layer, r: l.r })),
      ),
    ),
  );
  const mean = (d: CdrpData, v: 'standard' | 'enhanced', pair: string) => {
    const rs = d.correlations[v][pair].map((x) => x.r);
    return rs.reduce((s, r) => s + r, 0) / rs.length;
  };
  return {
    title: 'Layer-wise correlation of critical data routing paths',
    caption: `Pearson correlation of the CDRP control gates of two versions of the same image, per gated layer, averaged over the test images (eq. 6; L1 weight chosen by us, see "Scale and choices of ours").${seedsNote(seedCount(data))}`,
    paper: paperStatement('fig6'),
    spec: lineChart(rows, {
      title: 'CDRP correlation across layers (appendix G)',
      x: { field: 'layer', title: 'Gated layer (input → output)', integer: true },
      y: { field: 'r', title: 'Mean Pearson correlation', domain: [-0.2, 1] },
      series: { field: 'pair', title: 'Image pair' },
      facet: { field: 'panel', title: 'Model and attack' },
      spread: 'seed',
      size: { width: 280, height: 200 },
    }),
    rows,
    lines: [...groupBy(data, (d) => `${d.model}|${d.attack}`).values()].flatMap((ds) => {
      const d = ds[0];
      const r = (v: 'standard' | 'enhanced', pair: string) => formatStat(statOver(ds, (x) => mean(x, v, pair)), { digits: 2 });
      return [
        `${d.model}, ${d.attack} (standard): mean r (benign, transformed) ${r('standard', 'benign-transformed')} vs (attacked, transformed) ${r('standard', 'attacked-transformed')}; the paper finds the first high and the second low`,
        `${d.model}, ${d.attack}+ (enhanced): mean r (attacked, transformed) ${r('enhanced', 'attacked-transformed')} vs (benign, transformed) ${r('enhanced', 'benign-transformed')}; the paper finds the first high and the second low`,
      ];
    }),
  };
}

export interface PhysicalData {
  model: string;
  seed: number;
  attack: string;
  standard: { digitalAsr: number; capturedAsr: number };
  enhanced: { digitalAsr: number; capturedAsr: number };
}

export function figure8Chart(data: PhysicalData[]): BuiltFigure {
  const rows: Row[] = data.flatMap((d) =>
    (['standard', 'enhanced'] as const).flatMap((v) => [
      { model: d.model, seed: d.seed, attack: v === 'enhanced' ? `${d.attack}+` : d.attack, condition: 'digital', asr: d[v].digitalAsr },
      { model: d.model, seed: d.seed, attack: v === 'enhanced' ? `${d.attack}+` : d.attack, condition: 'simulated capture', asr: d[v].capturedAsr },
    ]),
  );
  return {
    title: 'Physical-capture SIMULATION: standard vs enhanced attack',
    caption: 'SIMULATION, not photographs: attacked test images pass through a random perspective warp, zoom, rotation, blur, brightness change and sensor noise (params `analyses.physical.camera`). Grid: example captures. Chart: ASR on the digital attacked images and after simulated capture.' + seedsNote(seedCount(data), { what: 'bar of the chart' }),
    paper: paperStatement('fig8'),
    spec: groupedBar(rows, {
      title: 'ASR under simulated camera capture',
      category: { field: 'attack', title: 'Attack' },
      group: { field: 'condition', title: 'Input' },
      value: ASR_AXIS,
      facet: new Set(data.map((d) => d.model)).size > 1 ? { field: 'model', title: 'Model' } : undefined,
      spread: 'seed',
      size: { width: 220, height: 220 },
    }),
    rows,
    lines: [...groupBy(data, (d) => `${d.model}|${d.attack}`).values()].map((ds) => {
      const d = ds[0];
      const asr = (v: 'standard' | 'enhanced', k: 'capturedAsr' | 'digitalAsr') => pctStat(statOver(ds, (x) => x[v][k]));
      return `${d.model}: in the paper's photographs BadNets fails and BadNets+ succeeds; in our simulation ${d.attack} ${asr('standard', 'capturedAsr')} and ${d.attack}+ ${asr('enhanced', 'capturedAsr')} (digital: ${asr('standard', 'digitalAsr')} and ${asr('enhanced', 'digitalAsr')})`;
    }),
  };
}

export interface AblationPoint {
  model: string;
  seed: number;
  attack: string;
  variant: 'standard' | 'enhanced';
  x: number;
  defense: string;
  asr: number;
}

export function figure12(points: AblationPoint[], sMax: number): BuiltFigure {
  const rows: Row[] = points.map((p) => ({ model: p.model, seed: p.seed, attack: p.variant === 'enhanced' ? `${p.attack}+` : p.attack, shrink: p.x, asr: p.asr }));
  const lines = [...new Set(points.map((p) => `${p.model}|${p.attack}`))].map((key) => {
    const [model, attack] = key.split('|');
    const enh = points.filter((p) => p.model === model && p.attack === attack && p.variant === 'enhanced');
    // The mean over sizes is taken per seed; the line gives its mean and range over seeds.
    const perSeed = [...groupBy(enh, (p) => String(p.seed)).values()];
    const meanOf = (v: number[]) => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : undefined);
    const m = (keep: (x: number) => boolean) => pctStat(statOver(perSeed, (ps) => meanOf(ps.filter((p) => keep(p.x)).map((p) => p.asr))));
    return `${model}, ${attack}+: the paper finds high ASR for ShrinkPad sizes up to s_max = ${sMax} and a dramatic drop above; here mean ASR ${m((x) => x <= sMax)} for s ≤ ${sMax} and ${m((x) => x > sMax)} for s > ${sMax}`;
  });
  return {
    title: 'ASR under ShrinkPad of increasing size',
    caption: `ASR of standard and enhanced attacks (trained with s_max = ${sMax}, dashed) under ShrinkPad-s at test time (appendix F.1).${seedsNote(seedCount(points))}`,
    paper: paperStatement('fig12'),
    spec: lineChart(rows, {
      title: 'ASR vs ShrinkPad size (appendix F.1)',
      x: { field: 'shrink', title: 'ShrinkPad size s (pixels)', integer: true },
      y: ASR_AXIS,
      series: { field: 'attack', title: 'Attack' },
      facet: { field: 'model', title: 'Model' },
      ruleX: { value: sMax, label: 's_max' },
      spread: 'seed',
      size: { width: 280, height: 220 },
    }),
    rows,
    lines,
  };
}

export function figure13(points: AblationPoint[], defenseSize: number): BuiltFigure {
  const rows: Row[] = points.map((p) => ({ model: p.model, seed: p.seed, attack: `${p.attack}+`, sMax: p.x, defense: p.defense, asr: p.asr }));
  const lines = [...new Set(points.map((p) => `${p.model}|${p.attack}`))].map((key) => {
    const [model, attack] = key.split('|');
    const def = points.filter((p) => p.model === model && p.attack === attack && p.defense !== 'no defense').sort((a, b) => a.x - b.x);
    // One point per seed at each s_max: its mean and range over seeds.
    const text = [...groupBy(def, (p) => String(p.x))].map(([x, ps]) => `${x}: ${pctStat(statOf(ps.map((p) => p.asr)))}`).join(', ');
    return `${model}, ${attack}+ under ShrinkPad-${defenseSize}: the paper finds ASR rising from about 0 to about 100 as s_max grows to ${defenseSize}; here by s_max ${text || 'not run'}`;
  });
  return {
    title: 'ASR of enhanced attacks vs the s_max used in training',
    caption: `ASR of enhanced attacks trained with maximal shrink size s_max, without defense and under ShrinkPad-${defenseSize} (appendix F.2).${seedsNote(seedCount(points))}`,
    paper: paperStatement('fig13'),
    spec: lineChart(rows, {
      title: 'ASR vs training s_max (appendix F.2)',
      x: { field: 'sMax', title: 'Maximal shrink size s_max in training (pixels)', integer: true },
      y: ASR_AXIS,
      series: { field: 'attack', title: 'Attack' },
      facet: { field: 'defense', title: 'Defense', sort: ['no defense', `ShrinkPad-${defenseSize}`] },
      ruleX: { value: defenseSize, label: 'ShrinkPad size' },
      spread: 'seed',
      size: { width: 280, height: 220 },
    }),
    rows,
    lines,
  };
}
