/** The engine's public surface for pipeline.ts and for other executors. */
export { runCli, builtinCommands, type CliIo } from './cli.js';
export type { Command, CommandContext, CliArgs } from './commands/command.js';
export { reproCommand, localExecutor, type ExecutorFactory } from './commands/repro.js';
export type { PipelineDefinition, Project } from './project.js';
export { loadProject } from './project.js';
export type { Executor, ExecutorSettings, Job, JobOutcome } from './executor.js';
export { UserError } from './errors.js';
export type * from './stage.js';
