/** Rows of cells as an aligned text table, a Markdown table, CSV, or JSON objects. */
import { UserError } from '../errors.js';

export type Cell = string | number | boolean | null | undefined;
export const FORMATS = ['table', 'md', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export function checkFormat(format: string | undefined): Format {
  const f = format ?? 'table';
  if (!(FORMATS as readonly string[]).includes(f)) throw new UserError(`--format ${JSON.stringify(f)}: expected one of ${FORMATS.join(', ')}`);
  return f as Format;
}

/** Numbers to 4 significant digits for reading; csv and json keep them whole. */
export function showCell(c: Cell): string {
  if (c === undefined || c === null) return '-';
  if (typeof c === 'number') return Number.isInteger(c) ? String(c) : String(Number(c.toPrecision(4)));
  return String(c);
}

const csvCell = (c: Cell): string => {
  const t = c === undefined || c === null ? '' : String(c);
  return /[",\n]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
};

export function renderRows(headers: string[], rows: Cell[][], format: Format): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(
        rows.map((r) => Object.fromEntries(headers.map((h, i) => [h, r[i] ?? null]))),
        null,
        2,
      )}\n`;
    case 'csv':
      return [headers, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
    case 'md': {
      const esc = (t: string): string => t.replaceAll('|', '\\|');
      const lines = [`| ${headers.map(esc).join(' | ')} |`, `|${headers.map(() => ' --- ').join('|')}|`];
      for (const r of rows) lines.push(`| ${headers.map((_, i) => esc(showCell(r[i]))).join(' | ')} |`);
      return `${lines.join('\n')}\n`;
    }
    case 'table': {
      const text = [headers, ...rows.map((r) => headers.map((_, i) => showCell(r[i])))];
      const widths = headers.map((_, i) => Math.max(...text.map((r) => String(r[i]).length)));
      const line = (r: Cell[]): string => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
      return [line(text[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...text.slice(1).map(line)].join('\n') + '\n';
    }
  }
}
