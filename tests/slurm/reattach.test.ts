/**
 * On the local test cluster: a coordinator killed mid-run leaves its jobs
 * running; `status` lists them with their job ids; a restarted coordinator
 * re-attaches to them instead of submitting them again. Ctrl-C cancels the
 * jobs of the run.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JobRecords } from '../../engine/executors/slurm-records.js';
import {
  clusterProblem,
  clusterRequired,
  parseSummary,
  readJson,
  slurmToy,
  squeueState,
  submittedJobs,
  toyParams,
  waitUntil,
  type SlurmToy,
} from './helpers.js';

const problem = clusterProblem();
const skip = problem !== undefined && !clusterRequired();
if (skip) console.warn(`skipping the Slurm tests: ${problem}`);

/** Both gen instances wait for a gate file inside their Slurm jobs. */
function gatedToy(): { toy: SlurmToy; gateA: string; gateB: string } {
  const toy = slurmToy();
  const gateA = join(toy.root, 'gate-a');
  const gateB = join(toy.root, 'gate-b');
  toy.writeParams(toyParams({ gen: { a: { value: 1, behaviour: { waitFor: gateA } }, b: { value: 2, behaviour: { waitFor: gateB } } } }));
  return { toy, gateA, gateB };
}

const jobIdsByInstance = (toy: SlurmToy): Map<string, string> =>
  new Map(Object.values(readJson<JobRecords>(join(toy.artifacts, '.slurm', 'jobs.json'))?.jobs ?? {}).map((r) => [r.id, r.jobId]));

describe.skipIf(skip)('Slurm executor: coordinator restarts and Ctrl-C', () => {
  beforeAll(() => {
    if (problem) throw new Error(`SLURM_TESTS_REQUIRED=1 but the cluster is not usable: ${problem}`);
  });

  it('re-attaches to running jobs after the coordinator is killed, without submitting them again', async () => {
    const { toy, gateA, gateB } = gatedToy();
    const first = toy.spawn('repro', '--json');
    let jobs: Map<string, string>;
    try {
      await waitUntil('both gen jobs to run', () => existsSync(`${gateA}.started`) && existsSync(`${gateB}.started`), 60_000);
      jobs = jobIdsByInstance(toy);
      expect([...jobs.keys()].sort()).toEqual(['gen/a', 'gen/b']);
    } finally {
      first.kill('SIGKILL');
    }
    const killed = await first;
    expect(killed.signal).toBe('SIGKILL');
    for (const id of jobs.values()) expect(squeueState(id)).toBe('RUNNING');

    const st = await toy.cli('status', '--json');
    expect(st.code, st.err).toBe(0);
    const active = (JSON.parse(st.out) as { slurm: { active: { id: string; jobId: string; state: string }[] } }).slurm.active;
    expect(active.map((a) => [a.id, a.jobId, a.state])).toEqual([
      ['gen/a', jobs.get('gen/a'), 'RUNNING'],
      ['gen/b', jobs.get('gen/b'), 'RUNNING'],
    ]);
    const text = await toy.cli('status');
    expect(text.out).toMatch(new RegExp(`RUNNING\\s+job ${jobs.get('gen/a')}\\s+gen/a`));

    const second = toy.spawn('repro', '--json');
    let err = '';
    second.stderr?.on('data', (c: Buffer) => void (err += c.toString()));
    try {
      await waitUntil('the new coordinator to re-attach to both jobs', () => (err.match(/re-attached to job/g) ?? []).length === 2, 60_000);
    } finally {
      writeFileSync(`${gateA}.go`, '');
      writeFileSync(`${gateB}.go`, '');
    }
    const r = await second;
    const s = parseSummary({ code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) });
    expect(s.code, s.err).toBe(0);
    expect(s.ran).toEqual(['gen/a', 'gen/b', 'square/a', 'square/b', 'sum']);
    expect(s.err).toMatch(new RegExp(`gen/a: re-attached to job ${jobs.get('gen/a')} \\(RUNNING`));
    expect(s.err).toMatch(new RegExp(`gen/b: re-attached to job ${jobs.get('gen/b')} \\(RUNNING`));
    // Each instance was submitted exactly once over both coordinators.
    expect([...submittedJobs(String(killed.stderr)).keys()].sort()).toEqual(['gen/a', 'gen/b']);
    expect([...submittedJobs(s.err).keys()].sort()).toEqual(['square/a', 'square/b', 'sum']);
  }, 150_000);

  it('cancels the jobs of the run on Ctrl-C (SIGINT)', async () => {
    const { toy, gateA, gateB } = gatedToy();
    const child = toy.spawn('repro');
    let jobs: Map<string, string>;
    try {
      await waitUntil('both gen jobs to run', () => existsSync(`${gateA}.started`) && existsSync(`${gateB}.started`), 60_000);
      jobs = jobIdsByInstance(toy);
      child.kill('SIGINT');
      const r = await child;
      expect(r.exitCode, `signal ${String(r.signal)}\n${String(r.stderr)}\n${String(r.stdout)}`).toBe(130);
      expect(String(r.stderr)).toMatch(/cancelling 2 job\(s\)/);
    } finally {
      child.kill('SIGKILL');
      writeFileSync(`${gateA}.go`, '');
      writeFileSync(`${gateB}.go`, '');
    }
    for (const id of jobs.values()) {
      await waitUntil(`job ${id} to be cancelled`, () => {
        const state = squeueState(id);
        return state === undefined || /CANCELLED/.test(state);
      }, 30_000);
    }
    expect(jobIdsByInstance(toy).size).toBe(0);
  }, 120_000);
});
