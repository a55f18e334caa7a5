/**
 * The Slurm executor's logic against a fake cluster (no Slurm needed): state
 * changes, jobs Slurm kills, re-attachment, lost contact, cancellation; and
 * its settings, flag rewriting and output parsing.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import type { ExecutorSettings, Job, JobOutcome } from '../../engine/executor.js';
import { rewriteExecutorFlag } from '../../engine/executors/slurm-cli.js';
import { parseSbatch, parseSqueue, type SlurmCommands, type SlurmJobState } from '../../engine/executors/slurm-commands.js';
import { jobName, SlurmExecutor } from '../../engine/executors/slurm-executor.js';
import { instanceDir, readRecords, writeRecords } from '../../engine/executors/slurm-records.js';
import { EXECUTOR_PARAMS_SCHEMA, readExecutorParams, resourceArgs, resourcesFor, type SlurmSettings } from '../../engine/executors/slurm-settings.js';
import type { Progress } from '../../engine/stage.js';
import { waitUntil } from './helpers.js';

/** A scripted cluster: tests set each job's state by hand. */
class FakeSlurm implements SlurmCommands {
  next = 100;
  readonly submissions: { args: string[]; script: string; jobId: string }[] = [];
  readonly states = new Map<string, string>();
  readonly cancelled: string[] = [];
  queryError?: Error;
  pingError?: Error;

  async submit(args: string[], script: string): Promise<string> {
    const jobId = String(this.next++);
    this.submissions.push({ args, script, jobId });
    this.states.set(jobId, 'PENDING');
    return jobId;
  }
  async query(ids: string[]): Promise<Map<string, SlurmJobState>> {
    if (this.queryError) throw this.queryError;
    const out = new Map<string, SlurmJobState>();
    for (const id of ids) {
      const state = this.states.get(id);
      if (state) out.set(id, { jobId: id, state, reason: state === 'PENDING' ? 'Resources' : 'None', nodes: state === 'RUNNING' ? 'n1' : '' });
    }
    return out;
  }
  async cancel(ids: string[]): Promise<void> {
    for (const id of ids) this.states.set(id, 'CANCELLED');
    this.cancelled.push(...ids);
  }
  async ping(): Promise<void> {
    if (this.pingError) throw this.pingError;
  }
}

const job = (id: string, key: string): Job => ({
  id,
  kind: 'gen',
  key,
  module: 'stages/gen.ts',
  params: { value: 1 },
  fingerprint: { kind: 'gen', sources: {}, packages: {}, params: { value: 1 }, upstream: {} },
  upstream: {},
});

function setup(overrides: Partial<SlurmSettings> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'slurm-unit-'));
  const artifactsDir = join(root, 'artifacts');
  const progress: [string, Progress][] = [];
  const lines: string[] = [];
  const settings: ExecutorSettings = {
    root,
    artifactsDir,
    params: {},
    jobs: 1,
    events: { progress: (id, p) => void progress.push([id, p]), environment: () => undefined },
  };
  const base = readExecutorParams({ executor: { type: 'slurm', slurm: { pollIntervalMs: 200, visibilityTimeoutMs: 600, controllerTimeoutMs: 1000 } } }).slurm;
  const fake = new FakeSlurm();
  const make = (): SlurmExecutor => new SlurmExecutor(settings, { ...base, ...overrides }, { commands: fake, log: (l) => void lines.push(l), runId: 'run1' });
  /** What a worker leaves when its stage succeeded: the artifact and a result file. */
  const complete = (j: Job): void => {
    const dir = join(artifactsDir, j.kind, j.key);
    mkdirSync(dir, { recursive: true });
    const meta = { id: j.id, kind: j.kind, key: j.key, outputs: { 'value.txt': 'abc' }, outputsDigest: 'd1' };
    writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
    writeFileSync(join(instanceDir(artifactsDir, j.kind, j.key), 'result.json'), JSON.stringify({ status: 'done', meta }));
  };
  return { root, artifactsDir, fake, make, complete, progress, lines };
}

