/**
 * The pipeline's own CLI commands around the report: `report` copies the
 * cached REPORT.md and its figures and tables into reports/, and `repro` is
 * wrapped so that a run that brings the report up to date publishes it too.
 * Nothing is regenerated here: the report stage builds everything from the
 * artifacts, so reports/ can never show a result the cache does not hold.
 */
import { resolve } from 'node:path';
import { loadProject, type Command, type CommandContext } from '../engine/index.js';
import { plan } from '../engine/plan.js';
import { withAncestors } from '../engine/graph.js';
import { publishReport } from '../domain/report/report.js';
import { REPORT_ID } from '../stages/report.js';

/** Where `report` publishes; tests point it at a temporary directory. */
const REPORTS_DIR = process.env.TRIGGER_LAB_REPORTS ?? 'reports';

/** Copies the cached report of the current params into reports/; returns false, saying why, when it is stale. */
async function publishCached(ctx: CommandContext, quietWhenStale: boolean): Promise<boolean> {
  const project = await loadProject(ctx.def, { profile: ctx.args.profile, overrides: ctx.args.set });
  if (!project.dag.nodes.has(REPORT_ID)) return false;
  const item = plan(project, withAncestors(project.dag, [REPORT_ID]), new Set()).get(REPORT_ID)!;
  if (item.state !== 'fresh' || !item.key) {
    if (!quietWhenStale) {
      ctx.stderr.write(`the report of profile '${project.profile ?? 'base'}' is not up to date; run: npx tsx pipeline.ts repro report${ctx.args.profile ? ` --profile ${ctx.args.profile}` : ''}\n`);
    }
    return false;
  }
  const dir = project.store.artifactDir(item.kind, item.key);
  const copied = await publishReport(dir, resolve(ctx.def.root, REPORTS_DIR));
  (ctx.args.json ? ctx.stderr : ctx.stdout).write(`published ${copied.length} files of the ${project.profile ?? 'base'} report to ${REPORTS_DIR}/ (REPORT.md, ${copied.length - 1} figures and tables)\n`);
  return true;
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'copy the cached REPORT.md, figures and tables of the current params into reports/',
  usage: 'report',
  flags: [],
  async run(ctx) {
    return (await publishCached(ctx, false)) ? 0 : 1;
  },
};

/** `repro`, then publish the report when the run left it up to date (dry runs publish nothing). */
export function publishingRepro(repro: Command): Command {
  return {
    ...repro,
    async run(ctx) {
      const status = await repro.run(ctx);
      if (status === 0 && !ctx.args.dryRun) await publishCached(ctx, true);
      return status;
    },
  };
}
