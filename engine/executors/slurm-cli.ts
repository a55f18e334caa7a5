/**
 * Wiring the Slurm executor into a pipeline's CLI without changing the engine:
 * an executor factory that picks local or Slurm from `params.executor.type`,
 * `--executor NAME` as a shorthand for `--set executor.type=NAME`, and a
 * `status` that also lists the instances queued or running on Slurm.
 */
import type { CliArgs, Command } from '../commands/command.js';
import { statusCommand } from '../commands/inspect.js';
import type { ExecutorFactory } from '../commands/repro.js';
import { UserError } from '../errors.js';
import { LocalExecutor } from '../local-executor.js';
import { resolvePath } from '../project.js';
import type { Output } from '../reporter.js';
import { cliSlurm, TERMINAL_STATES, type SlurmCommands } from './slurm-commands.js';
import { SlurmExecutor, type SlurmExecutorOptions } from './slurm-executor.js';
import { readRecords } from './slurm-records.js';
import { EXECUTOR_TYPES, readExecutorParams } from './slurm-settings.js';

/** Local or Slurm, as `params.executor.type` says (absent: local). */
export function executorFactory(opts: SlurmExecutorOptions = {}): ExecutorFactory {
  return (settings) => {
    const ep = readExecutorParams(settings.params);
    return ep.type === 'slurm' ? new SlurmExecutor(settings, ep.slurm, opts) : new LocalExecutor(settings);
  };
}

/** Rewrites `--executor slurm` / `--executor=slurm` into `--set executor.type=slurm`, the form the engine's CLI parses. */
export function rewriteExecutorFlag(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let value: string | undefined;
    if (a === '--executor') {
      value = argv[++i];
      if (value === undefined) throw new UserError(`--executor needs a value: one of ${EXECUTOR_TYPES.join(', ')}`);
    } else if (a.startsWith('--executor=')) value = a.slice('--executor='.length);
    else {
      out.push(a);
      continue;
    }
    if (!(EXECUTOR_TYPES as string[]).includes(value)) throw new UserError(`--executor ${JSON.stringify(value)}: expected one of ${EXECUTOR_TYPES.join(', ')}`);
    out.push('--set', `executor.type=${value}`);
  }
  return out;
}

export interface SlurmJobRow {
  id: string;
  kind: string;
  key: string;
  jobId: string;
  state: string;
  reason: string;
  nodes: string;
  runId: string;
  submittedAt: string;
}

/** Instances with a recorded Slurm job that squeue still reports as queued or running. */
export async function activeSlurmJobs(artifactsDir: string, commands: SlurmCommands = cliSlurm()): Promise<SlurmJobRow[]> {
  const records = Object.values(readRecords(artifactsDir).jobs);
  if (records.length === 0) return [];
  const states = await commands.query(records.map((r) => r.jobId));
  const rows: SlurmJobRow[] = [];
  for (const r of records) {
    const s = states.get(r.jobId);
    if (!s || TERMINAL_STATES.has(s.state)) continue;
    rows.push({ id: r.id, kind: r.kind, key: r.key, jobId: r.jobId, state: s.state, reason: s.reason, nodes: s.nodes, runId: r.runId, submittedAt: r.submittedAt });
  }
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}

const captureOutput = (): Output & { text: string } => {
  const o = { text: '', isTTY: false, write: (t: string) => void (o.text += t) };
  return o;
};

/** The engine's `status`, followed by the instances queued or running on Slurm with their job ids. */
export function slurmStatusCommand(base: Command = statusCommand, commands?: SlurmCommands): Command {
  return {
    ...base,
    async run(ctx) {
      const args: CliArgs = ctx.args;
      let rows: SlurmJobRow[] = [];
      let slurmError: string | undefined;
      try {
        rows = await activeSlurmJobs(resolvePath(ctx.def, ctx.def.artifactsDir), commands);
      } catch (err) {
        slurmError = (err as Error).message;
      }
      if (args.json) {
        const out = captureOutput();
        const code = await base.run({ ...ctx, stdout: out });
        const parsed = JSON.parse(out.text) as Record<string, unknown>;
        ctx.stdout.write(`${JSON.stringify({ ...parsed, slurm: slurmError ? { error: slurmError } : { active: rows } }, null, 2)}\n`);
        return code;
      }
      const code = await base.run(ctx);
      if (slurmError) ctx.stdout.write(`slurm: cannot list jobs (${slurmError})\n`);
      else if (rows.length) {
        ctx.stdout.write(`${rows.length} instance(s) on Slurm:\n`);
        for (const r of rows) {
          const why = r.reason && r.reason !== 'None' ? ` (${r.reason})` : '';
          ctx.stdout.write(`  ${r.state.padEnd(10)} job ${r.jobId.padEnd(8)} ${r.id}${r.nodes ? `  on ${r.nodes}` : ''}${why}\n`);
        }
      }
      return code;
    },
  };
}
