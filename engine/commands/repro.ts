import { cpus } from 'node:os';
import { withAncestors, resolveTargets } from '../graph.js';
import { writeLock } from '../lockfile.js';
import { describeReason } from '../fingerprint.js';
import { plan } from '../plan.js';
import { integrityOf } from '../integrity.js';
import { loadProject, type Project } from '../project.js';
import { RunProgress } from '../progress.js';
import { createReporter, type Output } from '../reporter.js';
import { acquireRunLock } from '../runlock.js';
import { execute, type InstanceResult } from '../scheduler.js';
import { stoppableRun } from '../stoppable-run.js';
import type { Executor, ExecutorSettings } from '../executor.js';
import type { Command, CommandContext } from './command.js';

/** Builds the executor; a cluster executor can be swapped in by a pipeline. */
export type ExecutorFactory = (settings: ExecutorSettings) => Executor | Promise<Executor>;
/** Imported on demand: execa alone costs ~0.1 s of start-up, which a no-op run should not pay. */
export const localExecutor: ExecutorFactory = async (s) => new (await import('../local-executor.js')).LocalExecutor(s);

/**
 * Creates the real executor when the first job needs it, so that a run with
 * nothing to do never loads process-spawning code. Until then it offers
 * `settings.jobs` slots; afterwards whatever the real executor offers.
 */
function onDemand(factory: ExecutorFactory, settings: ExecutorSettings): Executor {
  let real: Executor | undefined;
  let creating: Promise<Executor> | undefined;
  return {
    get slots() {
      return real?.slots ?? Math.max(1, settings.jobs);
    },
    async run(job) {
      creating ??= Promise.resolve(factory(settings)).then((e) => (real = e));
      return (await creating).run(job);
    },
    async close() {
      if (creating) await (await creating).close();
    },
  };
}

/** The dry run's estimate; the cost model may calibrate itself on this machine first (a short probe, cached). */
async function estimateStale(project: Project, ids: string[]) {
  const { estimateRun, loadCostModel } = await import('../estimate.js');
  const model = await loadCostModel(project.def, project.params, project.store.cacheDir, true);
  if (!model) return null;
  return { ...estimateRun(project.dag, ids, project.params, model.estimate, model.group), calibration: model.calibration };
}

/** Feeds the cost model's per-instance seconds to the progress line, once something runs (a no-op loads no cost model). */
async function feedEstimates(project: Project, ids: string[], progress: RunProgress, stderr: Output): Promise<void> {
  try {
    const { estimateInstances, loadCostModel } = await import('../estimate.js');
    // No probe here: it would compete with the run for the CPU; this run's own speed corrects the model.
    const model = await loadCostModel(project.def, project.params, project.store.cacheDir, false);
    if (model) progress.setEstimates(estimateInstances(project.dag, ids, project.params, model.estimate));
  } catch (err) {
    stderr.write(`(no time estimate for the progress line: ${(err as Error)?.message ?? String(err)})\n`);
  }
}

/** After the totals: how many instances each failure skipped, and each failure's message again, last on screen. */
function failureSummary(results: InstanceResult[], verbose: boolean): { before: string[]; after: string[] } {
  const failed = results.filter((r): r is Extract<InstanceResult, { state: 'failed' }> => r.state === 'failed');
  const before: string[] = [];
  for (const f of failed) {
    const n = results.filter((r) => r.state === 'skipped' && r.failedUpstream === f.id).length;
    if (n > 0 && !verbose) before.push(`${n} instance${n === 1 ? '' : 's'} skipped because \`${f.id}\` failed; \`--verbose\` lists them`);
  }
  const after = failed.map((f) => `✖ ${f.id} ${f.outcome.status}: ${f.outcome.error}`);
  return { before, after };
}

async function dryRun(ctx: CommandContext, project: Project, ids: string[], forced: Set<string>): Promise<number> {
  const items = [...plan(project, ids, forced).values()];
  const stale = items.filter((i) => i.state === 'stale');
  // Only when something would run: the cost model imports domain code that a no-op must not pay for.
  const estimate = stale.length > 0 ? await estimateStale(project, stale.map((i) => i.id)) : null;
  const { describeEstimate } = await import('../estimate.js');
  const jobs = ctx.args.jobs ?? cpus().length;
  if (ctx.args.json) {
    ctx.stdout.write(`${JSON.stringify({ dryRun: true, wouldRun: stale.map((i) => ({ id: i.id, reasons: i.reasons })), upToDate: items.length - stale.length, estimate }, null, 2)}\n`);
    return 0;
  }
  for (const i of stale) ctx.stdout.write(`would run ${i.id}  (${i.reasons.map(describeReason).join('; ')})\n`);
  ctx.stdout.write(`${stale.length} would run, ${items.length - stale.length} up to date\n`);
  if (estimate) for (const line of describeEstimate(estimate, jobs)) ctx.stdout.write(`${line}\n`);
  return 0;
}

