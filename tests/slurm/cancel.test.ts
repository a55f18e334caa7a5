/**
 * On the local test cluster: a job cancelled from outside (scancel) is
 * reported as cancelled with its log tail, its dependents are skipped while
 * independent instances finish, and a later repro submits it again; a stage
 * that throws and a worker that dies are told apart.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JobRecords } from '../../engine/executors/slurm-records.js';
import { clusterProblem, clusterRequired, parseSummary, readJson, slurmToy, submittedJobs, toyParams, waitUntil } from './helpers.js';

const problem = clusterProblem();
const skip = problem !== undefined && !clusterRequired();
if (skip) console.warn(`skipping the Slurm tests: ${problem}`);

describe.skipIf(skip)('Slurm executor: jobs that end badly', () => {
  beforeAll(() => {
    if (problem) throw new Error(`SLURM_TESTS_REQUIRED=1 but the cluster is not usable: ${problem}`);
  });

  it('is reported cancelled, its dependents are skipped, and a later repro resubmits it', async () => {
    const toy = slurmToy();
    const gate = join(toy.root, 'gate-a');
    toy.writeParams(toyParams({ gen: { a: { value: 1, behaviour: { waitFor: gate } }, b: { value: 2 } } }));
    const child = toy.spawn('repro', '--json');
    try {
      await waitUntil('gen/a to start running in its Slurm job', () => existsSync(`${gate}.started`), 60_000);
      const records = readJson<JobRecords>(join(toy.artifacts, '.slurm', 'jobs.json'));
      const jobId = Object.values(records?.jobs ?? {}).find((r) => r.id === 'gen/a')?.jobId;
      expect(jobId, JSON.stringify(records)).toMatch(/^\d+$/);
      execFileSync('scancel', [jobId!]);
      const r = await child;
      const s = parseSummary({ code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) });
      expect(s.code).toBe(1);
      expect(s.failed.map((f) => f.id)).toEqual(['gen/a']);
      expect(s.failed[0].status).toBe('crashed');
      expect(s.failed[0].error).toMatch(new RegExp(`Slurm job ${jobId} ended CANCELLED`));
      // The stage's own log shows how far it got.
      expect(s.failed[0].logTail).toMatch(/gen\/a \(key/);
      expect(s.skipped.map((x) => x.id).sort()).toEqual(['square/a', 'sum']);
      expect(s.ran).toEqual(['gen/b', 'square/b']);
      expect(s.err).toMatch(new RegExp(`gen/a: job ${jobId} (\\S+ -> )?CANCELLED`));
    } finally {
      child.kill('SIGKILL');
    }

    writeFileSync(`${gate}.go`, '');
    const again = await toy.repro();
    expect(again.code, again.err).toBe(0);
    expect(again.ran).toEqual(['gen/a', 'square/a', 'sum']);
    expect(again.cached).toEqual(['gen/b', 'square/b']);
    expect([...submittedJobs(again.err).keys()].sort()).toEqual(['gen/a', 'square/a', 'sum']);
    // The resubmitted job found the checkpoint its cancelled attempt left.
    const genKey = readdirSync(join(toy.artifacts, 'gen')).find((k) => readJson<{ id: string }>(join(toy.artifacts, 'gen', k, 'meta.json'))?.id === 'gen/a');
    expect(readJson<{ extra: { resumed: boolean } }>(join(toy.artifacts, 'gen', genKey!, 'meta.json'))?.extra.resumed).toBe(true);
  }, 120_000);

  it('reports a stage that throws as failed and a worker that dies as crashed, with log tails', async () => {
    const toy = slurmToy(toyParams({ gen: { a: { value: 1, behaviour: { fail: true } }, b: { value: 2, behaviour: { crash: true } } } }));
    const s = await toy.repro();
    expect(s.code).toBe(1);
    const byId = new Map(s.failed.map((f) => [f.id, f]));
    expect(byId.get('gen/a')?.status).toBe('failed');
    expect(byId.get('gen/a')?.error).toBe('gen/a was told to fail');
    expect(byId.get('gen/a')?.logTail).toMatch(/FAILED/);
    expect(byId.get('gen/b')?.status).toBe('crashed');
    expect(byId.get('gen/b')?.error).toMatch(/^Slurm job \d+ ended FAILED/);
    expect(byId.get('gen/b')?.logTail).toMatch(/gen\/b \(key/);
    expect(s.skipped.map((x) => x.id).sort()).toEqual(['square/a', 'square/b', 'sum']);
    // Failed jobs leave no record: the next repro submits them again.
    expect(readJson<JobRecords>(join(toy.artifacts, '.slurm', 'jobs.json'))?.jobs).toEqual({});
  }, 120_000);
});
