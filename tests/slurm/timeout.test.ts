/**
 * On the local test cluster, opt-in because Slurm's smallest time limit is a
 * minute (SLURM_SLOW_TESTS=1, about 90 s): a job past its time limit is
 * reported as TIMEOUT with Slurm's message in the log tail, and its
 * dependents are skipped while the rest of the DAG finishes. CI (.ci/run) sets
 * SLURM_SLOW_TESTS=1: the 90 s are mostly waiting, beside the other test files.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../engine/stage.js';
import { clusterProblem, clusterRequired, slurmExecutorParams, slurmToy, toyParams } from './helpers.js';

const problem = clusterProblem();
const slow = process.env.SLURM_SLOW_TESTS === '1';
const skip = !slow || (problem !== undefined && !clusterRequired());
if (skip) console.warn(`skipping the Slurm time-limit test: ${slow ? problem : 'set SLURM_SLOW_TESTS=1 to run it (about 90 s)'}`);

describe.skipIf(skip)('Slurm executor: a job past its time limit', () => {
  beforeAll(() => {
    if (problem) throw new Error(`SLURM_TESTS_REQUIRED=1 but the cluster is not usable: ${problem}`);
  });

  it('is reported TIMEOUT with Slurm’s message, and its dependents are skipped', async () => {
    const toy = slurmToy();
    const executor = slurmExecutorParams();
    (executor.slurm as JsonObject).kinds = { gen: { time: '1' } };
    // gen/a waits for a file that never comes, so only the time limit ends it.
    toy.writeParams(toyParams({ executor, gen: { a: { value: 1, behaviour: { waitFor: join(toy.root, 'never') } }, b: { value: 2 } } }));
    const s = await toy.repro();
    expect(s.code).toBe(1);
    expect(s.failed).toHaveLength(1);
    expect(s.failed[0]).toMatchObject({ id: 'gen/a', status: 'crashed', error: expect.stringMatching(/^Slurm job \d+ ended TIMEOUT/) });
    expect(s.failed[0].logTail).toMatch(/DUE TO TIME LIMIT/);
    expect(s.skipped.map((x) => x.id).sort()).toEqual(['square/a', 'sum']);
    expect(s.ran).toEqual(['gen/b', 'square/b']);
  }, 240_000);
});
