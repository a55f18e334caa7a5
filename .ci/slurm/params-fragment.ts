/**
 * Prints the Slurm executor's params fragment for the integrator:
 * `npx tsx .ci/slurm/params-fragment.ts > /tmp/params-fragments/slurm.json`.
 * The schema comes from the code that reads the settings, so the two agree.
 */
import { EXECUTOR_PARAMS_SCHEMA } from '../../engine/executors/slurm-settings.js';

const fragment = {
  $comment:
    'executor: where stage instances run. No stage reads it, so it is in no cache key. `repro --executor slurm` is rewritten to `--set executor.type=slurm` by pipeline.ts (rewriteExecutorFlag). Resources per stage kind under executor.slurm.kinds override executor.slurm.defaults field by field.',
  params: {
    executor: {
      type: 'local',
      slurm: {
        pollIntervalMs: 2000,
        maxSubmitted: 200,
        visibilityTimeoutMs: 60000,
        controllerTimeoutMs: 300000,
        logTailLines: 25,
        jobNamePrefix: 'tl',
        defaults: { cpus: 1, memoryMB: 4000, gpus: 0, time: '04:00:00', partition: '', extraArgs: [] },
        kinds: { train: { cpus: 2, memoryMB: 8000, time: '24:00:00' } },
      },
    },
  },
  schema: { executor: EXECUTOR_PARAMS_SCHEMA },
  // The one-node CI cluster: small jobs, fast polling, no GPUs.
  smoke: { executor: { slurm: { pollIntervalMs: 500, visibilityTimeoutMs: 10000, defaults: { memoryMB: 1000, time: '15' }, kinds: { train: { cpus: 1, memoryMB: 2000, time: '30' } } } } },
  quick: { executor: { slurm: { kinds: { train: { cpus: 2, memoryMB: 8000, time: '12:00:00' } } } } },
  // The paper trains on GPUs: one per training and per GPU-heavy analysis.
  paper: {
    executor: {
      slurm: {
        defaults: { cpus: 2, memoryMB: 8000, time: '04:00:00' },
        kinds: {
          train: { cpus: 4, memoryMB: 16000, gpus: 1, time: '24:00:00' },
          'fine-pruning': { cpus: 4, memoryMB: 16000, gpus: 1, time: '08:00:00' },
          'neural-cleanse': { cpus: 4, memoryMB: 16000, gpus: 1, time: '08:00:00' },
          autoencoder: { cpus: 4, memoryMB: 16000, gpus: 1, time: '08:00:00' },
          'lc-poison': { cpus: 4, memoryMB: 16000, gpus: 1, time: '08:00:00' },
          uap: { cpus: 4, memoryMB: 16000, gpus: 1, time: '04:00:00' },
          evaluate: { cpus: 2, memoryMB: 8000, gpus: 1, time: '01:00:00' },
        },
      },
    },
  },
};

process.stdout.write(`${JSON.stringify(fragment, null, 2)}\n`);
