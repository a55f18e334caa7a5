/**
 * A run that Ctrl-C (or SIGTERM) stops cleanly: the first signal closes the reporter, asks the
 * executor to stop its workers and releases the run lock before exiting 130; a second signal does
 * not wait for the workers. Whatever happens, the reporter, executor and lock are closed after.
 * `repro` and `exp run` share it, so both stop the same way.
 */
import type { Output } from './reporter.js';

export interface RunResources {
  stderr: Output;
  reporter: { close(): void };
  executor: { close(): Promise<void> };
  lock: { release(): void };
  /** What the user is told on a signal, after "SIGINT: stopping workers; ". */
  onStop: string;
}

export async function stoppableRun<T>(r: RunResources, body: () => Promise<T>): Promise<T> {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    r.reporter.close();
    r.stderr.write(`\n${sig}: stopping workers; ${r.onStop}\n`);
    void r.executor.close().finally(() => {
      r.lock.release();
      process.exit(130);
    });
  };
  // `on`, not `once`: while our listener is installed, execa's signal-exit hook leaves the process to us.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    r.reporter.close();
    await r.executor.close();
    r.lock.release();
  }
}
