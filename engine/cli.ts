/**
 * `runCli(definition, argv)`: parses the command line, dispatches to a
 * registered command, and turns user mistakes into one clear message
 * (exit 2) instead of a stack trace.
 */
import { parseArgs } from 'node:util';
import { UserError } from './errors.js';
import type { CliArgs, Command, Flag } from './commands/command.js';
import { COMMON_FLAGS } from './commands/command.js';
import { reproCommand } from './commands/repro.js';
import { dagCommand, paramsCommand, showCommand, statusCommand } from './commands/inspect.js';
import { gcCommand } from './commands/gc.js';
import { verifyCommand } from './commands/verify.js';
import { expCommand } from './commands/exp.js';
import type { PipelineDefinition } from './project.js';
import type { Output } from './reporter.js';

export interface CliIo {
  stdout: Output;
  stderr: Output;
}

const processIo = (): CliIo => ({
  stdout: { write: (t) => void process.stdout.write(t), isTTY: Boolean(process.stdout.isTTY) },
  stderr: { write: (t) => void process.stderr.write(t), isTTY: Boolean(process.stderr.isTTY) },
});

export const builtinCommands = (): Command[] => [reproCommand(), statusCommand, verifyCommand, dagCommand, paramsCommand, showCommand, gcCommand, expCommand()];

const OPTIONS = {
  profile: { type: 'string' },
  set: { type: 'string', multiple: true },
  force: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  wait: { type: 'boolean' },
  jobs: { type: 'string', short: 'j' },
  format: { type: 'string' },
  verify: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  sweep: { type: 'string', multiple: true },
  metrics: { type: 'string', multiple: true },
  x: { type: 'string' },
  y: { type: 'string', multiple: true },
  out: { type: 'string' },
  experiments: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(commands: Command[]): string {
  const lines = ['usage: pipeline <command> [args] [--profile NAME] [--set dotted.key=value ...]', '', 'commands:'];
  // A pipeline's command replaces a built-in one of the same name (see runCli): list each name once, in
  // the place of its first definition, with the text of the one that runs.
  const shown = [...new Set(commands.map((c) => c.name))].map((name) => [...commands].reverse().find((c) => c.name === name)!);
  for (const c of shown) lines.push(`  ${c.usage.padEnd(68)} ${c.summary}`);
  return `${lines.join('\n')}\n`;
}

export function parseCli(argv: string[], command: Command): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UserError(`${(err as Error).message}\nusage: ${command.usage}`);
  }
  const v = parsed.values;
  const allowed = new Set<Flag>([...COMMON_FLAGS, ...command.flags]);
  for (const flag of Object.keys(v) as (Flag | 'help')[]) {
    if (flag !== 'help' && !allowed.has(flag)) throw new UserError(`${command.name} does not take --${flag}\nusage: ${command.usage}`);
  }
  let jobs: number | undefined;
  if (v.jobs !== undefined) {
    jobs = Number(v.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new UserError(`-j ${JSON.stringify(v.jobs)}: expected a whole number of parallel jobs >= 1`);
  }
  return {
    positionals: parsed.positionals,
    profile: v.profile,
    set: v.set ?? [],
    force: v.force ?? false,
    dryRun: v['dry-run'] ?? false,
    json: v.json ?? false,
    wait: v.wait ?? false,
    jobs,
    format: v.format,
    verify: v.verify ?? false,
    verbose: v.verbose ?? false,
    sweep: v.sweep ?? [],
    metrics: v.metrics ?? [],
    x: v.x,
    y: v.y ?? [],
    out: v.out,
    experiments: v.experiments,
  };
}

/** Runs one CLI invocation; resolves to the exit status (0 ok, 1 a stage failed, 2 bad input). */
export async function runCli(def: PipelineDefinition, argv: string[], io: CliIo = processIo()): Promise<number> {
  const commands = [...builtinCommands(), ...(def.commands ?? [])];
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage(commands));
    return name ? 0 : 2;
  }
  const command = [...commands].reverse().find((c) => c.name === name);
  try {
    if (!command) {
      const { closest } = await import('fastest-levenshtein');
      throw new UserError(`unknown command ${JSON.stringify(name)} (did you mean ${closest(name, commands.map((c) => c.name))}?)\n${usage(commands)}`);
    }
    const args = parseCli(rest, command);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(`usage: ${command.usage}\n${command.summary}\n`);
      return 0;
    }
    return await command.run({ def, args, stdout: io.stdout, stderr: io.stderr });
  } catch (err) {
    if (err instanceof UserError) {
      io.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 3;
  }
}
