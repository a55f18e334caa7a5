/**
 * The paper's figures as Vega-Lite specs and data rows, built from analysis and evaluation
 * results already loaded in memory; each comes with its caption, the paper's statement and one
 * comparison line per model ("X in the paper; here Y").
 */
import { heatmap, lineChart, groupedBar, type Row } from '../plots/charts.js';
import type { VegaLiteSpec } from '../plots/render.js';
import { FIGURE_STATEMENTS } from './paper-numbers.js';
import type { OffsetPoint } from '../analyses/sensitivity.js';
import { axisCurves, ringMaximum } from '../analyses/sensitivity.js';

export interface BuiltFigure {
  title: string;
  caption: string;
  paper: string;
  spec: VegaLiteSpec;
  rows: Row[];
  lines: string[];
}

const pct = (v: number): string => `${v.toFixed(1)}%`;
const ASR_AXIS = { field: 'asr', title: 'Attack success rate (%)', domain: [0, 100] as [number, number] };

export function paperStatement(id: string): string {
  const s = FIGURE_STATEMENTS[id];
  if (!s) return 'no statement about this figure in the extracted text';
  return `${s.statement} (${s.source})${s.lostInExtraction ? `; lost in extraction: ${s.lostInExtraction}` : ''}`;
}

export interface SensitivityData {
  model: string;
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
  const rows: Row[] = data.flatMap((d) => d.grid.map((p) => ({ model: d.model, dx: p.dx, dy: p.dy, asr: p.asr })));
  const specs = data.map((d) =>
    heatmap(d.grid.map((p) => ({ dx: p.dx, dy: p.dy, asr: p.asr })), {
      title: d.model,
      x: { field: 'dx', title: 'Horizontal shift dx (pixels)' },
      y: { field: 'dy', title: 'Vertical shift dy (pixels)' },
      value: { ...ASR_AXIS, title: 'ASR (%)' },
      annotate: d.grid.length <= 100,
      size: { width: 300, height: 300 },
    }),
  );
  return {
    title: 'ASR when the test-time trigger is moved',
    caption: 'ASR of a standard BadNets model with the trigger moved by (dx, dy) pixels at test time (section 3.2). Offsets that would push the trigger off the image are not evaluated.',
    paper: paperStatement('fig2'),
    spec: concat('ASR when the test-time trigger is moved (section 3.2)', specs),
    rows,
    lines: data.map((d) => `${d.model}: ASR ${pct(d.plainAsr)} at the training location; at most ${pct(ringMaximum(d.grid, 1) ?? Number.NaN)} at 1 pixel, ${pct(ringMaximum(d.grid, 2) ?? Number.NaN)} at 2 pixels away`).map((l) => l.replace('NaN%', 'not in the grid')),
  };
}

export function figure3(data: SensitivityData[]): BuiltFigure {
  const shiftRows: Row[] = data.flatMap((d) => axisCurves(d.grid).map((c) => ({ series: `${d.model}, ${c.axis}`, shift: c.shift, asr: c.asr })));
  const valueRows: Row[] = data.flatMap((d) => d.values.map((v) => ({ series: d.model, value: v.value, asr: v.asr })));
  const shift = lineChart(shiftRows, {
    title: 'Trigger location',
    x: { field: 'shift', title: 'Shift along one axis (pixels)', integer: true },
    y: ASR_AXIS,
    series: { field: 'series', title: 'Model, axis' },
    size: { width: 300, height: 220 },
  });
  const value = lineChart(valueRows, {
    title: 'Trigger appearance',
    x: { field: 'value', title: 'Non-zero trigger pixel value (0-255)', domain: [0, 255] },
    y: ASR_AXIS,
    series: { field: 'series', title: 'Model' },
    ruleX: data.length ? { value: data[0].originalValue, label: 'training value' } : undefined,
    size: { width: 300, height: 220 },
  });
  const spec: VegaLiteSpec = { title: 'ASR vs trigger location and appearance (section 3.2)', hconcat: [shift, value], resolve: { scale: { color: 'independent', shape: 'independent' } } };
  const lines = data.map((d) => {
    const low = d.values.filter((v) => v.value < d.originalValue);
    const high = d.values.filter((v) => v.value > d.originalValue);
    const below = low.length ? low.reduce((a, b) => (b.value > a.value ? b : a)) : undefined;
    const lowest = low.length ? low.reduce((a, b) => (b.value < a.value ? b : a)) : undefined;
    const lowText = below && lowest ? `${pct(below.asr)} at value ${below.value}${lowest !== below ? `, ${pct(lowest.asr)} at value ${lowest.value}` : ''}` : 'no lower value tried';
    const highText = high.length ? `, ${pct(Math.min(...high.map((v) => v.asr)))} or more above it` : '';
    return `${d.model}: the paper says ASR falls sharply within a few pixels of shift and as the value drops; here ${pct(d.plainAsr)} unmoved, ${pct(ringMaximum(d.grid, 1) ?? 0)} at most 1 pixel away, ${lowText} (training value ${d.originalValue})${highText}`;
  });
  return {
    title: 'ASR vs trigger location and pixel value',
    caption: 'Left: ASR as the trigger moves along each axis (negative: left/up). Right: ASR as the non-zero trigger pixel value changes at the training location (dashed: the training value).',
    paper: paperStatement('fig3'),
    spec,
    rows: [...shiftRows.map((r) => ({ panel: 'location', ...r })), ...valueRows.map((r) => ({ panel: 'appearance', ...r }))],
    lines,
  };
}

