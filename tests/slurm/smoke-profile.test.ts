/**
 * The project's own smoke profile on the local test cluster: the same lock
 * file and artifacts as a local run, and a second run submits nothing. Runs
 * once the pipeline is integrated (stage kinds registered, `executor` in the
 * params schema); until then it skips, saying why.
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
const skip = integration !== undefined || (cluster !== undefined && !clusterRequired());
if (skip) console.warn(`skipping the Slurm smoke-profile test: ${integration ?? cluster}`);

async function run(scratch: string, ...argv: string[]) {
  const r = await execa(process.execPath, ['--import', 'tsx', CLI, scratch, ...argv], { cwd: REPO, reject: false, timeout: 280_000 });
  return parseSummary({ code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) });
}

/** kind/key -> outputs of every complete artifact. */
function artifactIndex(artifacts: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kind of readdirSync(artifacts).filter((k) => !k.startsWith('.'))) {
    for (const key of readdirSync(join(artifacts, kind))) {
      if (!existsSync(join(artifacts, kind, key, 'meta.json'))) continue;
      out[`${kind}/${key}`] = (JSON.parse(readFileSync(join(artifacts, kind, key, 'meta.json'), 'utf8')) as { outputs: unknown }).outputs;
    }
  }
  return out;
}

describe.skipIf(skip)('the smoke profile on Slurm', () => {
  beforeAll(() => {
    if (cluster) throw new Error(`SLURM_TESTS_REQUIRED=1 but the cluster is not usable: ${cluster}`);
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
    expect(readJson(join(slurm, 'pipeline.lock.json'))).toEqual(readJson(join(local, 'pipeline.lock.json')));
    expect(artifactIndex(join(slurm, 'artifacts'))).toEqual(artifactIndex(join(local, 'artifacts')));
    const again = await run(slurm, 'repro', '--json', '--profile', 'smoke', '--executor', 'slurm');
    expect(again.code).toBe(0);
    expect(again.ran).toEqual([]);
    expect(again.err).not.toMatch(/submitted job/);
  }, 600_000);
});
