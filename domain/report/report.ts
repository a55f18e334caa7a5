/**
 * REPORT.md, assembled only from artifacts: the claims table first, then one section per figure
 * and table with its image or table, the paper's numbers or statement beside ours, and where it
 * came from (profile, data set, backend, seed, wall time). Nothing in it is written by hand.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { ClaimThresholds } from './claims.js';
import type { ClaimOverSeeds } from './claims-over-seeds.js';

export interface Provenance {
  profile: string;
  /** E.g. 'CIFAR-10 (5000 train / 1000 test)' or 'synthetic'. */
  dataset: string;
  synthetic: boolean;
  backend: string;
  seed: string;
  /**
   * Wall time of the stages behind this entry, in seconds (sum over its upstream analyses). A
   * measurement: never in entry.json (an output), added by the report from the entry artifact's meta.
   */
  wallSeconds?: number;
}

export interface ReportEntry {
  kind: 'figure' | 'table';
  /** Paper id, e.g. 'fig3' or 'table1'. */
  id: string;
  title: string;
  caption: string;
  /** What the paper says or shows (section reference included). */
  paper: string;
  /** Relative paths inside the report directory. */
  image?: string;
  /** A companion chart shown under an image grid. */
  chartImage?: string;
  svg?: string;
  spec?: string;
  csv?: string;
  /** The table itself, in Markdown. */
  markdown?: string;
  /** One line per comparison, "X in the paper; here Y". */
  lines: string[];
  provenance: Provenance;
}

export interface ReportInput {
  title: string;
  profile: string;
  /** Each claim judged per replicate seed, with its verdict over seeds. */
  claims: ClaimOverSeeds[];
  thresholds: ClaimThresholds;
  /** What every number stands on, shown at the top: replicate seeds, random-defense draws, training scale. */
  scale: string[];
  entries: ReportEntry[];
  /** Choices of ours the reader must know (e.g. the CDRP lambda), one per line. */
  notes: string[];
}

const cellText = (s: string): string => (s.trim() === '' ? 'not available' : s.replace(/\|/g, '\\|').replace(/\n/g, ' '));

function fmtSeconds(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return 'unknown (no timing recorded)';
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
}

function entryOrder(a: ReportEntry, b: ReportEntry): number {
  const num = (e: ReportEntry) => Number(/\d+/.exec(e.id)?.[0] ?? 999);
  if (a.kind !== b.kind) return a.kind === 'table' ? -1 : 1;
  return num(a) - num(b) || a.id.localeCompare(b.id);
}

