/**
 * On the local test cluster: a Slurm run produces the same artifacts and lock
 * file as a local run, and a second run submits nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { clusterProblem, clusterRequired, readJson, slurmToy, submittedJobs, toyParams } from './helpers.js';

const problem = clusterProblem();
const skip = problem !== undefined && !clusterRequired();
if (skip) console.warn(`skipping the Slurm tests: ${problem}`);

/** kind/key -> output digests of every complete artifact. */
function artifactIndex(artifacts: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kind of readdirSync(artifacts).filter((k) => !k.startsWith('.'))) {
    for (const key of readdirSync(join(artifacts, kind))) {
      const meta = JSON.parse(readFileSync(join(artifacts, kind, key, 'meta.json'), 'utf8')) as { outputs: unknown; id: string };
      out[`${kind}/${key}`] = { id: meta.id, outputs: meta.outputs };
    }
  }
  return out;
}

describe.skipIf(skip)('Slurm executor on the local cluster', () => {
  beforeAll(() => {
    if (problem) throw new Error(`SLURM_TESTS_REQUIRED=1 but the cluster is not usable: ${problem}`);
  });

  it('gives the same artifacts and lock file as a local run, and a second run submits nothing', async () => {
    const local = slurmToy(toyParams());
    const slurm = slurmToy(toyParams());

    const l = await local.repro('--executor', 'local');
    expect(l.code).toBe(0);
    expect(l.err).not.toMatch(/\[slurm\]/);
    const s = await slurm.repro('--executor', 'slurm');
    expect(s.code, s.err).toBe(0);
    expect(s.ran).toEqual(['gen/a', 'gen/b', 'square/a', 'square/b', 'sum']);
    const submitted = submittedJobs(s.err);
    expect([...submitted.keys()].sort()).toEqual(s.ran);
    for (const ids of submitted.values()) expect(ids).toHaveLength(1);
    // Job names carry the run id and the instance id.
    expect(s.err).toMatch(/submitted job \d+ \(tl-[0-9]{12}-[0-9a-f]{4}-square\/a\)/);

    expect(readJson(join(slurm.root, 'pipeline.lock.json'))).toEqual(readJson(join(local.root, 'pipeline.lock.json')));
    expect(artifactIndex(slurm.artifacts)).toEqual(artifactIndex(local.artifacts));
    expect(readFileSync(join(slurm.artifacts, 'sum', readdirSync(join(slurm.artifacts, 'sum'))[0], 'nested', 'sum.txt'), 'utf8')).toBe('30\n');
    // Nothing is left to re-attach to.
    expect(readJson<{ jobs: object }>(join(slurm.artifacts, '.slurm', 'jobs.json'))?.jobs).toEqual({});

    const again = await slurm.repro('--executor', 'slurm');
    expect(again.code).toBe(0);
    expect(again.ran).toEqual([]);
    expect(again.cached).toEqual(['gen/a', 'gen/b', 'square/a', 'square/b', 'sum']);
    expect(again.err).not.toMatch(/submitted/);

    const st = await slurm.cli('status', '--json');
    expect(st.code).toBe(0);
    const status = JSON.parse(st.out) as { stale: unknown[]; slurm: { active: unknown[] } };
    expect(status.stale).toEqual([]);
    expect(status.slurm.active).toEqual([]);
  }, 120_000);
});
