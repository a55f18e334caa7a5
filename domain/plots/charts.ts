/**
 * Spec builders for the three chart shapes the paper uses: line charts (ASR vs
 * shift, pixel value, shrink size, layer), heat maps (ASR over a 2-D offset
 * grid) and grouped bars (ASR per attack and defense). They return plain
 * Vega-Lite specs; rendering is render.ts's job.
 *
 * Replicates: given `spread` (the field that tells replicate rows apart, e.g. 'seed'), a chart
 * draws the mean over rows that differ only in that field, with a min-max error bar (lines and
 * bars) around it; heat maps show the mean. The rows themselves stay one per replicate.
 */
import { DEFAULT_SIZE, type FigureSize } from './theme.js';
import type { VegaLiteSpec } from './render.js';

export type Row = Record<string, string | number>;

export interface Field {
  field: string;
  title: string;
  /** Vega-Lite measurement type. */
  type?: 'quantitative' | 'ordinal' | 'nominal';
  /** Fixed axis domain, e.g. [0, 100] for percentages. */
  domain?: [number, number];
  format?: string;
  /** Integer-valued axis (pixels, layer index): ticks only at whole numbers. */
  integer?: boolean;
  /** Explicit order of a nominal field's values (facets, series). */
  sort?: string[];
}

function requireFields(rows: Row[], fields: string[], chart: string): void {
  if (rows.length === 0) throw new Error(`${chart}: no data rows`);
  for (const f of fields) {
    const bad = rows.findIndex((r) => !(f in r));
    if (bad >= 0) throw new Error(`${chart}: row ${bad} lacks field '${f}' (has: ${Object.keys(rows[bad]).join(', ')})`);
  }
}

/** The y (or value) encoding: the field itself, or its mean over replicates when there is a spread field. */
function valueEncoding(f: Field, spread: string | undefined): Record<string, unknown> {
  const enc = axisEncoding(f, 'quantitative');
  return spread ? { ...enc, aggregate: 'mean' } : enc;
}

/** A min-max rule over replicates at each mean: y from the minimum, y2 to the maximum. */
function spreadRule(f: Field, encoding: Record<string, unknown>): Record<string, unknown> {
  return {
    mark: { type: 'rule', strokeWidth: 1.5 },
    encoding: { ...encoding, y: { aggregate: 'min', field: f.field, type: 'quantitative' }, y2: { aggregate: 'max', field: f.field } },
  };
}

/** Tooltip entries: the y field as mean, min and max over replicates when there is a spread field. */
function valueTooltip(f: Field, spread: string | undefined): Record<string, unknown>[] {
  if (!spread) return [{ field: f.field }];
  return (['mean', 'min', 'max'] as const).map((op) => ({ aggregate: op, field: f.field, type: 'quantitative', title: `${f.title} (${op} over ${spread})`, format: '.1f' }));
}

function axisEncoding(f: Field, fallbackType: Field['type']): Record<string, unknown> {
  const enc: Record<string, unknown> = { field: f.field, type: f.type ?? fallbackType, title: f.title };
  if (f.domain) enc.scale = { domain: f.domain, nice: false };
  if (f.format) enc.axis = { format: f.format };
  if (f.integer) enc.axis = { format: 'd', tickMinStep: 1, ...((enc.axis as object) ?? {}) };
  return enc;
}

export interface LineChartOptions {
  title: string;
  x: Field;
  y: Field;
  /** One line per value of this field. */
  series?: Field;
  /** Small multiples, one panel per value of this field. */
  facet?: Field;
  /** A dashed vertical reference line, e.g. the training s_max. */
  ruleX?: { value: number; label: string };
  /** Replicate field (e.g. 'seed'): plot the mean over its values with a min-max error bar. */
  spread?: string;
  size?: FigureSize;
}

export function lineChart(rows: Row[], o: LineChartOptions): VegaLiteSpec {
  requireFields(rows, [o.x.field, o.y.field, ...(o.series ? [o.series.field] : []), ...(o.facet ? [o.facet.field] : []), ...(o.spread ? [o.spread] : [])], 'lineChart');
  const size = o.size ?? DEFAULT_SIZE;
  const encoding: Record<string, unknown> = {
    x: axisEncoding(o.x, 'quantitative'),
    y: valueEncoding(o.y, o.spread),
    tooltip: [{ field: o.x.field }, ...valueTooltip(o.y, o.spread)],
  };
  if (o.series) {
    encoding.color = { field: o.series.field, type: 'nominal', title: o.series.title };
    encoding.shape = { field: o.series.field, type: 'nominal', title: o.series.title };
  }
  const layers: Record<string, unknown>[] = [{ mark: { type: 'line', point: true }, encoding }];
  if (o.spread) layers.push(spreadRule(o.y, { x: encoding.x, ...(o.series ? { color: encoding.color } : {}) }));
  if (o.ruleX) {
    layers.push({
      data: { values: [{ v: o.ruleX.value, label: o.ruleX.label }] },
      mark: { type: 'rule', strokeDash: [5, 4], color: '#666' },
      encoding: { x: { field: 'v', type: 'quantitative' } },
    });
  }
  const inner = { width: size.width, height: size.height, layer: layers };
  if (o.facet) {
    return {
      title: o.title,
      data: { values: rows },
      facet: { field: o.facet.field, type: 'nominal', title: o.facet.title, ...(o.facet.sort ? { sort: o.facet.sort } : {}) },
      columns: 3,
      spec: inner,
      resolve: { scale: { y: 'shared' } },
    };
  }
  return { title: o.title, data: { values: rows }, ...inner };
}

