/**
 * The whole DAG of the smoke profile, end to end, through the real CLI in
 * worker processes: every stage kind, every table and figure, REPORT.md; then
 * a second `repro` runs nothing and `status` reports everything up to date.
 * The smoke data are synthetic and seeded, so the results are deterministic:
 * the tests pin what must be true of them (clean accuracy far above chance, a
 * working BadNets backdoor that Flip defeats, a verdict for every claim), not
 * the floats. Last, training, the label-consistent poison and Neural Cleanse
 * are each killed mid-run on the wasm backend and resumed to the same bytes.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../domain/common/npy.js';
import { CLAIM_IDS, type ClaimStatus } from '../../domain/report/claims.js';
import { killAndResume, someCheckpointFile, type ResumeCase } from './kill-resume.js';

const REPO = resolve(import.meta.dirname, '../..');
// TRIGGER_LAB_E2E_SCRATCH keeps the run in a folder of your choice, and keeps it afterwards, so that
// a rerun (e.g. while checking that a deliberately broken stage fails these tests) rebuilds only what
// changed; TRIGGER_LAB_E2E_TARGETS (space-separated) then limits that rerun to some instances.
const kept = process.env.TRIGGER_LAB_E2E_SCRATCH;
const targets = kept ? (process.env.TRIGGER_LAB_E2E_TARGETS ?? '').split(' ').filter(Boolean) : [];
const scratch = kept ?? mkdtempSync(join(tmpdir(), 'trigger-lab-smoke-'));
const env = {
  TRIGGER_LAB_ARTIFACTS: join(scratch, 'artifacts'),
  TRIGGER_LAB_LOCKFILE: join(scratch, 'pipeline.lock.json'),
  TRIGGER_LAB_REPORTS: join(scratch, 'reports'),
};

interface Summary { ran: string[]; cached: string[]; failed: string[]; skipped: string[] }

async function cli(...args: string[]) {
  const r = await execa('npx', ['tsx', 'pipeline.ts', ...args], { cwd: REPO, env, reject: false, timeout: 600_000 });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** The folder of an instance's artifact, through the lock file the run wrote. */
function artifactDir(id: string): string {
  const lock = JSON.parse(readFileSync(env.TRIGGER_LAB_LOCKFILE, 'utf8')) as { instances: Record<string, { key: string }> };
  const entry = lock.instances[id];
  if (!entry) throw new Error(`${id} is not in the lock file (instances: ${Object.keys(lock.instances).length})`);
  return join(env.TRIGGER_LAB_ARTIFACTS, id.split('/')[0], entry.key);
}

const metricsOf = (id: string): Record<string, unknown> => JSON.parse(readFileSync(join(artifactDir(id), 'metrics.json'), 'utf8'));

function summaryOf(stdout: string): Summary {
  const s = JSON.parse(stdout) as Record<string, unknown>;
  const ids = (k: string): string[] => ((s[k] ?? []) as Array<string | { id: string }>).map((x) => (typeof x === 'string' ? x : x.id));
  return { ran: ids('ran'), cached: ids('cached'), failed: ids('failed'), skipped: ids('skipped') };
}