describe('SlurmExecutor against a fake cluster', () => {
  it('submits with the kind’s resources and a job name carrying run and instance id, reports state changes, and finishes done', async () => {
    const t = setup({ kinds: { gen: { cpus: 4, gpus: 1, partition: 'gpu' } } });
    const ex = t.make();
    const j = job('gen/a', 'k1');
    const outcome = ex.run(j);
    await waitUntil('the submission', () => t.fake.submissions.length === 1, 5000);
    const { args, jobId } = t.fake.submissions[0];
    expect(args).toEqual(expect.arrayContaining(['--job-name', 'tl-run1-gen/a', '--cpus-per-task=4', '--gres=gpu:1', '--partition=gpu', '--mem=4000M', '--time=04:00:00']));
    expect(args).toContain(join(instanceDir(t.artifactsDir, 'gen', 'k1'), 'slurm-%j.out'));
    expect(readRecords(t.artifactsDir).jobs['gen/k1']).toMatchObject({ jobId, id: 'gen/a', runId: 'run1' });
    await waitUntil('PENDING to be seen', () => t.lines.some((l) => l.includes(`job ${jobId} PENDING (Resources)`)), 5000);
    t.fake.states.set(jobId, 'RUNNING');
    await waitUntil('RUNNING to be seen', () => t.lines.some((l) => l.includes(`job ${jobId} PENDING -> RUNNING on n1`)), 5000);
    expect(t.progress.some(([id, p]) => id === 'gen/a' && p.message === `slurm job ${jobId} RUNNING on n1`)).toBe(true);
    t.complete(j);
    t.fake.states.set(jobId, 'COMPLETED');
    const o = await outcome;
    expect(o.status).toBe('done');
    expect(readRecords(t.artifactsDir).jobs).toEqual({});
    await ex.close();
    expect(t.fake.cancelled).toEqual([]);
  });

  it.each(['TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'])('reports a job Slurm ended %s as crashed with its log tail, and forgets it', async (state) => {
    const t = setup();
    const ex = t.make();
    const j = job('gen/a', 'k1');
    const outcome = ex.run(j);
    await waitUntil('the submission', () => t.fake.submissions.length === 1, 5000);
    const { jobId } = t.fake.submissions[0];
    writeFileSync(join(instanceDir(t.artifactsDir, 'gen', 'k1'), `slurm-${jobId}.out`), `slurmstepd: error: *** JOB ${jobId} ON n1 ${state} ***\n`);
    t.fake.states.set(jobId, state);
    const o = (await outcome) as Extract<JobOutcome, { status: 'crashed' }>;
    expect(o.status).toBe('crashed');
    expect(o.error).toBe(`Slurm job ${jobId} ended ${state}`);
    expect(o.logTail).toContain(`JOB ${jobId} ON n1 ${state}`);
    expect(readRecords(t.artifactsDir).jobs).toEqual({});
    await ex.close();
  });

  it('re-attaches to a recorded job that is still running instead of submitting, and resubmits one that ended', async () => {
    const t = setup();
    const running = job('gen/a', 'k1');
    const ended = job('gen/b', 'k2');
    const rec = (j: Job, jobId: string) => ({ jobId, id: j.id, kind: j.kind, key: j.key, runId: 'old', jobName: 'x', submittedAt: '2026-01-01T00:00:00Z' });
    writeRecords(t.artifactsDir, { version: 1, jobs: { 'gen/k1': rec(running, '7'), 'gen/k2': rec(ended, '8') } });
    mkdirSync(instanceDir(t.artifactsDir, 'gen', 'k1'), { recursive: true });
    t.fake.states.set('7', 'RUNNING');
    t.fake.states.set('8', 'TIMEOUT');
    const ex = t.make();
    const a = ex.run(running);
    const b = ex.run(ended);
    await waitUntil('gen/b to be resubmitted', () => t.fake.submissions.length === 1, 5000);
    expect(t.lines).toContain('[slurm] gen/a: re-attached to job 7 (RUNNING, submitted by run old)');
    expect(t.fake.submissions[0].args).toContain('tl-run1-gen/b');
    t.complete(running);
    t.fake.states.set('7', 'COMPLETED');
    expect((await a).status).toBe('done');
    t.fake.states.set(t.fake.submissions[0].jobId, 'CANCELLED');
    expect((await b).status).toBe('crashed');
    expect(t.fake.submissions).toHaveLength(1);
    await ex.close();
  });

  it('takes the artifact of a job killed after installing it (before writing its result) as done', async () => {
    const t = setup();
    const ex = t.make();
    const j = job('gen/a', 'k1');
    const outcome = ex.run(j);
    await waitUntil('the submission', () => t.fake.submissions.length === 1, 5000);
    t.complete(j);
    writeFileSync(join(instanceDir(t.artifactsDir, 'gen', 'k1'), 'result.json'), '');
    t.fake.states.set(t.fake.submissions[0].jobId, 'TIMEOUT');
    expect((await outcome).status).toBe('done');
  });

  it('does not submit again when it cannot ask Slurm about a recorded job', async () => {
    const t = setup();
    writeRecords(t.artifactsDir, { version: 1, jobs: { 'gen/k1': { jobId: '7', id: 'gen/a', kind: 'gen', key: 'k1', runId: 'old', jobName: 'x', submittedAt: '2026-01-01T00:00:00Z' } } });
    t.fake.queryError = new Error('Socket timed out');
    const o = await t.make().run(job('gen/a', 'k1'));
    expect(o).toMatchObject({ status: 'crashed', error: 'cannot ask Slurm about job 7, recorded for this instance: Socket timed out' });
    expect(t.fake.submissions).toEqual([]);
  });

  it('gives jobs up when squeue keeps failing, keeping their records for a later re-attach', async () => {
    const t = setup();
    const ex = t.make();
    const outcome = ex.run(job('gen/a', 'k1'));
    await waitUntil('the submission', () => t.fake.submissions.length === 1, 5000);
    t.fake.queryError = new Error('Unable to contact slurm controller');
    const o = (await outcome) as Extract<JobOutcome, { status: 'crashed' }>;
    expect(o.error).toMatch(/^lost contact with Slurm for \d+ s while job 100 was/);
    expect(t.lines.some((l) => l.includes('cannot poll job states, retrying: Unable to contact slurm controller'))).toBe(true);
    expect(Object.keys(readRecords(t.artifactsDir).jobs)).toEqual(['gen/k1']);
    await ex.close();
  });

  it('fails every job with the reason when the cluster does not answer, submitting nothing', async () => {
    const t = setup();
    t.fake.pingError = new Error('the Slurm cluster does not answer (sinfo: Unable to contact slurm controller)');
    const o = await t.make().run(job('gen/a', 'k1'));
    expect(o).toMatchObject({ status: 'crashed', error: t.fake.pingError.message });
    expect(t.fake.submissions).toEqual([]);
  });

  it('treats a job squeue no longer lists, with no artifact, as crashed', async () => {
    const t = setup();
    const ex = t.make();
    const outcome = ex.run(job('gen/a', 'k1'));
    await waitUntil('the submission', () => t.fake.submissions.length === 1, 5000);
    t.fake.states.delete('100');
    const o = (await outcome) as Extract<JobOutcome, { status: 'crashed' }>;
    expect(o.error).toMatch(/^Slurm job 100 is no longer known to squeue and left no artifact/);
  });

  it('on close, drops records of jobs that ended unwatched and keeps those still running', async () => {
    const t = setup();
    const rec = (id: string, key: string, jobId: string) => ({ jobId, id, kind: 'gen', key, runId: 'old', jobName: 'x', submittedAt: '2026-01-01T00:00:00Z' });
    writeRecords(t.artifactsDir, { version: 1, jobs: { 'gen/k1': rec('gen/a', 'k1', '9'), 'gen/k2': rec('gen/b', 'k2', '10'), 'gen/k3': rec('gen/c', 'k3', '11') } });
    t.fake.states.set('9', 'COMPLETED');
    t.fake.states.set('10', 'RUNNING');
    await t.make().close();
    expect(Object.keys(readRecords(t.artifactsDir).jobs)).toEqual(['gen/k2']);
    expect(t.fake.cancelled).toEqual([]);
  });

  it('submits one job at a time when many instances become ready together', async () => {
    const t = setup();
    let inFlight = 0;
    let most = 0;
    const submit = t.fake.submit.bind(t.fake);
    t.fake.submit = async (args, script) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight -= 1;
      return submit(args, script);
    };
    const ex = t.make();
    const outcomes = ['a', 'b', 'c', 'd', 'e'].map((n) => ex.run(job(`gen/${n}`, `k${n}`)));
    await waitUntil('five submissions', () => t.fake.submissions.length === 5, 5000);
    expect(most).toBe(1);
    await ex.close();
    await Promise.all(outcomes);
  });

  it('cancels the jobs still queued or running on close (Ctrl-C)', async () => {
    const t = setup();
    const ex = t.make();
    const outcomes = [ex.run(job('gen/a', 'k1')), ex.run(job('gen/b', 'k2'))];
    await waitUntil('both submissions', () => t.fake.submissions.length === 2, 5000);
    await ex.close();
    expect(t.fake.cancelled.sort()).toEqual(['100', '101']);
    for (const o of await Promise.all(outcomes)) expect(o).toMatchObject({ status: 'crashed', error: expect.stringMatching(/cancelled by the coordinator/) });
    expect(readRecords(t.artifactsDir).jobs).toEqual({});
  });
});

