/**
 * The whole DAG of the smoke profile, end to end, through the real CLI in
 * worker processes: every stage kind, every table and figure, REPORT.md; then
 * a second `repro` runs nothing and `status` reports everything up to date.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'trigger-lab-smoke-'));
const env = {
  TRIGGER_LAB_ARTIFACTS: join(scratch, 'artifacts'),
  TRIGGER_LAB_LOCKFILE: join(scratch, 'pipeline.lock.json'),
  TRIGGER_LAB_REPORTS: join(scratch, 'reports'),
};

interface Summary { ran: string[]; cached: string[]; failed: string[]; skipped: string[] }

async function cli(...args: string[]) {
  const r = await execa('npx', ['tsx', 'pipeline.ts', ...args], { cwd: REPO, env, reject: false, timeout: 300_000 });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function summaryOf(stdout: string): Summary {
  const s = JSON.parse(stdout) as Record<string, unknown>;
  const ids = (k: string): string[] => ((s[k] ?? []) as Array<string | { id: string }>).map((x) => (typeof x === 'string' ? x : x.id));
  return { ran: ids('ran'), cached: ids('cached'), failed: ids('failed'), skipped: ids('skipped') };
}

describe('the smoke profile, end to end', () => {
  let first: Awaited<ReturnType<typeof cli>>;
  beforeAll(async () => {
    first = await cli('repro', '--profile', 'smoke', '--json', '-j', '2');
  }, 300_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('runs every instance of every stage kind without a failure', async () => {
    expect(first.code, first.stderr.slice(-3000)).toBe(0);
    const s = summaryOf(first.stdout);
    expect(s.failed).toEqual([]);
    expect(s.skipped).toEqual([]);
    const kinds = new Set(s.ran.map((id) => id.split('/')[0]));
    for (const kind of ['data', 'train', 'lc-poison', 'uap', 'autoencoder', 'evaluate', 'fine-pruning', 'neural-cleanse', 'sensitivity', 'saliency', 'cdrp', 'physical', 'figure', 'table', 'report']) {
      expect(kinds, `stage kind ${kind} ran`).toContain(kind);
    }
  });

  it('publishes REPORT.md with every table and figure, no empty cell, and valid SVG and PNG files', () => {
    const reports = env.TRIGGER_LAB_REPORTS;
    const md = readFileSync(join(reports, 'REPORT.md'), 'utf8');
    expect(md).toMatch(/^# /);
    expect(md).toContain('synthetic');
    for (const t of ['table1', 'table2', 'table3', 'table4', 'table5', 'table6']) expect(md).toContain(`id="table-${t}"`);
    for (const f of ['fig2', 'fig3', 'fig5', 'fig6', 'fig8', 'fig12', 'fig13']) expect(md).toContain(`id="figure-${f}"`);
    for (const line of md.split('\n').filter((l) => l.startsWith('|') && !/^\|\s*-{3}/.test(l))) {
      expect(line.split('|').slice(1, -1).every((c) => c.trim() !== ''), `empty cell in: ${line}`).toBe(true);
    }
    expect(md).not.toMatch(/\bNaN\b|undefined/);
    const figures = readdirSync(join(reports, 'figures'));
    const pngs = figures.filter((f) => f.endsWith('.png'));
    const svgs = figures.filter((f) => f.endsWith('.svg'));
    expect(pngs.length).toBeGreaterThanOrEqual(7);
    expect(svgs.length).toBeGreaterThanOrEqual(5);
    for (const f of pngs) {
      const b = readFileSync(join(reports, 'figures', f));
      expect(b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), f).toBe(true);
      expect(b.readUInt32BE(16), `${f} width`).toBeGreaterThan(50);
      expect(b.readUInt32BE(20), `${f} height`).toBeGreaterThan(50);
    }
    for (const f of svgs) expect(readFileSync(join(reports, 'figures', f), 'utf8')).toMatch(/<svg[\s>]/);
    // Every image the report links to exists.
    for (const m of md.matchAll(/\]\(((?:figures|tables)\/[^)]+)\)/g)) expect(figures.concat(readdirSync(join(reports, 'tables')).map((t) => t)).some((f) => m[1].endsWith(f)), m[1]).toBe(true);
  });

  it('runs nothing on a second repro, and status says everything is up to date', async () => {
    const again = await cli('repro', '--profile', 'smoke', '--json');
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    const s = summaryOf(again.stdout);
    expect(s.ran).toEqual([]);
    expect(s.cached.length).toBe(summaryOf(first.stdout).ran.length);
    const status = await cli('status', '--profile', 'smoke');
    expect(status.stdout).toMatch(/all \d+ instances up to date/);
  });

  it('plans to rerun only the evaluations of a new ShrinkPad size and the figures, tables and report that gather them', async () => {
    const params = JSON.parse((await cli('params', '--json', '--profile', 'smoke')).stdout) as { defenses: { transformSets: Array<{ defenses: unknown[] }> } };
    const sets = params.defenses.transformSets;
    sets[0].defenses.push({ type: 'shrinkpad', size: 3 });
    const dry = await cli('repro', '--profile', 'smoke', '--json', '--dry-run', '--set', `defenses.transformSets=${JSON.stringify(sets)}`);
    expect(dry.code, dry.stderr.slice(-2000)).toBe(0);
    const wouldRun = (JSON.parse(dry.stdout) as { wouldRun: Array<{ id: string }> }).wouldRun.map((w) => w.id);
    expect(wouldRun.filter((id) => id.startsWith('evaluate/')).every((id) => id.endsWith('/shrinkpad-3'))).toBe(true);
    expect(wouldRun.some((id) => id.startsWith('evaluate/'))).toBe(true);
    const kinds = new Set(wouldRun.map((id) => id.split('/')[0]));
    for (const k of kinds) expect(['evaluate', 'figure', 'table', 'report']).toContain(k);
  });
});