describe('the smoke profile, end to end', () => {
  let first: Awaited<ReturnType<typeof cli>>;
  beforeAll(async () => {
    first = await cli('repro', ...targets, '--profile', 'smoke', '--json', '-j', '2');
  }, 600_000);
  afterAll(() => {
    if (!kept) rmSync(scratch, { recursive: true, force: true });
  });

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

  it('trains models that work: clean accuracy far above chance, a BadNets backdoor far above its clean->target rate, which Flip defeats', async () => {
    const params = JSON.parse((await cli('params', '--json', '--profile', 'smoke')).stdout) as { training: { seeds: number[] }; models: { architectures: string[] } };
    const classes = (JSON.parse(readFileSync(join(artifactDir('data'), 'dataset.json'), 'utf8')) as { classNames: string[] }).classNames.length;
    const chance = 1 / classes;
    const num = (m: Record<string, unknown>, k: string): number => {
      expect(typeof m[k], `${k} is a number in ${JSON.stringify(m).slice(0, 300)}`).toBe('number');
      return m[k] as number;
    };
    expect(params.training.seeds.length).toBeGreaterThan(0);
    for (const arch of params.models.architectures) {
      for (const seed of params.training.seeds) {
        const at = `${arch} seed ${seed}`;
        expect(num(metricsOf(`train/${arch}/benign/seed${seed}`), 'cleanAccuracy'), `${at}: benign clean accuracy vs chance ${chance}`).toBeGreaterThanOrEqual(5 * chance);
        const badnets = metricsOf(`train/${arch}/badnets/standard/seed${seed}`);
        expect(num(badnets, 'cleanAccuracy'), `${at}: BadNets clean accuracy`).toBeGreaterThanOrEqual(4 * chance);
        expect(num(badnets, 'asr'), `${at}: BadNets ASR`).toBeGreaterThanOrEqual(0.9);
        expect(num(badnets, 'asr') - num(badnets, 'targetRateClean'), `${at}: BadNets ASR above its clean->target rate`).toBeGreaterThanOrEqual(0.5);

        // The trigger sits in a corner and is not mirror-symmetric, so a horizontal flip moves it away.
        const mask = await readNpy(join(artifactDir(`train/${arch}/badnets/standard/seed${seed}`), 'trigger_mask.npy'));
        const [h, w, c] = mask.shape;
        const on: Array<[number, number]> = [];
        for (let r = 0; r < h; r++) for (let col = 0; col < w; col++) if (mask.data[(r * w + col) * c] > 0) on.push([r, col]);
        expect(on.length).toBeGreaterThan(0);
        const inCorner = (v: number, side: number) => v < side / 4 || v >= (3 * side) / 4;
        expect(on.every(([r, col]) => inCorner(r, h) && inCorner(col, w)), `${at}: trigger pixels in one corner`).toBe(true);
        expect(on.some(([r, col]) => !(mask.data[(r * w + (w - 1 - col)) * c] > 0)), `${at}: trigger not mirror-symmetric`).toBe(true);

        const none = metricsOf(`evaluate/${arch}/badnets/standard/seed${seed}/none`);
        const flip = metricsOf(`evaluate/${arch}/badnets/standard/seed${seed}/flip`);
        expect(num(none, 'asr'), `${at}: the evaluation without defense agrees with training's final ASR`).toBe(num(badnets, 'asr'));
        expect(num(flip, 'asr'), `${at}: Flip lowers BadNets' ASR`).toBeLessThanOrEqual(num(none, 'asr') - 0.5);
        expect(num(flip, 'cleanAccuracy'), `${at}: Flip keeps clean accuracy`).toBeGreaterThanOrEqual(4 * chance);
      }
    }
  });

  it('judges every claim of the claim list exactly once, with a verdict from the allowed set', () => {
    const seedStatuses = ['holds', 'holds where run', 'does not hold', 'inconclusive', 'not run in this profile'] as const satisfies readonly ClaimStatus[];
    // Over several seeds the report may also call a claim 'mixed' (the judged seeds disagree).
    const allowed = new Set<string>([...seedStatuses, 'mixed']);
    const claims = JSON.parse(readFileSync(join(artifactDir('report'), 'claims.json'), 'utf8')) as Array<{ id: unknown; claim: string; status: string; perSeed?: Array<{ status: string }> }>;
    expect(claims.map((c) => String(c.id))).toEqual(CLAIM_IDS.map(String));
    const md = readFileSync(join(env.TRIGGER_LAB_REPORTS, 'REPORT.md'), 'utf8');
    for (const c of claims) {
      expect(allowed, `claim ${String(c.id)}'s status`).toContain(c.status);
      for (const s of c.perSeed ?? []) expect(seedStatuses as readonly string[], `claim ${String(c.id)}'s per-seed status`).toContain(s.status);
      expect(md, `REPORT.md names claim ${String(c.id)}`).toContain(c.claim);
    }
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

  // Kill-and-resume on the wasm backend, reusing the upstream artifacts built above. Each case is
  // killed as soon as it has written a checkpoint, while work remains; the rerun must resume from
  // that checkpoint (its meta says how much it took from it) and end byte-identical to an
  // uninterrupted run. The slower settings (--set) only give the kill a window to land in.
  const resumeCases: Array<ResumeCase & { title: string }> = [
    {
      title: 'training (killed after its first epoch checkpoint, mid-way through the next epoch)',
      id: 'train/small-cnn/badnets/standard/seed0',
      sets: [],
      checkpointed: (d) => someCheckpointFile(d, (p) => p.endsWith('/LATEST')),
      resumed: (extra) => extra.resumedAt as number,
    },
    {
      title: 'the label-consistent poison (killed after its first PGD chunk)',
      id: 'lc-poison/small-cnn/consistent/seed0',
      // Four-image PGD batches make several chunks; a random start makes each chunk's seed matter.
      sets: ['attacks.definitions.consistent.pgd.batchSize=4', 'attacks.definitions.consistent.pgd.steps=24', 'attacks.definitions.consistent.pgd.randomStart=true'],
      checkpointed: (d) => someCheckpointFile(d, (p) => /\/pgd-\d+-\d+\.npy$/.test(p)),
      resumed: (extra) => extra.resumedChunks as number,
    },
    {
      title: 'Neural Cleanse (killed after its first reversed class)',
      id: 'neural-cleanse/small-cnn/badnets/standard/seed0',
      sets: ['defenses.neuralCleanse.reverse.epochs=20', 'defenses.neuralCleanse.reverse.batchesPerEpoch=2', 'defenses.neuralCleanse.reverse.earlyStop=false'],
      checkpointed: (d) => someCheckpointFile(d, (p) => /\/class_\d+\.json$/.test(p)),
      resumed: (extra) => extra.resumedClasses as number,
    },
  ];
  for (const c of resumeCases) {
    it(`resumes ${c.title} after a SIGKILL, byte-identical to an uninterrupted run`, async () => {
      const o = await killAndResume(env, c);
      console.log(`kill-and-resume ${c.id}: killed after ${o.seconds.killed.toFixed(1)} s, resumed run ${o.seconds.resumed.toFixed(1)} s, uninterrupted run ${o.seconds.uninterrupted.toFixed(1)} s`);
      expect(o.checkpointAtKill.length, 'a checkpoint existed when the run was killed').toBeGreaterThan(0);
      expect(c.resumed(o.resumedExtra), `${c.id} resumed from the checkpoint`).toBeGreaterThanOrEqual(1);
      expect(c.resumed(o.uninterruptedExtra), `${c.id}: the uninterrupted run started from nothing`).toBe(0);
      for (const extra of [o.resumedExtra, o.uninterruptedExtra]) if ('backend' in extra) expect(extra.backend).toBe('wasm');
      expect([...o.resumedFiles.keys()].sort()).toEqual([...o.uninterruptedFiles.keys()].sort());
      expect(o.resumedFiles.size).toBeGreaterThan(0);
      const differing = [...o.uninterruptedFiles].filter(([name, bytes]) => !bytes.equals(o.resumedFiles.get(name)!)).map(([name]) => name);
      expect(differing, 'files that differ between the resumed and the uninterrupted run').toEqual([]);
    }, 600_000);
  }
});
