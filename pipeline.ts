/**
 * The pipeline's command line: `npx tsx pipeline.ts <command> [args]`
 * (repro, status, dag, params, show, gc; `npx tsx pipeline.ts help`).
 * Everything project-specific is in the definition below; the engine is generic.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, type PipelineDefinition } from './engine/index.js';
import { stageModules } from './stages/index.js';

const root = dirname(fileURLToPath(import.meta.url));
/** Picks the compute backend once per worker process; optional until the backend area provides it. */
const ENVIRONMENT_MODULE = 'stages/environment.ts';

export const definition: PipelineDefinition = {
  root,
  paramsFile: 'params.json',
  schemaFile: 'params.schema.json',
  artifactsDir: 'artifacts',
  lockFile: 'pipeline.lock.json',
  stageModules,
  environmentModule: existsSync(`${root}/${ENVIRONMENT_MODULE}`) ? ENVIRONMENT_MODULE : undefined,
};

process.exitCode = await runCli(definition, process.argv.slice(2));