describe('Slurm executor settings', () => {
  it('defaults to the local executor and fills in Slurm defaults', () => {
    expect(readExecutorParams({}).type).toBe('local');
    const s = readExecutorParams({ executor: { type: 'slurm', slurm: { defaults: { cpus: 2 }, kinds: { train: { gpus: 1, time: '1-00:00:00' } } } } }).slurm;
    expect(resourcesFor(s, 'train')).toEqual({ cpus: 2, memoryMB: 4000, gpus: 1, time: '1-00:00:00', partition: '', extraArgs: [] });
    expect(resourceArgs(resourcesFor(s, 'evaluate'))).toEqual(['--cpus-per-task=2', '--mem=4000M', '--time=04:00:00']);
    expect(resourceArgs({ ...resourcesFor(s, 'train'), partition: 'gpu', extraArgs: ['--qos=short'] })).toEqual([
      '--cpus-per-task=2',
      '--mem=4000M',
      '--time=1-00:00:00',
      '--gres=gpu:1',
      '--partition=gpu',
      '--qos=short',
    ]);
  });

  it.each([
    [{ type: 'pbs' }, 'executor.type is "pbs": expected one of "local", "slurm"'],
    [{ slurm: { defaults: { cpus: 0 } } }, 'executor.slurm.defaults.cpus is 0: expected a whole number >= 1'],
    [{ slurm: { kinds: { train: { time: 'soon' } } } }, 'executor.slurm.kinds.train.time is "soon": expected a Slurm time limit'],
    [{ slurm: { defaults: { extraArgs: ['qos=short'] } } }, 'executor.slurm.defaults.extraArgs is ["qos=short"]: expected a list of sbatch options, each starting with "-"'],
    [{ slurm: { pollMs: 5 } }, 'executor.slurm.pollMs: unknown setting; allowed: pollIntervalMs'],
    [{ slurm: { defaults: { gpu: 1 } } }, 'executor.slurm.defaults.gpu: unknown resource "gpu"; allowed: cpus, memoryMB, gpus'],
  ])('rejects %j naming the bad value and what is allowed', (executor, message) => {
    expect(() => readExecutorParams({ executor })).toThrow(message);
  });

  it('has a JSON Schema that accepts good settings and rejects bad ones', () => {
    const validate = new Ajv({ strict: true, allErrors: true }).compile(EXECUTOR_PARAMS_SCHEMA);
    expect(validate({ type: 'slurm', slurm: { pollIntervalMs: 1000, kinds: { train: { gpus: 1, time: '12:00:00', extraArgs: ['--qos=gpu'] } } } })).toBe(true);
    expect(validate({ type: 'slurm', slurm: { kinds: { train: { time: 'soon' } } } })).toBe(false);
    expect(validate({ type: 'condor' })).toBe(false);
    expect(validate({ type: 'slurm', slurm: { defaults: { cpus: 1 } } })).toBe(false);
  });
});

