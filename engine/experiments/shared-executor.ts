/**
 * One executor behind several schedulers: the sweep's variants each walk their own DAG (so every
 * instance keeps its own id, which stages may read and which is part of a key), while this wrapper
 * makes them one run: at most `slots` jobs at a time over all variants (the real executor's slots:
 * `-j`, or a Slurm executor's limit), the waiting job with the longest chain of stages after it
 * first (as the scheduler orders one DAG), and a job whose kind/key another variant already started
 * or finished is not run again but shares that outcome, since the store is keyed by content.
 */
import type { Executor, Job, JobOutcome } from '../executor.js';

/** What one variant's scheduler sees. */
export interface VariantHooks {
  /** Longer chains after a job start first. */
  priority(id: string): number;
  /** The job got a slot of the real executor (not called for a job shared with another variant). */
  started(job: Job): void;
}

export interface SharedExecutor {
  /** How many jobs were handed to the real executor (each shared key counts once). */
  readonly ran: number;
  /** The executor one variant's scheduler runs its jobs through. */
  view(owner: string, hooks: VariantHooks): Executor;
  /** The owners whose job with this id holds a slot now (progress events carry only the id). */
  runningOwners(id: string): string[];
  /** The variant whose run of this kind/key `owner`'s job shared, if it shared one. */
  sharedFrom(owner: string, kind: string, key: string): string | undefined;
  close(): Promise<void>;
}

/** `create` is called when the first job needs it (a run with nothing to do loads no worker code); until then `jobs` slots. */
export function sharedExecutor(create: () => Executor | Promise<Executor>, jobs: number): SharedExecutor {
  let real: Executor | undefined;
  let creating: Promise<Executor> | undefined;
  const outcomes = new Map<string, { owner: string; outcome: Promise<JobOutcome> }>();
  const shared = new Map<string, string>();
  const waiting: { priority: number; wake: () => void }[] = [];
  const owners = new Map<string, string[]>();
  let running = 0;
  let ran = 0;

  const acquire = async (priority: number): Promise<void> => {
    while (running >= Math.max(1, real?.slots ?? jobs)) await new Promise<void>((wake) => waiting.push({ priority, wake }));
    running += 1;
  };
  const release = (): void => {
    running -= 1;
    if (waiting.length === 0) return;
    let best = 0;
    for (let i = 1; i < waiting.length; i++) if (waiting[i].priority > waiting[best].priority) best = i;
    waiting.splice(best, 1)[0].wake();
  };
  const runOnce = async (job: Job, owner: string, hooks: VariantHooks): Promise<JobOutcome> => {
    await acquire(hooks.priority(job.id));
    ran += 1;
    owners.set(job.id, [...(owners.get(job.id) ?? []), owner]);
    hooks.started(job);
    try {
      creating ??= Promise.resolve(create()).then((e) => (real = e));
      return await (await creating).run(job);
    } finally {
      const mine = owners.get(job.id) ?? [];
      mine.splice(mine.indexOf(owner), 1);
      if (mine.length === 0) owners.delete(job.id);
      release();
    }
  };

  return {
    get ran() {
      return ran;
    },
    view(owner, hooks) {
      return {
        // A variant's scheduler hands over every ready job; the queue here keeps the real limit and order.
        slots: Number.MAX_SAFE_INTEGER,
        run(job) {
          const slot = `${job.kind}/${job.key}`;
          const first = outcomes.get(slot);
          if (first) {
            // A failed job is not run again for another variant either: the same key means the same inputs.
            shared.set(`${owner}\0${slot}`, first.owner);
            return first.outcome;
          }
          const outcome = runOnce(job, owner, hooks);
          outcomes.set(slot, { owner, outcome });
          return outcome;
        },
        close: async () => {},
      };
    },
    runningOwners: (id) => owners.get(id) ?? [],
    sharedFrom: (owner, kind, key) => shared.get(`${owner}\0${kind}/${key}`),
    async close() {
      if (creating) await (await creating).close();
    },
  };
}