export interface SaliencyData {
  model: string;
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
        version: versionLabel(v, d.shrinkSize),
        attack: variant === 'enhanced' ? `${d.attack}+` : d.attack,
        share: 100 * d.triggerMass[variant][v],
      })),
    ),
  );
  return {
    title: 'Saliency maps of benign, attacked and transformed attacked images',
    caption: 'Grid: each image beside its vanilla-gradient saliency map (viridis overlay, brighter = larger |gradient|), for the standard attack (top rows) and the enhanced attack (bottom rows). The companion chart gives the mean share of saliency that falls on the trigger; its ShrinkPad bars are the attacked images after ShrinkPad, whose trigger share is measured where ShrinkPad moved the trigger.',
    paper: paperStatement('fig5'),
    spec: groupedBar(rows, {
      title: 'Share of saliency on the trigger',
      category: { field: 'version', title: 'Image' },
      group: { field: 'attack', title: 'Attack' },
      value: { field: 'share', title: 'Saliency on the trigger (%)', domain: [0, 100] },
      facet: data.length > 1 ? { field: 'model', title: 'Model' } : undefined,
      size: { width: 260, height: 220 },
    }),
    rows,
    lines: data.map(
      (d) =>
        `${d.model}, ${d.attack}: on the trigger for attacked images ${pct(100 * d.triggerMass.standard.attacked)} (standard) and ${pct(100 * d.triggerMass.enhanced.attacked)} (enhanced); for ShrinkPad-${d.shrinkSize} attacked images ${pct(100 * d.triggerMass.standard.transformed)} (standard) vs ${pct(100 * d.triggerMass.enhanced.transformed)} (enhanced); the paper shows saliency leaving the trigger only under the standard attack`,
    ),
  };
}

export interface CdrpData {
  model: string;
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
        layers.map((l) => ({ panel: `${d.model}, ${variant === 'enhanced' ? `${d.attack}+` : d.attack}`, pair: PAIR_LABEL[pair] ?? pair, layer: l.index + 1, layerName: l.layer, r: l.r })),
      ),
    ),
  );
  const mean = (d: CdrpData, v: 'standard' | 'enhanced', pair: string) => {
    const rs = d.correlations[v][pair].map((x) => x.r);
    return rs.reduce((s, r) => s + r, 0) / rs.length;
  };
  return {
    title: 'Layer-wise correlation of critical data routing paths',
    caption: `Pearson correlation of the CDRP control gates of two versions of the same image, per gated layer, averaged over the test images (eq. 6; L1 weight chosen by us, see "Scale and choices of ours").`,
    paper: paperStatement('fig6'),
    spec: lineChart(rows, {
      title: 'CDRP correlation across layers (appendix G)',
      x: { field: 'layer', title: 'Gated layer (input → output)', integer: true },
      y: { field: 'r', title: 'Mean Pearson correlation', domain: [-0.2, 1] },
      series: { field: 'pair', title: 'Image pair' },
      facet: { field: 'panel', title: 'Model and attack' },
      size: { width: 280, height: 200 },
    }),
    rows,
    lines: data.flatMap((d) => [
      `${d.model}, ${d.attack} (standard): mean r (benign, transformed) ${mean(d, 'standard', 'benign-transformed').toFixed(2)} vs (attacked, transformed) ${mean(d, 'standard', 'attacked-transformed').toFixed(2)}; the paper finds the first high and the second low`,
      `${d.model}, ${d.attack}+ (enhanced): mean r (attacked, transformed) ${mean(d, 'enhanced', 'attacked-transformed').toFixed(2)} vs (benign, transformed) ${mean(d, 'enhanced', 'benign-transformed').toFixed(2)}; the paper finds the first high and the second low`,
    ]),
  };
}

export interface PhysicalData {
  model: string;
  attack: string;
  standard: { digitalAsr: number; capturedAsr: number };
  enhanced: { digitalAsr: number; capturedAsr: number };
}

