/**
 * Brings a set of instances up to date: walks the DAG as upstream results
 * arrive, computes each key from its upstreams' actual output digests (so an
 * upstream that reran with identical outputs does not invalidate its
 * dependents), reuses complete artifacts, and hands the rest to the executor
 * at most `slots` at a time, the one with the longest chain of stages after it
 * first (ties in DAG order). A failure skips its descendants only.
 */
import type { Executor, Job, JobOutcome } from './executor.js';
import { type Fingerprint, type Reason, type UpstreamRef } from './fingerprint.js';
import { chainDepths, withDescendants } from './graph.js';
import type { LockEntry } from './lockfile.js';
import { damagedReason, integrityOf, moveAside } from './integrity.js';
import { checkArtifact, fingerprintOf, keyOf, staleReasons } from './plan.js';
import type { Project } from './project.js';

export type InstanceResult =
  | { id: string; kind: string; state: 'cached'; key: string }
  | { id: string; kind: string; state: 'ran'; key: string; reasons: Reason[]; durationMs: number }
  | { id: string; kind: string; state: 'failed'; key: string; reasons: Reason[]; outcome: Exclude<JobOutcome, { status: 'done' }> }
  | { id: string; kind: string; state: 'skipped'; because: string; failedUpstream: string };

export interface RunListener {
  started(id: string, reasons: Reason[]): void;
  finished(result: InstanceResult): void;
  /** A damaged artifact of `id` was moved to `movedTo` before rebuilding it. */
  damaged?(id: string, problems: string[], movedTo: string): void;
}

export interface RunResult {
  results: InstanceResult[];
  /** Lock entries for every instance now up to date. */
  lockEntries: Map<string, LockEntry>;
}

export async function execute(project: Project, ids: string[], forced: ReadonlySet<string>, executor: Executor, listener: RunListener): Promise<RunResult> {
  const { dag, store } = project;
  const selected = new Set(ids);
  const waitingOn = new Map<string, number>();
  for (const id of ids) waitingOn.set(id, [...new Set(Object.values(dag.nodes.get(id)!.deps))].filter((d) => selected.has(d)).length);
  const digests = new Map<string, string>();
  const results = new Map<string, InstanceResult>();
  const lockEntries = new Map<string, LockEntry>();
  const ready = ids.filter((id) => waitingOn.get(id) === 0);
  const depth = chainDepths(dag, ids);
  const queue: { job: Job; reasons: Reason[] }[] = [];
  /** kind/key -> ids waiting for the instance now computing that same key. */
  const claimed = new Map<string, string[]>();
  let running = 0;
  let wake: (() => void) | undefined;

  const release = (id: string): void => {
    for (const next of dag.successors.get(id)!) {
      if (!selected.has(next)) continue;
      const n = waitingOn.get(next)! - 1;
      waitingOn.set(next, n);
      if (n === 0) ready.push(next);
    }
  };
  const record = (r: InstanceResult): void => {
    results.set(r.id, r);
    listener.finished(r);
  };
  const succeed = (id: string, kind: string, key: string, fp: Fingerprint, outputs: Record<string, string>, digest: string): void => {
    digests.set(id, digest);
    lockEntries.set(id, { kind, key, outputsDigest: digest, outputs, fingerprint: fp });
    release(id);
  };

  const resolveReady = (): void => {
    while (ready.length) {
      const id = ready.shift()!;
      const node = dag.nodes.get(id)!;
      const upstream: Record<string, UpstreamRef> = {};
      for (const [local, dep] of Object.entries(node.deps)) {
        const d = digests.get(dep);
        if (d === undefined) throw new Error(`internal: ${id} became ready before ${dep}`);
        upstream[local] = { id: dep, outputsDigest: d };
      }
      const fp = fingerprintOf(project, node, upstream);
      const key = keyOf(project, node, upstream);
      const found = forced.has(id) ? undefined : checkArtifact(project, id, node.kind, key);
      if (found?.state === 'ok') {
        record({ id, kind: node.kind, state: 'cached', key });
        succeed(id, node.kind, key, fp, found.outputs, found.outputsDigest);
        continue;
      }
      // Two instances can share a key (same kind, params and inputs): one computes, the other then finds it cached.
      const slot = `${node.kind}/${key}`;
      const twins = claimed.get(slot);
      if (twins) {
        twins.push(id);
        continue;
      }
      claimed.set(slot, []);
      const up: Job['upstream'] = {};
      for (const [local, dep] of Object.entries(node.deps)) up[local] = { id: dep, kind: dag.nodes.get(dep)!.kind, key: lockEntries.get(dep)!.key };
      let reasons: Reason[];
      if (found?.state === 'damaged') {
        // Kept for inspection, out of the way of the rebuild.
        const movedTo = moveAside(store, id, node.kind, key, found.problems);
        listener.damaged?.(id, found.problems, movedTo);
        reasons = [damagedReason(key, found.problems)];
      } else reasons = staleReasons(project, id, fp, key, forced.has(id));
      queue.push({ job: { id, kind: node.kind, key, module: node.module, params: node.params, fingerprint: fp, upstream: up }, reasons });
    }
  };

  const launch = (job: Job, reasons: Reason[]): void => {
    running += 1;
    listener.started(job.id, reasons);
    void executor.run(job).then(
      (outcome) => finish(job, reasons, outcome),
      (err: unknown) => finish(job, reasons, { status: 'crashed', error: String((err as Error)?.message ?? err), logTail: '' }),
    );
  };

  const finish = (job: Job, reasons: Reason[], outcome: JobOutcome): void => {
    running -= 1;
    const slot = `${job.kind}/${job.key}`;
    ready.push(...(claimed.get(slot) ?? []));
    claimed.delete(slot);
    if (outcome.status === 'done') {
      // The stage's own run time, without waiting for a worker to start.
      integrityOf(project).remember(outcome.meta);
      record({ id: job.id, kind: job.kind, state: 'ran', key: job.key, reasons, durationMs: outcome.meta.durationMs });
      succeed(job.id, job.kind, job.key, job.fingerprint, outcome.meta.outputs, outcome.meta.outputsDigest);
    } else {
      record({ id: job.id, kind: job.kind, state: 'failed', key: job.key, reasons, outcome });
      for (const d of withDescendants(dag, [job.id])) {
        if (d !== job.id && selected.has(d) && !results.has(d)) {
          record({ id: d, kind: dag.nodes.get(d)!.kind, state: 'skipped', because: `upstream ${job.id} failed`, failedUpstream: job.id });
        }
      }
    }
    wake?.();
  };

  for (;;) {
    resolveReady();
    while (running < executor.slots && queue.length) {
      const { job, reasons } = queue.splice(deepest(queue.map((q) => depth.get(q.job.id)!)), 1)[0];
      launch(job, reasons);
    }
    if (running === 0 && queue.length === 0 && ready.length === 0) break;
    await new Promise<void>((res) => (wake = res));
    wake = undefined;
  }
  integrityOf(project).save();
  return { results: ids.map((id) => results.get(id)).filter((r): r is InstanceResult => r !== undefined), lockEntries };
}

/** Index of the first maximum. */
function deepest(depths: number[]): number {
  let best = 0;
  for (let i = 1; i < depths.length; i++) if (depths[i] > depths[best]) best = i;
  return best;
}
