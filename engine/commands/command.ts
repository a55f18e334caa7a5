/** The CLI's command registry: built-in commands and any a pipeline adds. */
import type { PipelineDefinition } from '../project.js';
import type { Output } from '../reporter.js';

export interface CliArgs {
  positionals: string[];
  profile?: string;
  set: string[];
  force: boolean;
  dryRun: boolean;
  json: boolean;
  wait: boolean;
  jobs?: number;
  format?: string;
  /** Rehash every output of the artifacts used, instead of trusting unchanged sizes and times. */
  verify: boolean;
  /** List every skipped instance instead of one line per failure. */
  verbose: boolean;
  /** exp: `dotted.key=v1,v2` axes (run), or a sweep's name (show). */
  sweep: string[];
  /** exp show/diff: globs over metric names. */
  metrics: string[];
  /** exp plot: the swept param on the x axis, the metric globs on y, the output file. */
  x?: string;
  y: string[];
  out?: string;
  /** gc: `all` (default) keeps what recorded experiments reference, `none` does not. */
  experiments?: string;
}

export type Flag = 'profile' | 'set' | 'force' | 'dry-run' | 'json' | 'wait' | 'jobs' | 'format' | 'verify' | 'verbose' | 'sweep' | 'metrics' | 'x' | 'y' | 'out' | 'experiments';

export interface CommandContext {
  def: PipelineDefinition;
  args: CliArgs;
  stdout: Output;
  stderr: Output;
}

export interface Command {
  name: string;
  /** One line for the help text. */
  summary: string;
  /** e.g. `repro [targets...] [--force] [--dry-run] [--json] [-j N]`. */
  usage: string;
  flags: Flag[];
  /** Resolves to the exit status. */
  run(ctx: CommandContext): Promise<number>;
}

/** Flags every command accepts. */
export const COMMON_FLAGS: Flag[] = ['profile', 'set'];