export function figure8Chart(data: PhysicalData[]): BuiltFigure {
  const rows: Row[] = data.flatMap((d) =>
    (['standard', 'enhanced'] as const).flatMap((v) => [
      { model: d.model, attack: v === 'enhanced' ? `${d.attack}+` : d.attack, condition: 'digital', asr: d[v].digitalAsr },
      { model: d.model, attack: v === 'enhanced' ? `${d.attack}+` : d.attack, condition: 'simulated capture', asr: d[v].capturedAsr },
    ]),
  );
  return {
    title: 'Physical-capture SIMULATION: standard vs enhanced attack',
    caption: 'SIMULATION, not photographs: attacked test images pass through a random perspective warp, zoom, rotation, blur, brightness change and sensor noise (params `analyses.physical.camera`). Grid: example captures. Chart: ASR on the digital attacked images and after simulated capture.',
    paper: paperStatement('fig8'),
    spec: groupedBar(rows, {
      title: 'ASR under simulated camera capture',
      category: { field: 'attack', title: 'Attack' },
      group: { field: 'condition', title: 'Input' },
      value: ASR_AXIS,
      facet: data.length > 1 ? { field: 'model', title: 'Model' } : undefined,
      size: { width: 220, height: 220 },
    }),
    rows,
    lines: data.map((d) => `${d.model}: in the paper's photographs BadNets fails and BadNets+ succeeds; in our simulation ${d.attack} ${pct(d.standard.capturedAsr)} and ${d.attack}+ ${pct(d.enhanced.capturedAsr)} (digital: ${pct(d.standard.digitalAsr)} and ${pct(d.enhanced.digitalAsr)})`),
  };
}

export interface AblationPoint {
  model: string;
  attack: string;
  variant: 'standard' | 'enhanced';
  x: number;
  defense: string;
  asr: number;
}

export function figure12(points: AblationPoint[], sMax: number): BuiltFigure {
  const rows: Row[] = points.map((p) => ({ model: p.model, attack: p.variant === 'enhanced' ? `${p.attack}+` : p.attack, shrink: p.x, asr: p.asr }));
  const lines = [...new Set(points.map((p) => `${p.model}|${p.attack}`))].map((key) => {
    const [model, attack] = key.split('|');
    const enh = points.filter((p) => p.model === model && p.attack === attack && p.variant === 'enhanced');
    const within = enh.filter((p) => p.x <= sMax).map((p) => p.asr);
    const beyond = enh.filter((p) => p.x > sMax).map((p) => p.asr);
    const m = (v: number[]) => (v.length ? pct(v.reduce((s, x) => s + x, 0) / v.length) : 'not run');
    return `${model}, ${attack}+: the paper finds high ASR for ShrinkPad sizes up to s_max = ${sMax} and a dramatic drop above; here mean ASR ${m(within)} for s ≤ ${sMax} and ${m(beyond)} for s > ${sMax}`;
  });
  return {
    title: 'ASR under ShrinkPad of increasing size',
    caption: `ASR of standard and enhanced attacks (trained with s_max = ${sMax}, dashed) under ShrinkPad-s at test time (appendix F.1).`,
    paper: paperStatement('fig12'),
    spec: lineChart(rows, {
      title: 'ASR vs ShrinkPad size (appendix F.1)',
      x: { field: 'shrink', title: 'ShrinkPad size s (pixels)', integer: true },
      y: ASR_AXIS,
      series: { field: 'attack', title: 'Attack' },
      facet: { field: 'model', title: 'Model' },
      ruleX: { value: sMax, label: 's_max' },
      size: { width: 280, height: 220 },
    }),
    rows,
    lines,
  };
}

export function figure13(points: AblationPoint[], defenseSize: number): BuiltFigure {
  const rows: Row[] = points.map((p) => ({ model: p.model, attack: `${p.attack}+`, sMax: p.x, defense: p.defense, asr: p.asr }));
  const lines = [...new Set(points.map((p) => `${p.model}|${p.attack}`))].map((key) => {
    const [model, attack] = key.split('|');
    const def = points.filter((p) => p.model === model && p.attack === attack && p.defense !== 'no defense').sort((a, b) => a.x - b.x);
    const text = def.map((p) => `${p.x}: ${pct(p.asr)}`).join(', ');
    return `${model}, ${attack}+ under ShrinkPad-${defenseSize}: the paper finds ASR rising from about 0 to about 100 as s_max grows to ${defenseSize}; here by s_max ${text || 'not run'}`;
  });
  return {
    title: 'ASR of enhanced attacks vs the s_max used in training',
    caption: `ASR of enhanced attacks trained with maximal shrink size s_max, without defense and under ShrinkPad-${defenseSize} (appendix F.2).`,
    paper: paperStatement('fig13'),
    spec: lineChart(rows, {
      title: 'ASR vs training s_max (appendix F.2)',
      x: { field: 'sMax', title: 'Maximal shrink size s_max in training (pixels)', integer: true },
      y: ASR_AXIS,
      series: { field: 'attack', title: 'Attack' },
      facet: { field: 'defense', title: 'Defense', sort: ['no defense', `ShrinkPad-${defenseSize}`] },
      ruleX: { value: defenseSize, label: 'ShrinkPad size' },
      size: { width: 280, height: 220 },
    }),
    rows,
    lines,
  };
}
