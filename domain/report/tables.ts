/**
 * Result tables with the paper's numbers beside ours, written as CSV (csv-stringify, one column
 * for ours and one for the paper's) and Markdown ("ours (paper)" in one cell). No cell is ever
 * empty: a value we did not compute carries the reason, and one the paper does not give says so.
 */
import { stringify } from 'csv-stringify/sync';

export type Cell =
  | { kind: 'text'; text: string }
  | { kind: 'value'; ours?: number; paper?: number; why?: string; paperWhy?: string; digits?: number };

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

export function paperText(c: Cell): string {
  if (c.kind === 'text') return c.text;
  return c.paper === undefined ? (c.paperWhy ?? NOT_IN_PAPER) : String(c.paper);
}

export function toCsv(t: ResultTable): string {
  const header: string[] = [];
  for (const col of t.columns) {
    const sample = t.rows.map((r) => cellOf(r, col, t.id)).find((c) => c.kind === 'value');
    if (sample) header.push(`${col.title} (ours)`, `${col.title} (paper)`);
    else header.push(col.title);
  }
  const valueCols = new Set(t.columns.filter((col) => t.rows.some((r) => cellOf(r, col, t.id).kind === 'value')).map((c) => c.key));
  const body = t.rows.map((r) =>
    t.columns.flatMap((col) => {
      const c = cellOf(r, col, t.id);
      return valueCols.has(col.key) ? [oursText(c), c.kind === 'value' ? paperText(c) : NOT_IN_PAPER] : [oursText(c)];
    }),
  );
  return stringify([header, ...body]);
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
      return escapeMd(`${oursText(c)}${paper}`);
    });
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