function summaryJson(results: InstanceResult[], ms: number): unknown {
  return {
    ran: results.filter((r) => r.state === 'ran').map((r) => ({ id: r.id, key: r.key, reasons: r.state === 'ran' ? r.reasons : [], durationMs: r.state === 'ran' ? r.durationMs : 0 })),
    cached: results.filter((r) => r.state === 'cached').map((r) => r.id),
    failed: results.flatMap((r) => (r.state === 'failed' ? [{ id: r.id, key: r.key, ...r.outcome }] : [])),
    skipped: results.flatMap((r) => (r.state === 'skipped' ? [{ id: r.id, because: r.because }] : [])),
    durationMs: ms,
  };
}

export function reproCommand(makeExecutor: ExecutorFactory = localExecutor): Command {
  return {
    name: 'repro',
    summary: 'bring targets (default: everything) up to date',
    usage: 'repro [targets...] [--force] [--dry-run] [--verify] [--verbose] [--json] [-j N] [--wait]',
    flags: ['force', 'dry-run', 'json', 'jobs', 'wait', 'verify', 'verbose'],
    async run(ctx) {
      const t0 = Date.now();
      const project = await loadProject(ctx.def, { profile: ctx.args.profile, overrides: ctx.args.set });
      const targets = resolveTargets(project.dag, ctx.args.positionals);
      const ids = withAncestors(project.dag, targets);
      const forced = new Set(ctx.args.force ? targets : []);
      // --verify: every output of every artifact used is rehashed, not only those whose size or time changed.
      integrityOf(project).full = ctx.args.verify;
      if (ctx.args.dryRun) return dryRun(ctx, project, ids, forced);

      const lock = await acquireRunLock(project.store.runLockFile, `repro ${ctx.args.positionals.join(' ')}`.trim(), {
        wait: ctx.args.wait,
        onWait: (o) => ctx.stderr.write(`waiting for pid ${o.pid} (${o.command}, since ${o.startedAt}) to release ${project.store.runLockFile}\n`),
      });
      project.store.clearTmp();
      const jobs = ctx.args.jobs ?? cpus().length;
      const progress = new RunProgress(new Map(ids.map((id) => [id, project.dag.nodes.get(id)!.kind])), jobs);
      const reporter = createReporter(ctx.stdout, ctx.args.json ? 'json' : 'auto', { verbose: ctx.args.verbose, progress });
      let estimating: Promise<void> | undefined;
      const executor = onDemand((settings) => {
        estimating ??= feedEstimates(project, ids, progress, ctx.stderr);
        return makeExecutor(settings);
      }, {
        root: ctx.def.root,
        artifactsDir: project.store.dir,
        params: project.params,
        environmentModule: ctx.def.environmentModule,
        jobs,
        events: { progress: (id, p) => reporter.progress(id, p), environment: (w, e) => reporter.environment(w, e) },
      });
      return await stoppableRun({ stderr: ctx.stderr, reporter, executor, lock, onStop: 'finished artifacts are kept' }, async () => {
        const { results, lockEntries } = await execute(project, ids, forced, executor, reporter);
        reporter.close();
        const lockData = project.lock;
        let lockChanged = false;
        for (const [id, entry] of lockEntries) {
          const prev = lockData.instances[id];
          // Equal keys mean equal fingerprints, so only the key and outputs can differ.
          if (!prev || prev.key !== entry.key || prev.outputsDigest !== entry.outputsDigest || prev.kind !== entry.kind) lockChanged = true;
          lockData.instances[id] = entry;
        }
        for (const id of Object.keys(lockData.instances)) {
          if (!project.dag.nodes.has(id)) {
            delete lockData.instances[id];
            lockChanged = true;
          }
        }
        if (lockChanged) writeLock(project.lockPath, lockData);
        const count = (s: InstanceResult['state']): number => results.filter((r) => r.state === s).length;
        const ms = Date.now() - t0;
        if (ctx.args.json) ctx.stdout.write(`${JSON.stringify(summaryJson(results, ms), null, 2)}\n`);
        else {
          const { before, after } = failureSummary(results, ctx.args.verbose);
          for (const line of before) ctx.stdout.write(`${line}\n`);
          ctx.stdout.write(`${count('ran')} ran, ${count('cached')} cached, ${count('failed')} failed, ${count('skipped')} skipped (${(ms / 1000).toFixed(2)} s)\n`);
          for (const line of after) ctx.stdout.write(`${line}\n`);
        }
        return count('failed') > 0 ? 1 : 0;
      });
    },
  };
}
