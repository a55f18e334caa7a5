/**
 * `exp run NAME [--sweep k=v1,v2 ...] [targets]`: brings every variant's targets up to date as one
 * run (one run lock, one executor and its `-j`, each shared instance computed once), then records
 * each variant whose instances all succeeded in experiments/<variant>.json. pipeline.lock.json is
 * left alone: it stays the record of the plain `repro` (the `baseline`).
 */
import { cpus } from 'node:os';
import { describeReason, type Reason } from '../fingerprint.js';
import type { Executor } from '../executor.js';
import { chainDepths } from '../graph.js';
import { diffJson } from '../json.js';
import type { LockEntry } from '../lockfile.js';
import { plan } from '../plan.js';
import { createReporter, type Reporter } from '../reporter.js';
import { acquireRunLock } from '../runlock.js';
import { execute, type InstanceResult, type RunListener } from '../scheduler.js';
import { stoppableRun } from '../stoppable-run.js';
import type { ExecutorFactory } from '../commands/repro.js';
import type { CommandContext } from '../commands/command.js';
import { UserError } from '../errors.js';
import { readArtifactMetrics, type MetricValue } from './metrics.js';
import { sharedExecutor, type SharedExecutor } from './shared-executor.js';
import { checkName, type ExperimentFiles, type ExperimentRecord, type RecordedInstance } from './record.js';
import { parseSweep, sweepVariants } from './sweep.js';
import { gitVersion, sourcesDigest } from './version.js';
import { identities, prepareVariants, type Prepared, type PreparedVariant } from './variants.js';

/** `--force` only lets a run record over an existing experiment; it never recomputes cached artifacts (`repro --force` does). */
const NOT_FORCED: ReadonlySet<string> = new Set();

export function buildRecord(
  v: PreparedVariant,
  prepared: Pick<Prepared, 'profile' | 'profileParams'>,
  req: { sweep?: string; overrides: string[]; targets: string[] },
  entries: ReadonlyMap<string, Pick<LockEntry, 'kind' | 'key' | 'outputsDigest'>>,
  code: ExperimentRecord['code'],
): ExperimentRecord {
  const instances: Record<string, RecordedInstance> = {};
  const metrics: Record<string, MetricValue> = {};
  for (const id of v.ids) {
    const e = entries.get(id);
    if (!e) throw new Error(`internal: ${id} of ${v.name} has no result`);
    instances[id] = { kind: e.kind, key: e.key, outputsDigest: e.outputsDigest };
    Object.assign(metrics, readArtifactMetrics(v.project.store, id, e.kind, e.key));
  }
  return {
    version: 1,
    name: v.name,
    ...(req.sweep !== undefined ? { sweep: req.sweep } : {}),
    ...(prepared.profile !== undefined ? { profile: prepared.profile } : {}),
    overrides: req.overrides,
    assignment: v.assignment,
    targets: req.targets,
    paramsChanged: diffJson(prepared.profileParams, v.project.params),
    createdAt: new Date().toISOString(),
    code,
    instances,
    metrics,
  };
}

function dryRun(ctx: CommandContext, prepared: Prepared): number {
  const seen = new Map<string, string>();
  const rows = prepared.variants.map((v) => {
    const items = plan(v.project, v.ids, NOT_FORCED);
    const ident = identities(v.project, v.ids);
    const stale = [...items.values()].filter((i) => i.state === 'stale');
    const shared: { id: string; with: string }[] = [];
    for (const i of stale) {
      const other = seen.get(ident.get(i.id)!);
      if (other) shared.push({ id: i.id, with: other });
      else seen.set(ident.get(i.id)!, v.name);
    }
    return { variant: v.name, instances: v.ids.length, new: stale.length - shared.length, sharedWithEarlier: shared.length, cached: items.size - stale.length, stale, shared: new Set(shared.map((s) => s.id)) };
  });
  if (ctx.args.json) {
    const out = rows.map(({ stale, shared: _shared, ...r }) => ({ ...r, wouldRun: stale.map((i) => ({ id: i.id, reasons: i.reasons })) }));
    ctx.stdout.write(`${JSON.stringify({ dryRun: true, variants: out, wouldRunInAll: seen.size }, null, 2)}\n`);
    return 0;
  }
  for (const r of rows) {
    ctx.stdout.write(`${r.variant}: ${r.instances} instances: ${r.new} new, ${r.sharedWithEarlier} shared with an earlier variant, ${r.cached} cached\n`);
    const own = r.stale.filter((i) => !r.shared.has(i.id));
    const byKind = new Map<string, number>();
    for (const i of own) byKind.set(i.kind, (byKind.get(i.kind) ?? 0) + 1);
    if (own.length) ctx.stdout.write(`  new: ${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')}\n`);
    // Reasons are against pipeline.lock.json (the baseline's run); --json gives them all.
    if (ctx.args.verbose) for (const i of own) ctx.stdout.write(`  would run ${i.id}  (${i.reasons.map(describeReason).join('; ')})\n`);
  }
  ctx.stdout.write(`${seen.size} instances would run in all, each once\n`);
  return 0;
}

/** What is printed names the variant, when there is more than one: `ratio-0.1: train/...`. */
const shownId = (variant: string, id: string, many: boolean): string => (many ? `${variant}: ${id}` : id);

