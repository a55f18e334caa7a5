/**
 * `exp plot`'s figure as a Vega-Lite spec (plain JSON; the pipeline renders it): a metric against a
 * swept param, one line per matched series. Metric names that differ only in a `seedN` segment
 * are one series; its line is their mean and a band spans their min and max.
 */
import { UserError } from '../errors.js';
import { valueLabel } from '../param-space.js';
import { metricMatcher } from './metrics.js';
import type { ExperimentRecord } from './record.js';

export interface PlotPoint {
  x: number | string;
  series: string;
  mean: number;
  min: number;
  max: number;
  n: number;
}

const SEED = /(^|[/: ])seed\d+(?=$|[/: ])/;

/** The x value of an experiment: its sweep point's value of `param`, else what it changed it to. */
function xOf(r: ExperimentRecord, param: string): number | string | undefined {
  const a = r.assignment.find((p) => p.path === param);
  const v = a ? a.value : r.paramsChanged.find((c) => c.path === param)?.after;
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' ? v : valueLabel(v);
}

export function plotPoints(records: ExperimentRecord[], param: string, yGlobs: string[]): PlotPoint[] {
  if (yGlobs.length === 0) throw new UserError('exp plot needs --y METRIC-GLOB (e.g. --y "*badnets*: asr")');
  const withX = records.filter((r) => xOf(r, param) !== undefined);
  if (withX.length === 0) {
    const axes = [...new Set(records.flatMap((r) => r.assignment.map((a) => a.path)))];
    throw new UserError(`--x ${param}: none of ${records.map((r) => r.name).join(', ')} sets it${axes.length ? `; their swept params: ${axes.join(', ')}` : ''}`);
  }
  const match = metricMatcher(yGlobs);
  const groups = new Map<string, number[]>();
  for (const r of withX) {
    const x = xOf(r, param)!;
    for (const [name, v] of Object.entries(r.metrics)) {
      if (!match(name) || typeof v !== 'number') continue;
      const key = JSON.stringify([x, name.replace(SEED, '$1seed*')]);
      let vs = groups.get(key);
      if (!vs) groups.set(key, (vs = []));
      vs.push(v);
    }
  }
  if (groups.size === 0) {
    const some = Object.keys(withX[0].metrics).filter((m) => typeof withX[0].metrics[m] === 'number').slice(0, 5);
    throw new UserError(`--y ${yGlobs.join(' ')}: matches no numeric metric of ${withX.map((r) => r.name).join(', ')}${some.length ? ` (e.g. ${some.join(', ')})` : ''}`);
  }
  return [...groups.entries()].map(([key, vs]) => {
    const [x, series] = JSON.parse(key) as [number | string, string];
    return { x, series, mean: vs.reduce((s, v) => s + v, 0) / vs.length, min: Math.min(...vs), max: Math.max(...vs), n: vs.length };
  });
}

/** Series names less the instance prefix they all share (the legend reads `none: asr`, `flip: asr`), and that prefix. */
function legendNames(series: string[]): { names: Map<string, string>; prefix: string } {
  const uniq = [...new Set(series)];
  let p = uniq.length > 1 ? uniq[0] : '';
  for (const s of uniq) while (!s.startsWith(p)) p = p.slice(0, -1);
  p = p.slice(0, p.lastIndexOf('/') + 1);
  return { names: new Map(uniq.map((s) => [s, s.slice(p.length) || s])), prefix: p };
}

/** `title` heads the figure; the series' shared instance prefix is its subtitle; the y axis is named after the metric when all series measure one. */
export function plotSpec(points: PlotPoint[], param: string, title: string): Record<string, unknown> {
  const { names, prefix } = legendNames(points.map((p) => p.series));
  const measured = [...new Set(points.map((p) => p.series.slice(p.series.lastIndexOf(': ') + 2)))];
  const seeds = points.some((p) => p.n > 1);
  const yTitle = `${measured.length === 1 ? measured[0] : 'value'}${seeds ? ' (mean over seeds; band: min to max)' : ''}`;
  const numeric = points.every((p) => typeof p.x === 'number');
  const values = points.map((p) => ({ ...p, series: names.get(p.series)! })).sort((a, b) => (numeric ? (a.x as number) - (b.x as number) : 0));
  const x = { field: 'x', type: numeric ? 'quantitative' : 'ordinal', title: param };
  const color = { field: 'series', type: 'nominal', title: null };
  const layers: Record<string, unknown>[] = [];
  if (seeds) {
    layers.push({ mark: { type: 'errorband', opacity: 0.2 }, encoding: { x, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' }, color } });
  }
  layers.push({
    mark: { type: 'line', point: true },
    encoding: {
      x,
      y: { field: 'mean', type: 'quantitative', title: yTitle },
      color,
      tooltip: [{ field: 'series' }, { field: 'x' }, { field: 'mean' }, { field: 'n' }],
    },
  });
  return { title: prefix ? { text: title, subtitle: prefix } : title, width: 420, height: 260, data: { values }, layer: layers };
}