export function buildReport(input: ReportInput): string {
  const out: string[] = [];
  out.push(`# ${input.title}`, '');
  // No generation timestamp: the same artifacts must give the same report.
  out.push(`Profile: **${input.profile}**. Generated from cached artifacts; do not edit by hand (regenerate with \`npx tsx pipeline.ts report\`).`, '');
  if (input.entries.some((e) => e.provenance.synthetic)) out.push('> Some entries below come from **synthetic data** (marked in their provenance line); their numbers test the pipeline, not the paper.', '');

  for (const s of input.scale) out.push(`**${s}**`, '');

  out.push('## Claims', '');
  const seeds = input.claims[0]?.perSeed.length ?? 0;
  out.push(
    seeds > 1
      ? `Each claim is judged on each of the ${seeds} seeds with the same criteria; the verdict counts the seeds where it holds. "Ours" gives each seed's values.`
      : 'Each claim is judged on the one seed of this run.',
    '',
  );
  out.push(`| # | Claim | Source | Paper | Ours${seeds > 1 ? ', per seed' : ''} | Verdict${seeds > 1 ? ' over seeds' : ''} at this scale |`, '| --- | --- | --- | --- | --- | --- |');
  for (const c of input.claims) {
    const ours = c.perSeed.length > 1 ? c.perSeed.map((v) => `seed ${v.seed} (${v.status}): ${cellText(v.ours)}`).join('<br>') : cellText(c.perSeed[0]?.ours ?? '');
    out.push(`| ${c.id} | ${cellText(c.claim)} | ${cellText(c.source)} | ${cellText(c.paper)} | ${ours} | **${cellText(c.verdict)}** |`);
  }
  out.push('', 'Criteria (thresholds from params.json `report.claims`, fixed before running, not tuned on the test set):', '');
  for (const c of input.claims) out.push(`${c.id}. ${c.criterion}`);
  out.push('');
  // Right under the verdicts: they are verdicts at this scale and with these choices.
  if (input.notes.length) {
    out.push('## Scale and choices of ours', '');
    for (const n of input.notes) out.push(`- ${n}`);
    out.push('');
  }

  const sorted = [...input.entries].sort(entryOrder);
  out.push('## Contents', '');
  for (const e of sorted) out.push(`- [${e.kind === 'table' ? 'Table' : 'Figure'} ${e.id.replace(/^\D+/, '')}: ${e.title}](#${anchor(e)})`);
  out.push('');

  for (const e of sorted) {
    out.push(`## ${e.kind === 'table' ? 'Table' : 'Figure'} ${e.id.replace(/^\D+/, '')}: ${e.title}`, '');
    out.push(`<a id="${anchor(e)}"></a>`, '');
    out.push(e.caption, '');
    if (e.image) out.push(`![${e.title}](${e.image})`, '');
    if (e.chartImage) out.push(`![${e.title}: chart](${e.chartImage})`, '');
    const files = [e.svg && `[SVG](${e.svg})`, e.spec && `[Vega-Lite spec](${e.spec})`, e.csv && `[CSV](${e.csv})`].filter(Boolean);
    if (files.length) out.push(`Files: ${files.join(' · ')}`, '');
    if (e.markdown) out.push(e.markdown.trimEnd(), '');
    out.push(`**Paper:** ${e.paper}`, '');
    if (e.lines.length) {
      for (const l of e.lines) out.push(`- ${l}`);
      out.push('');
    }
    const p = e.provenance;
    out.push(`*Provenance:* profile ${p.profile}; data ${p.dataset}${p.synthetic ? ' (**synthetic**)' : ''}; backend ${p.backend}; seed ${p.seed}; wall time ${fmtSeconds(p.wallSeconds)}.`, '');
  }

  return out.join('\n');
}

function anchor(e: ReportEntry): string {
  return `${e.kind}-${e.id}`;
}

/** Checks a generated report for the defects issue 7 forbids: empty table cells, missing entries. */
export function lintReport(markdown: string, expectedIds: string[]): string[] {
  const problems: string[] = [];
  markdown.split('\n').forEach((line, i) => {
    if (!line.startsWith('|') || /^\|\s*-{3}/.test(line)) return;
    const cells = line.replace(/\\\|/g, '').split('|').slice(1, -1);
    if (cells.some((c) => c.trim() === '')) problems.push(`line ${i + 1}: empty table cell: ${line}`);
  });
  for (const id of expectedIds) if (!markdown.includes(`id="figure-${id}"`) && !markdown.includes(`id="table-${id}"`)) problems.push(`entry ${id} missing`);
  if (/\bNaN\b|undefined/.test(markdown)) problems.push('report contains NaN or undefined');
  return problems;
}

/** Copies REPORT.md and its figures/tables from a report artifact into the repository's reports/ directory. */
export async function publishReport(artifactDir: string, reportsDir: string): Promise<string[]> {
  const copied: string[] = [];
  await fs.mkdir(reportsDir, { recursive: true });
  for (const sub of ['figures', 'tables']) {
    const target = join(reportsDir, sub);
    // Stale figures from an earlier profile would be linked from nowhere and mislead readers.
    await fs.rm(target, { recursive: true, force: true });
    const source = join(artifactDir, sub);
    try {
      await fs.cp(source, target, { recursive: true });
      for (const f of await fs.readdir(target)) copied.push(join(sub, f));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  // Artifact files are read-only and copies keep that mode: replace the last published copy, never write into it.
  await fs.rm(join(reportsDir, 'REPORT.md'), { force: true });
  await fs.copyFile(join(artifactDir, 'REPORT.md'), join(reportsDir, 'REPORT.md'));
  copied.push('REPORT.md');
  return copied;
}