describe('Slurm command line helpers', () => {
  it('rewrites --executor into a params override', () => {
    expect(rewriteExecutorFlag(['repro', '--executor', 'slurm', 'sum'])).toEqual(['repro', '--set', 'executor.type=slurm', 'sum']);
    expect(rewriteExecutorFlag(['repro', '--executor=local'])).toEqual(['repro', '--set', 'executor.type=local']);
    expect(() => rewriteExecutorFlag(['repro', '--executor', 'pbs'])).toThrow('--executor "pbs": expected one of local, slurm');
    expect(() => rewriteExecutorFlag(['repro', '--executor'])).toThrow('--executor needs a value');
  });

  it('parses sbatch and squeue output', () => {
    expect(parseSbatch('1234\n')).toBe('1234');
    expect(parseSbatch('1234;cluster\n')).toBe('1234');
    expect(() => parseSbatch('sbatch: error: Batch job submission failed')).toThrow('not a job id');
    const states = parseSqueue('5|RUNNING|None|n1\n6|PENDING|Resources|\n');
    expect(states.get('5')).toEqual({ jobId: '5', state: 'RUNNING', reason: 'None', nodes: 'n1' });
    expect(states.get('6')).toEqual({ jobId: '6', state: 'PENDING', reason: 'Resources', nodes: '' });
  });

  it('builds job names from prefix, run id and instance id, replacing odd characters', () => {
    expect(jobName('tl', '261126-ab12', 'train/resnet20/badnets/standard/seed0')).toBe('tl-261126-ab12-train/resnet20/badnets/standard/seed0');
    expect(jobName('tl', 'r', 'a b"c')).toBe('tl-r-a_b_c');
  });
});
