/**
 * `exp`: named experiments and sweeps over any param, recorded in `<experiments>/NAME.json`, and
 * compared through their metrics (see engine/experiments/).
 *   exp run NAME [--sweep k=v1,v2 ...] [--set k=v ...] [targets...] [-j N] [--dry-run] [--force]
 *   exp show [NAMES...|--sweep NAME] [--metrics GLOB] [--format table|md|csv|json]
 *   exp diff A B [--metrics GLOB] [--format ...]
 *   exp plot NAME --x PARAM --y METRIC-GLOB [--out FILE.svg]
 *   exp remove NAME...
 * `baseline` names the plain repro of a profile, resolved from the cache.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { UserError } from '../errors.js';
import { resolvePath, type PipelineDefinition } from '../project.js';
import { ArtifactStore } from '../store.js';
import type { Cell } from '../experiments/format.js';
import { ExperimentFiles } from '../experiments/record.js';
import type { Command, CommandContext, Flag } from './command.js';
import { localExecutor, type ExecutorFactory } from './repro.js';

/** Draws a Vega-Lite spec; a pipeline supplies it (the engine has no plotting library). */
export type PlotRenderer = (spec: Record<string, unknown>) => Promise<{ svg: string; png?: Buffer }>;

export interface ExpOptions {
  makeExecutor?: ExecutorFactory;
  renderPlot?: PlotRenderer;
}

export const experimentsDir = (def: PipelineDefinition): string => resolvePath(def, def.experimentsDir ?? 'experiments');

const SUBCOMMANDS: Record<string, Flag[]> = {
  run: ['sweep', 'force', 'dry-run', 'json', 'jobs', 'wait', 'verbose'],
  show: ['sweep', 'metrics', 'format'],
  diff: ['metrics', 'format'],
  plot: ['x', 'y', 'out'],
  remove: [],
};

const USAGE = 'exp run|show|diff|plot|remove ... (exp --help)';

function checkFlags(ctx: CommandContext, sub: string): void {
  const allowed = new Set<Flag>(['profile', 'set', ...SUBCOMMANDS[sub]]);
  const given: [Flag, boolean][] = [
    ['sweep', ctx.args.sweep.length > 0],
    ['metrics', ctx.args.metrics.length > 0],
    ['x', ctx.args.x !== undefined],
    ['y', ctx.args.y.length > 0],
    ['out', ctx.args.out !== undefined],
    ['format', ctx.args.format !== undefined],
    ['force', ctx.args.force],
    ['dry-run', ctx.args.dryRun],
    ['json', ctx.args.json],
    ['jobs', ctx.args.jobs !== undefined],
    ['wait', ctx.args.wait],
    ['verbose', ctx.args.verbose],
  ];
  for (const [flag, on] of given) if (on && !allowed.has(flag)) throw new UserError(`exp ${sub} does not take --${flag}`);
  if (sub !== 'run' && ctx.args.set.length > 0) throw new UserError(`exp ${sub} does not take --set (it reads recorded experiments)`);
}

async function show(ctx: CommandContext, files: ExperimentFiles, names: string[]): Promise<number> {
  const { checkFormat, renderRows } = await import('../experiments/format.js');
  const { resolveExperiments, showTable } = await import('../experiments/compare.js');
  const format = checkFormat(ctx.args.format);
  const records = await resolveExperiments(ctx.def, files, names, ctx.args.sweep, ctx.args.profile);
  if (records.length === 0) {
    ctx.stdout.write(`no experiment recorded in ${files.dir} (exp run NAME ...)\n`);
    return 0;
  }
  const t = showTable(records, ctx.args.metrics, format === 'table' || format === 'md');
  if (t.prefix) ctx.stdout.write(`metrics of ${t.prefix}...\n`);
  ctx.stdout.write(renderRows(t.headers, t.rows, format));
  return 0;
}