export interface HeatmapOptions {
  title: string;
  x: Field;
  y: Field;
  value: Field;
  /** Print the value in each cell (useful for small grids). */
  annotate?: boolean;
  /** Replicate field (e.g. 'seed'): colour (and annotate) each cell with the mean over its values. */
  spread?: string;
  size?: FigureSize;
}

export function heatmap(rows: Row[], o: HeatmapOptions): VegaLiteSpec {
  requireFields(rows, [o.x.field, o.y.field, o.value.field, ...(o.spread ? [o.spread] : [])], 'heatmap');
  const size = o.size ?? { width: 320, height: 320 };
  const mean = o.spread ? { aggregate: 'mean' } : {};
  const colour: Record<string, unknown> = {
    field: o.value.field,
    ...mean,
    type: 'quantitative',
    title: o.value.title,
    scale: { scheme: 'viridis', ...(o.value.domain ? { domain: o.value.domain } : {}) },
  };
  const layers: Record<string, unknown>[] = [
    { mark: { type: 'rect' }, encoding: { color: colour, tooltip: [{ field: o.x.field }, { field: o.y.field }, ...valueTooltip(o.value, o.spread)] } },
  ];
  if (o.annotate) {
    const mid = o.value.domain ? (o.value.domain[0] + o.value.domain[1]) / 2 : 50;
    layers.push({
      mark: { type: 'text', fontSize: 10 },
      encoding: {
        text: { field: o.value.field, ...mean, type: 'quantitative', format: o.value.format ?? '.0f' },
        // Aggregated fields are named op_field in the datum (mean_asr).
        color: { condition: { test: `datum['${o.spread ? `mean_${o.value.field}` : o.value.field}'] > ${mid}`, value: 'black' }, value: 'white' },
      },
    });
  }
  return {
    title: o.title,
    data: { values: rows },
    width: size.width,
    height: size.height,
    encoding: { x: { ...axisEncoding(o.x, 'ordinal'), sort: 'ascending', axis: { labelAngle: 0 } }, y: { ...axisEncoding(o.y, 'ordinal'), sort: 'ascending' } },
    layer: layers,
  };
}

export interface GroupedBarOptions {
  title: string;
  /** Categories along the x axis (e.g. defense). */
  category: Field;
  /** Bars within each category (e.g. attack). */
  group: Field;
  value: Field;
  /** One panel per value of this field (e.g. architecture). */
  facet?: Field;
  /** Replicate field (e.g. 'seed'): bars are the mean over its values, with a min-max error bar. */
  spread?: string;
  size?: FigureSize;
}

export function groupedBar(rows: Row[], o: GroupedBarOptions): VegaLiteSpec {
  requireFields(rows, [o.category.field, o.group.field, o.value.field, ...(o.facet ? [o.facet.field] : []), ...(o.spread ? [o.spread] : [])], 'groupedBar');
  const size = o.size ?? DEFAULT_SIZE;
  const x = { field: o.category.field, type: 'nominal', title: o.category.title, sort: null, axis: { labelAngle: 0 } };
  const xOffset = { field: o.group.field, type: 'nominal', sort: null };
  const encoding = {
    x,
    xOffset,
    y: valueEncoding(o.value, o.spread),
    color: { field: o.group.field, type: 'nominal', title: o.group.title, sort: null },
    tooltip: [{ field: o.category.field }, { field: o.group.field }, ...valueTooltip(o.value, o.spread)],
  };
  const inner = o.spread
    ? { width: size.width, height: size.height, layer: [{ mark: { type: 'bar' }, encoding }, { ...spreadRule(o.value, { x, xOffset }), mark: { type: 'rule', strokeWidth: 1.5, color: '#222' } }] }
    : { width: size.width, height: size.height, mark: { type: 'bar' }, encoding };
  if (o.facet) {
    return { title: o.title, data: { values: rows }, facet: { field: o.facet.field, type: 'nominal', title: o.facet.title }, spec: inner };
  }
  return { title: o.title, data: { values: rows }, ...inner };
}
