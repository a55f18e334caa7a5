/**
 * The pipeline's command line: `npx tsx pipeline.ts <command> [args]`
 * (repro, status, dag, params, show, gc, report; `npx tsx pipeline.ts help`).
 * Everything project-specific is in the definition below; the engine is generic.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reproCommand, runCli, type PipelineDefinition } from './engine/index.js';
import { executorFactory, rewriteExecutorFlag, slurmStatusCommand } from './engine/executors/slurm-cli.js';
import { publishingRepro, reportCommand } from './commands/report.js';
import { renderExperimentPlot } from './commands/exp-plot.js';
import { expCommand } from './engine/commands/exp.js';
import { stageModules } from './stages/index.js';

const root = dirname(fileURLToPath(import.meta.url));

export const definition: PipelineDefinition = {
  root,
  paramsFile: 'params.json',
  schemaFile: 'params.schema.json',
  artifactsDir: process.env.TRIGGER_LAB_ARTIFACTS ?? 'artifacts',
  lockFile: process.env.TRIGGER_LAB_LOCKFILE ?? 'pipeline.lock.json',
  // Recorded experiments (`exp run`), meant to be committed like the lock file.
  experimentsDir: process.env.TRIGGER_LAB_EXPERIMENTS ?? 'experiments',
  stageModules,
  // Picks the compute backend once per worker process (compute.backend, or TRIGGER_LAB_BACKEND).
  environmentModule: 'stages/environment.ts',
  // Bounds that depend on the data set (class indices, pixel positions); checked before anything runs.
  paramsCheckModule: 'stages/params-check.ts',
  // Cost model for `repro --dry-run`'s time estimate; not imported by any stage, so not in any cache key.
  estimatorModule: 'stages/estimates.ts',
  // `--executor slurm` runs each instance as a Slurm job; `status` then lists queued and running jobs.
  commands: [publishingRepro(reproCommand(executorFactory())), slurmStatusCommand(), reportCommand, expCommand({ makeExecutor: executorFactory(), renderPlot: renderExperimentPlot })],
};

process.exitCode = await runCli(definition, rewriteExecutorFlag(process.argv.slice(2)));
