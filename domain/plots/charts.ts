/**
 * Spec builders for the three chart shapes the paper uses: line charts (ASR vs
 * shift, pixel value, shrink size, layer), heat maps (ASR over a 2-D offset
 * grid) and grouped bars (ASR per attack and defense). They return plain
 * Vega-Lite specs; rendering is render.ts's job.
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
  size?: FigureSize;
}

export function lineChart(rows: Row[], o: LineChartOptions): VegaLiteSpec {
  requireFields(rows, [o.x.field, o.y.field, ...(o.series ? [o.series.field] : []), ...(o.facet ? [o.facet.field] : [])], 'lineChart');
  const size = o.size ?? DEFAULT_SIZE;
  const encoding: Record<string, unknown> = {
    x: axisEncoding(o.x, 'quantitative'),
    y: axisEncoding(o.y, 'quantitative'),
    tooltip: [{ field: o.x.field }, { field: o.y.field }],
  };
  if (o.series) {
    encoding.color = { field: o.series.field, type: 'nominal', title: o.series.title };
    encoding.shape = { field: o.series.field, type: 'nominal', title: o.series.title };
  }
  const layers: Record<string, unknown>[] = [{ mark: { type: 'line', point: true }, encoding }];
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
  size?: FigureSize;
}

export function heatmap(rows: Row[], o: HeatmapOptions): VegaLiteSpec {
  requireFields(rows, [o.x.field, o.y.field, o.value.field], 'heatmap');
  const size = o.size ?? { width: 320, height: 320 };
  const colour: Record<string, unknown> = {
    field: o.value.field,
    type: 'quantitative',
    title: o.value.title,
    scale: { scheme: 'viridis', ...(o.value.domain ? { domain: o.value.domain } : {}) },
  };
  const layers: Record<string, unknown>[] = [
    { mark: { type: 'rect' }, encoding: { color: colour, tooltip: [{ field: o.x.field }, { field: o.y.field }, { field: o.value.field }] } },
  ];
  if (o.annotate) {
    const mid = o.value.domain ? (o.value.domain[0] + o.value.domain[1]) / 2 : 50;
    layers.push({
      mark: { type: 'text', fontSize: 10 },
      encoding: {
        text: { field: o.value.field, type: 'quantitative', format: o.value.format ?? '.0f' },
        color: { condition: { test: `datum['${o.value.field}'] > ${mid}`, value: 'black' }, value: 'white' },
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
  size?: FigureSize;
}

export function groupedBar(rows: Row[], o: GroupedBarOptions): VegaLiteSpec {
  requireFields(rows, [o.category.field, o.group.field, o.value.field, ...(o.facet ? [o.facet.field] : [])], 'groupedBar');
  const size = o.size ?? DEFAULT_SIZE;
  const inner = {
    width: size.width,
    height: size.height,
    mark: { type: 'bar' },
    encoding: {
      x: { field: o.category.field, type: 'nominal', title: o.category.title, sort: null, axis: { labelAngle: 0 } },
      xOffset: { field: o.group.field, type: 'nominal', sort: null },
      y: axisEncoding(o.value, 'quantitative'),
      color: { field: o.group.field, type: 'nominal', title: o.group.title, sort: null },
      tooltip: [{ field: o.category.field }, { field: o.group.field }, { field: o.value.field }],
    },
  };
  if (o.facet) {
    return { title: o.title, data: { values: rows }, facet: { field: o.facet.field, type: 'nominal', title: o.facet.title }, spec: inner };
  }
  return { title: o.title, data: { values: rows }, ...inner };
}
