/**
 * One executor behind several schedulers: the sweep's variants each walk their own DAG (so every
 * instance keeps its own id, which stages may read and which is part of a key), while this wrapper
 * makes them one run: at most `slots` jobs at a time over all variants (the real executor's slots:
 * `-j`, or a Slurm executor's limit), and a job whose kind/key another variant already started or
 * finished is not run again but shares that outcome, since the store is keyed by content.
 */
import type { Executor, Job, JobOutcome } from '../executor.js';

export interface SharedExecutor extends Executor {
  /** How many jobs were handed to the real executor (each shared key counts once). */
  readonly ran: number;
  /** The same executor, noting `owner` as the one whose job runs (for progress lines). */
  view(owner: string): Executor;
  /** The owners whose job with this id is running now (progress events carry only the id). */
  runningOwners(id: string): string[];
}

/** `create` is called when the first job needs it (a run with nothing to do loads no worker code); until then `jobs` slots. */
export function sharedExecutor(create: () => Executor | Promise<Executor>, jobs: number): SharedExecutor {
  let real: Executor | undefined;
  let creating: Promise<Executor> | undefined;
  const outcomes = new Map<string, Promise<JobOutcome>>();
  const waiting: (() => void)[] = [];
  let running = 0;
  let ran = 0;
  const owners = new Map<string, string[]>();
  const acquire = async (): Promise<void> => {
    while (running >= Math.max(1, real?.slots ?? jobs)) await new Promise<void>((res) => waiting.push(res));
    running += 1;
  };
  const release = (): void => {
    running -= 1;
    waiting.shift()?.();
  };
  const shared: SharedExecutor & { run(job: Job, owner?: string): Promise<JobOutcome> } = {
    get ran() {
      return ran;
    },
    // Each variant's scheduler may hand over all its ready jobs; the queue here keeps the real limit.
    get slots() {
      return Number.MAX_SAFE_INTEGER;
    },
    view(owner: string): Executor {
      return { get slots() { return shared.slots; }, run: (job) => shared.run(job, owner), close: async () => {} };
    },
    runningOwners: (id) => owners.get(id) ?? [],
    run(job: Job, owner: string = ''): Promise<JobOutcome> {
      const slot = `${job.kind}/${job.key}`;
      let outcome = outcomes.get(slot);
      if (!outcome) {
        outcome = (async () => {
          await acquire();
          ran += 1;
          owners.set(job.id, [...(owners.get(job.id) ?? []), owner]);
          try {
            creating ??= Promise.resolve(create()).then((e) => (real = e));
            return await (await creating).run(job);
          } finally {
            const left = (owners.get(job.id) ?? []).filter((o, i, all) => i !== all.indexOf(owner));
            if (left.length) owners.set(job.id, left);
            else owners.delete(job.id);
            release();
          }
        })();
        outcomes.set(slot, outcome);
        // A failed job is not run again for another variant: the same key means the same inputs.
      }
      return outcome;
    },
    async close() {
      if (creating) await (await creating).close();
    },
  };
  return shared;
}