/**
 * One variant's scheduler, printed through the one reporter: `▶ run` when its job gets a slot of the
 * real executor (not when it is queued), and a job another variant computed as shared with it.
 */
function variantRun(v: PreparedVariant, reporter: Reporter, executor: SharedExecutor, many: boolean): { listener: RunListener; executor: Executor } {
  const reasons = new Map<string, Reason[]>();
  const depth = chainDepths(v.project.dag, v.ids);
  const shown = (id: string): string => shownId(v.name, id, many);
  const listener: RunListener = {
    started: (id, r) => void reasons.set(id, r),
    finished(r: InstanceResult) {
      const from = r.state === 'ran' || r.state === 'failed' ? executor.sharedFrom(v.name, r.kind, r.key) : undefined;
      reporter.finished({ ...r, id: from ? `${shown(r.id)} (shared: computed for ${from})` : shown(r.id) });
    },
  };
  const view = executor.view(v.name, {
    priority: (id) => depth.get(id) ?? 0,
    started: (job) => reporter.started(shown(job.id), reasons.get(job.id) ?? []),
  });
  return { listener, executor: view };
}

export async function runExperiment(ctx: CommandContext, files: ExperimentFiles, makeExecutor: ExecutorFactory): Promise<number> {
  const [name, ...targets] = ctx.args.positionals;
  if (!name) throw new UserError('exp run needs an experiment name: exp run NAME [--sweep k=v1,v2] [--set k=v] [targets...]');
  checkName(name);
  const sweeps = ctx.args.sweep;
  const req = { name, profile: ctx.args.profile, overrides: ctx.args.set, sweeps, targets };
  // Names first: they cost nothing, the params and DAGs of every variant do.
  const taken = sweepVariants(name, sweeps.map(parseSweep)).filter((v) => files.has(v.name)).map((v) => v.name);
  if (taken.length && !ctx.args.force) throw new UserError(`experiment ${taken.join(', ')} already recorded in ${files.dir}; pass --force to record it again (cached artifacts are reused), or pick another name`);
  const prepared = await prepareVariants(ctx.def, req);
  if (ctx.args.dryRun) return dryRun(ctx, prepared);

  const t0 = Date.now();
  const store = prepared.store;
  const lock = await acquireRunLock(store.runLockFile, `exp run ${name}`, {
    wait: ctx.args.wait,
    onWait: (o) => ctx.stderr.write(`waiting for pid ${o.pid} (${o.command}, since ${o.startedAt}) to release ${store.runLockFile}\n`),
  });
  store.clearTmp();
  const reporter = createReporter(ctx.stdout, ctx.args.json ? 'json' : 'auto');
  const jobs = ctx.args.jobs ?? cpus().length;
  const many = prepared.variants.length > 1;
  const settings = {
    root: ctx.def.root,
    artifactsDir: store.dir,
    // Workers and the executor are configured once, from the params without a sweep point.
    params: prepared.baseParams,
    environmentModule: ctx.def.environmentModule,
    jobs,
    events: {
      progress: (id: string, p: Parameters<Reporter['progress']>[1]) => {
        for (const owner of executor.runningOwners(id)) reporter.progress(shownId(owner, id, many), p);
      },
      environment: (w: string, e: Parameters<Reporter['environment']>[1]) => reporter.environment(w, e),
    },
  };
  const executor = sharedExecutor(() => makeExecutor(settings), jobs);
  return stoppableRun({ stderr: ctx.stderr, reporter, executor, lock, onStop: 'finished artifacts are kept, no experiment is recorded' }, async () => {
    const runs = await Promise.all(
      prepared.variants.map((v) => {
        const run = variantRun(v, reporter, executor, many);
        return execute(v.project, v.ids, NOT_FORCED, run.executor, run.listener);
      }),
    );
    reporter.close();
    const code = { ...gitVersion(ctx.def.root), sourcesDigest: sourcesDigest(prepared.variants[0].project) };
    const summary = prepared.variants.map((v, i) => {
      const { results, lockEntries } = runs[i];
      const count = (s: InstanceResult['state']): number => results.filter((r) => r.state === s).length;
      const failed = count('failed') + count('skipped');
      if (failed === 0) files.write(buildRecord(v, prepared, { sweep: many ? name : undefined, overrides: ctx.args.set, targets }, lockEntries, code));
      return { variant: v.name, recorded: failed === 0, ran: count('ran'), cached: count('cached'), failed: count('failed'), skipped: count('skipped') };
    });
    const ms = Date.now() - t0;
    if (ctx.args.json) ctx.stdout.write(`${JSON.stringify({ variants: summary, ranInAll: executor.ran, durationMs: ms }, null, 2)}\n`);
    else {
      for (const s of summary) {
        ctx.stdout.write(`${s.variant}: ${s.ran} ran, ${s.cached} cached, ${s.failed} failed, ${s.skipped} skipped; ${s.recorded ? `recorded in ${files.path(s.variant)}` : 'not recorded'}\n`);
      }
      if (many) ctx.stdout.write(`${executor.ran} instances ran in all, each once (a variant counts as ran what it shared with another) (${(ms / 1000).toFixed(2)} s)\n`);
    }
    return summary.some((s) => !s.recorded) ? 1 : 0;
  });
}