async function diff(ctx: CommandContext, files: ExperimentFiles, names: string[]): Promise<number> {
  if (names.length !== 2) throw new UserError('exp diff needs two experiments: exp diff A B (either may be baseline)');
  const { checkFormat, renderRows } = await import('../experiments/format.js');
  const { describeReasons, diffExperiments, resolveExperiments } = await import('../experiments/compare.js');
  const format = checkFormat(ctx.args.format);
  const [a, b] = await resolveExperiments(ctx.def, files, names, [], ctx.args.profile);
  const d = diffExperiments(a, b, ctx.args.metrics, new ArtifactStore(resolvePath(ctx.def, ctx.def.artifactsDir)));
  if (format === 'json') {
    ctx.stdout.write(`${JSON.stringify({ a: a.name, b: b.name, ...d }, null, 2)}\n`);
    return 0;
  }
  const rows: Cell[][] = d.metrics.map((m) => [m.metric, m.a, m.b, m.delta]);
  ctx.stdout.write(`${d.metrics.length} metrics differ between ${a.name} (A) and ${b.name} (B)\n`);
  if (rows.length) ctx.stdout.write(renderRows(['metric', 'A', 'B', 'Δ (B-A)'], rows, format));
  if (d.onlyA.length || d.onlyB.length) ctx.stdout.write(`${d.onlyA.length} metrics only in ${a.name}, ${d.onlyB.length} only in ${b.name} (instances only one of them has)\n`);
  ctx.stdout.write(`\n${d.instances.length} instances differ\n`);
  if (d.instances.length) ctx.stdout.write(renderRows(['instance', 'why', 'key A', 'key B'], d.instances.map((i) => [i.id, describeReasons(i.reasons), i.keyA.slice(0, 12), i.keyB.slice(0, 12)]), format));
  if (d.instancesOnlyA.length || d.instancesOnlyB.length) ctx.stdout.write(`${d.instancesOnlyA.length} instances only in ${a.name}, ${d.instancesOnlyB.length} only in ${b.name}\n`);
  return 0;
}

async function plot(ctx: CommandContext, files: ExperimentFiles, names: string[], render: PlotRenderer | undefined): Promise<number> {
  if (names.length !== 1) throw new UserError('exp plot needs one sweep name: exp plot NAME --x PARAM --y METRIC-GLOB');
  if (!ctx.args.x) throw new UserError('exp plot needs --x PARAM, the swept param on the x axis');
  if (!render) throw new UserError('this pipeline registers no plot renderer for exp plot');
  const [name] = names;
  const { resolveExperiments } = await import('../experiments/compare.js');
  const records = await resolveExperiments(ctx.def, files, [], [name], undefined);
  const { plotPoints, plotSpec } = await import('../experiments/plot-spec.js');
  const points = plotPoints(records, ctx.args.x, ctx.args.y);
  const spec = plotSpec(points, ctx.args.x, `sweep ${name}`);
  const out = ctx.args.out ? resolvePath(ctx.def, ctx.args.out) : join(files.dir, 'plots', `${name}.svg`);
  if (!out.endsWith('.svg')) throw new UserError(`--out ${ctx.args.out}: expected a .svg path (a .png and the .vl.json spec are written beside it)`);
  const { svg, png } = await render(spec);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, svg);
  if (png) writeFileSync(out.replace(/\.svg$/, '.png'), png);
  writeFileSync(out.replace(/\.svg$/, '.vl.json'), `${JSON.stringify(spec, null, 2)}\n`);
  const series = new Set(points.map((p) => p.series)).size;
  ctx.stdout.write(`wrote ${relative(process.cwd(), out)}${png ? ' (and .png)' : ''}: ${series} series over ${records.length} experiments\n`);
  return 0;
}

export function expCommand(options: ExpOptions = {}): Command {
  return {
    name: 'exp',
    summary: 'named experiments and sweeps: run, show, diff, plot, remove',
    usage: 'exp run NAME [--sweep k=v1,v2]... [targets] | show [NAMES|--sweep NAME] [--metrics GLOB] | diff A B | plot NAME --x P --y GLOB | remove NAME',
    flags: ['sweep', 'metrics', 'format', 'x', 'y', 'out', 'force', 'dry-run', 'json', 'jobs', 'wait', 'verbose'],
    async run(ctx) {
      const [sub, ...rest] = ctx.args.positionals;
      if (!sub || !(sub in SUBCOMMANDS)) throw new UserError(`exp: ${sub ? `unknown subcommand ${JSON.stringify(sub)}` : 'no subcommand'}; expected one of ${Object.keys(SUBCOMMANDS).join(', ')}\nusage: ${USAGE}`);
      checkFlags(ctx, sub);
      const files = new ExperimentFiles(experimentsDir(ctx.def));
      const sub_ctx = { ...ctx, args: { ...ctx.args, positionals: rest } };
      switch (sub) {
        case 'run': {
          const { runExperiment } = await import('../experiments/run.js');
          return runExperiment(sub_ctx, files, options.makeExecutor ?? localExecutor);
        }
        case 'show':
          return show(sub_ctx, files, rest);
        case 'diff':
          return diff(sub_ctx, files, rest);
        case 'plot':
          return plot(sub_ctx, files, rest, options.renderPlot);
        default: {
          if (rest.length === 0) throw new UserError('exp remove needs the names of the experiments to forget');
          for (const n of rest) files.read(n);
          for (const n of rest) {
            files.remove(n);
            ctx.stdout.write(`removed experiment ${n} (${relative(process.cwd(), files.path(n))}); its artifacts stay until gc\n`);
          }
          return 0;
        }
      }
    },
  };
}
