/**
 * The project's own smoke profile on the local test cluster: the same lock
 * file and artifacts as a local run, and a second run submits nothing. Runs
 * once the pipeline is integrated (stage kinds registered, `executor` in the
 * params schema); until then it skips, saying why, except where CI requires the
 * Slurm tests (SLURM_TESTS_REQUIRED=1): there any failed precondition fails.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { stageModules } from '../../stages/index.js';
import { clusterProblem, clusterRequired, parseSummary, readJson, REPO, submittedJobs } from './helpers.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'pipeline-cli.ts');

function integrationProblem(): string | undefined {
  if (stageModules.length === 0) return 'stages/index.ts registers no stage kinds yet';
  const schema = readJson<{ properties?: Record<string, unknown> }>(join(REPO, 'params.schema.json'));
  if (!schema?.properties?.executor) return 'params.schema.json has no `executor` (merge /tmp/params-fragments/slurm.json)';
  const params = readJson<{ profiles?: Record<string, unknown> }>(join(REPO, 'params.json'));
  if (!params?.profiles?.smoke) return 'params.json has no smoke profile';
  return undefined;
}

const cluster = clusterProblem();
const integration = integrationProblem();
const problem = integration ?? cluster;
const skip = problem !== undefined && !clusterRequired();
if (skip) console.warn(`skipping the Slurm smoke-profile test: ${problem}`);

async function run(scratch: string, ...argv: string[]) {
  const r = await execa(process.execPath, ['--import', 'tsx', CLI, scratch, ...argv], { cwd: REPO, reject: false, timeout: 280_000 });
  return parseSummary({ code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) });
}

interface IndexedArtifact {
  key: string;
  outputs: Record<string, string>;
}

/** instance id -> key and outputs of every complete artifact. */
function artifactIndex(artifacts: string): Record<string, IndexedArtifact> {
  const out: Record<string, IndexedArtifact> = {};
  for (const kind of readdirSync(artifacts).filter((k) => !k.startsWith('.'))) {
    for (const key of readdirSync(join(artifacts, kind))) {
      if (!existsSync(join(artifacts, kind, key, 'meta.json'))) continue;
      const meta = JSON.parse(readFileSync(join(artifacts, kind, key, 'meta.json'), 'utf8')) as { id: string; key: string; outputs: Record<string, string> };
      out[meta.id] = { key: meta.key, outputs: meta.outputs };
    }
  }
  return out;
}

/**
 * The only instances whose files may differ between two runs of the same DAG, and why: they
 * publish a measurement of the run itself. Everything else writes results only (timings go to
 * meta.json, which output digests exclude) and must match byte for byte.
 */
const MEASURING: Record<string, string> = {
  'table/table5': 'Table 5 publishes the defense costs (seconds) measured on this run',
  report: 'the report includes Table 5 and the wall time behind each entry, and its key follows Table 5\'s outputs',
};

interface LockInstance {
  kind: string;
  key: string;
  outputs: Record<string, string>;
  fingerprint: { params: unknown };
}

/** Exact equality for every instance but the MEASURING ones; those must still have the same files and params. */
function expectSameExceptMeasuring<T extends { outputs: Record<string, string> }>(a: Record<string, T>, b: Record<string, T>, same: (x: T) => unknown): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const id of Object.keys(MEASURING)) expect(a, `${id} is named in MEASURING but not in the DAG`).toHaveProperty([id]);
  for (const [id, x] of Object.entries(a)) {
    if (id in MEASURING) {
      expect(Object.keys(x.outputs).sort(), `${id}: same files (contents may differ: ${MEASURING[id]})`).toEqual(Object.keys(b[id].outputs).sort());
      expect(same(x), id).toEqual(same(b[id]));
    } else {
      expect(x, `${id} differs between the runs`).toEqual(b[id]);
    }
  }
}

describe.skipIf(skip)('the smoke profile on Slurm', () => {
  beforeAll(() => {
    if (problem) throw new Error(`SLURM_TESTS_REQUIRED=1 but the Slurm smoke-profile test cannot run: ${problem}`);
  });

  it('gives the same lock file and artifacts as a local run; a second run submits nothing', async () => {
    const local = mkdtempSync(join(tmpdir(), 'slurm-smoke-local-'));
    const slurm = mkdtempSync(join(tmpdir(), 'slurm-smoke-slurm-'));
    const l = await run(local, 'repro', '--json', '--profile', 'smoke', '--executor', 'local');
    expect(l.code, l.err).toBe(0);
    const s = await run(slurm, 'repro', '--json', '--profile', 'smoke', '--executor', 'slurm');
    expect(s.code, s.err).toBe(0);
    expect(s.ran).toEqual(l.ran);
    expect([...submittedJobs(s.err).keys()].sort()).toEqual(s.ran);
    const lock = (dir: string) => readJson<{ instances: Record<string, LockInstance> }>(join(dir, 'pipeline.lock.json'))!.instances;
    expectSameExceptMeasuring(lock(slurm), lock(local), (e) => ({ kind: e.kind, params: e.fingerprint.params }));
    expectSameExceptMeasuring(artifactIndex(join(slurm, 'artifacts')), artifactIndex(join(local, 'artifacts')), () => null);
    const again = await run(slurm, 'repro', '--json', '--profile', 'smoke', '--executor', 'slurm');
    expect(again.code).toBe(0);
    expect(again.ran).toEqual([]);
    expect(again.err).not.toMatch(/submitted job/);
  }, 600_000);
});
