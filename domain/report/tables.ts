/**
 * Result tables with the paper's numbers beside ours, written as CSV (csv-stringify, one column
 * for ours and one for the paper's) and Markdown ("ours (paper)" in one cell). No cell is ever
 * empty: a value we did not compute carries the reason, and one the paper does not give says so.
 */
import { stringify } from 'csv-stringify/sync';
import type { SeedStats } from './seed-stats.js';

export type Cell =
  | { kind: 'text'; text: string }
  | { kind: 'value'; ours?: number; paper?: number; why?: string; paperWhy?: string; digits?: number; spread?: SeedStats };

export interface Column {
  key: string;
  title: string;
}

export interface ResultTable {
  id: string;
  title: string;
  caption: string;
  columns: Column[];
  rows: Record<string, Cell>[];
  /** Replicate seeds behind the values, when there are several: each value is then their mean with its spread. */
  seeds?: number[];
}

export const NOT_RUN = 'not run in this profile';
export const NOT_IN_PAPER = 'not in paper';

export const text = (t: string): Cell => ({ kind: 'text', text: t });
export type ValueCell = Extract<Cell, { kind: 'value' }>;
export function value(ours: number | undefined, paper: number | undefined, why = NOT_RUN, digits = 1): ValueCell {
  if (ours !== undefined && !Number.isFinite(ours)) throw new RangeError(`table value: non-finite ours ${ours}`);
  return { kind: 'value', ours, paper, why, digits };
}

function fmt(v: number, digits: number): string {
  return v.toFixed(digits);
}

function cellOf(row: Record<string, Cell>, col: Column, tableId: string): Cell {
  const c = row[col.key];
  if (!c) throw new Error(`table ${tableId}: a row has no cell for column '${col.key}'`);
  return c;
}

export function oursText(c: Cell): string {
  if (c.kind === 'text') return c.text || '(blank)';
  return c.ours === undefined ? (c.why ?? NOT_RUN) : fmt(c.ours, c.digits ?? 1);
}

/** Ours with its spread over seeds: "63.4 [61.2–65.0]", and "(n=1)" where fewer seeds than the table's ran. */
function oursWithSpread(c: Cell, seeds: number): string {
  if (c.kind === 'text' || c.ours === undefined || !c.spread) return oursText(c);
  const digits = c.digits ?? 1;
  const range = c.spread.n > 1 ? ` [${fmt(c.spread.min, digits)}–${fmt(c.spread.max, digits)}]` : '';
  const n = c.spread.n < seeds ? ` (n=${c.spread.n})` : '';
  return `${fmt(c.ours, digits)}${range}${n}`;
}

export function paperText(c: Cell): string {
  if (c.kind === 'text') return c.text;
  return c.paper === undefined ? (c.paperWhy ?? NOT_IN_PAPER) : String(c.paper);
}

export function toCsv(t: ResultTable): string {
  const cells = (col: Column) => t.rows.map((r) => cellOf(r, col, t.id));
  const valueCols = new Set(t.columns.filter((col) => cells(col).some((c) => c.kind === 'value')).map((c) => c.key));
  // With replicate seeds, "ours" is the mean; its min, max, std and n follow in columns of their own.
  const spreadCols = new Set(t.columns.filter((col) => cells(col).some((c) => c.kind === 'value' && c.spread !== undefined)).map((c) => c.key));
  const spreadValues = (c: Cell): string[] => {
    if (c.kind !== 'value' || !c.spread || c.ours === undefined) return ['', '', '', '0'];
    const d = c.digits ?? 1;
    return [fmt(c.spread.min, d), fmt(c.spread.max, d), fmt(c.spread.std, d + 1), String(c.spread.n)];
  };
  const header = t.columns.flatMap((col) => {
    if (!valueCols.has(col.key)) return [col.title];
    const spread = spreadCols.has(col.key) ? ['min', 'max', 'std'].map((s) => `${col.title} (ours ${s})`).concat(`${col.title} (n)`) : [];
    return [`${col.title} (ours)`, ...spread, `${col.title} (paper)`];
  });
  const body = t.rows.map((r) =>
    t.columns.flatMap((col) => {
      const c = cellOf(r, col, t.id);
      if (!valueCols.has(col.key)) return [oursText(c)];
      const paper = c.kind === 'value' ? paperText(c) : NOT_IN_PAPER;
      return spreadCols.has(col.key) ? [oursText(c), ...spreadValues(c), paper] : [oursText(c), paper];
    }),
  );
  return stringify([header, ...body]);
}

/**
 * One row per seed and value cell, in long form (the text cells of the row, the column, the seed,
 * our value): the per-seed numbers behind every mean, for a reader's own statistics.
 */
export function toSeedCsv(perSeed: { seed: number; table: ResultTable }[]): string {
  if (perSeed.length === 0) throw new RangeError('toSeedCsv: no per-seed tables');
  const first = perSeed[0].table;
  const labelCols = first.columns.filter((col) => first.rows.every((r) => cellOf(r, col, first.id).kind === 'text'));
  const rows: string[][] = [];
  for (const { seed, table } of perSeed) {
    for (const r of table.rows) {
      for (const col of table.columns) {
        const c = cellOf(r, col, table.id);
        if (c.kind !== 'value' || c.ours === undefined) continue;
        rows.push([...labelCols.map((l) => oursText(cellOf(r, l, table.id))), col.title, String(seed), fmt(c.ours, (c.digits ?? 1) + 1)]);
      }
    }
  }
  return stringify([[...labelCols.map((l) => l.title), 'column', 'seed', 'ours'], ...rows]);
}

const escapeMd = (s: string): string => s.replace(/\|/g, '\\|');

export function toMarkdown(t: ResultTable): string {
  const lines: string[] = [];
  lines.push(`| ${t.columns.map((c) => escapeMd(c.title)).join(' | ')} |`);
  lines.push(`| ${t.columns.map(() => '---').join(' | ')} |`);
  for (const r of t.rows) {
    const cells = t.columns.map((col) => {
      const c = cellOf(r, col, t.id);
      if (c.kind === 'text') return escapeMd(oursText(c));
      const paper = c.paper === undefined ? '' : ` (paper ${c.paper})`;
      return escapeMd(`${oursWithSpread(c, t.seeds?.length ?? 1)}${paper}`);
    });
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
