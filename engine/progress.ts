/**
 * The whole run's progress: instances done out of the total, time elapsed, and time left.
 * Time left starts from the pipeline's cost model (seconds per instance) and is corrected by
 * the speed this run measures: per kind, the ratio of measured to estimated seconds of the
 * instances that finished (all kinds' ratio for a kind with none finished yet).
 */
import type { InstanceResult } from './scheduler.js';

interface Measured {
  actual: number;
  estimated: number;
}

export const formatDuration = (s: number): string => {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;
};

export class RunProgress {
  private readonly startedAt: number;
  private readonly running = new Map<string, number>();
  private readonly done = new Set<string>();
  private estimates = new Map<string, number>();
  private readonly byKind = new Map<string, Measured>();
  /** Mean measured seconds of kinds the cost model has no figure for. */
  private readonly unestimated = new Map<string, { seconds: number; count: number }>();

  constructor(
    private readonly kinds: ReadonlyMap<string, string>,
    private readonly jobs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  get total(): number {
    return this.kinds.size;
  }

  /** The cost model's seconds per instance (instances it has no figure for are left out). */
  setEstimates(estimates: Map<string, number>): void {
    this.estimates = estimates;
  }

  started(id: string): void {
    this.running.set(id, this.now());
  }

  finished(r: InstanceResult): void {
    this.running.delete(r.id);
    this.done.add(r.id);
    if (r.state !== 'ran') return;
    const seconds = r.durationMs / 1000;
    const est = this.estimates.get(r.id);
    if (est !== undefined && est > 0) {
      const m = this.byKind.get(r.kind) ?? { actual: 0, estimated: 0 };
      m.actual += seconds;
      m.estimated += est;
      this.byKind.set(r.kind, m);
    } else if (est === undefined) {
      const u = this.unestimated.get(r.kind) ?? { seconds: 0, count: 0 };
      u.seconds += seconds;
      u.count += 1;
      this.unestimated.set(r.kind, u);
    }
  }

  /** Measured / estimated seconds over every finished instance with an estimate; undefined before any. */
  overallCorrection(): number | undefined {
    let actual = 0;
    let estimated = 0;
    for (const m of this.byKind.values()) {
      actual += m.actual;
      estimated += m.estimated;
    }
    return estimated > 0 ? actual / estimated : undefined;
  }

  /** Seconds of wall time left, or undefined when neither the cost model nor this run says anything yet. */
  secondsLeft(): number | undefined {
    const overall = this.overallCorrection() ?? 1;
    let work = 0;
    // With a cost model, an instance it has no figure for counts 0 s (as in the dry run) until its kind is measured.
    let known = this.estimates.size > 0;
    const t = this.now();
    for (const [id, kind] of this.kinds) {
      if (this.done.has(id)) continue;
      const est = this.estimates.get(id);
      let seconds: number | undefined;
      if (est !== undefined) {
        const m = this.byKind.get(kind);
        seconds = est * (m ? m.actual / m.estimated : overall);
      } else {
        const u = this.unestimated.get(kind);
        if (u) seconds = u.seconds / u.count;
      }
      if (seconds === undefined) continue;
      known = true;
      const since = this.running.get(id);
      work += since === undefined ? seconds : Math.max(0, seconds - (t - since) / 1000);
    }
    if (!known) return undefined;
    // Ignores waits on dependencies: a lower bound when few instances can run at once.
    return work / Math.max(1, Math.min(this.jobs, this.total - this.done.size));
  }

  line(): string {
    const elapsed = (this.now() - this.startedAt) / 1000;
    const left = this.secondsLeft();
    const correction = this.overallCorrection();
    const basis = correction === undefined ? 'cost model' : `cost model × ${correction.toFixed(2)}, as measured in this run`;
    const leftText = left === undefined ? 'time left unknown' : `about ${formatDuration(left)} left (${basis})`;
    return `${this.done.size}/${this.total} done, ${this.running.size} running · ${formatDuration(elapsed)} elapsed · ${leftText}`;
  }
}
