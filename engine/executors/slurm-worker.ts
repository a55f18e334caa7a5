/**
 * The process a Slurm job runs: `node --import tsx engine/executors/slurm-worker.ts <spec.json>`.
 * It runs exactly the instance named in the spec, by its already-computed key
 * (it never expands params or plans the DAG), then writes a result file and
 * exits 0 on success, 1 when the stage failed. Progress goes to a small JSON
 * file that the coordinator reads when it polls.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInstance } from '../run-instance.js';
import type { JsonObject } from '../stage.js';
import { ArtifactStore } from '../store.js';
import { workerTmpRoot, writeJsonAtomic, type WorkerResult, type WorkerSpec } from './slurm-records.js';

/** Builds attempts under `.slurm/tmp`, which survives a coordinator restart (the coordinator clears `.tmp`). */
class SlurmWorkerStore extends ArtifactStore {
  override get tmpRoot(): string {
    return workerTmpRoot(this.dir);
  }
}

/** While a job runs, the stage's console output goes to its log file (as in the local executor), not to the Slurm output file. */
function consoleRedirect(): (logFile: string | undefined) => void {
  let target: string | undefined;
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      if (target === undefined) return original(chunk, ...rest);
      appendFileSync(target, chunk);
      (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
      return true;
    }) as typeof stream.write;
  }
  return (logFile) => {
    target = logFile;
  };
}

async function setupEnvironment(spec: WorkerSpec): Promise<JsonObject> {
  if (!spec.environmentModule) return {};
  const mod = (await import(pathToFileURL(join(spec.root, spec.environmentModule)).href)) as { setup?: (p: JsonObject) => Promise<JsonObject> };
  if (typeof mod.setup !== 'function') throw new Error(`${spec.environmentModule} must export setup(params): Promise<JsonObject>`);
  return (await mod.setup(spec.params)) ?? {};
}

async function main(specPath: string | undefined): Promise<number> {
  if (!specPath) {
    console.error('usage: slurm-worker.ts <spec.json>');
    return 2;
  }
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as WorkerSpec;
  console.log(`slurm-worker: ${spec.job.id} (key ${spec.job.key}) in Slurm job ${process.env.SLURM_JOB_ID ?? '?'} on ${process.env.SLURMD_NODENAME ?? '?'}`);
  let result: WorkerResult;
  try {
    const environment = await setupEnvironment(spec);
    const meta = await runInstance(spec.job, {
      root: spec.root,
      store: new SlurmWorkerStore(spec.artifactsDir),
      environment,
      progress: (_id, update) => writeJsonAtomic(spec.progressFile, { at: Date.now(), progress: update }),
      captureOutput: consoleRedirect(),
    });
    result = { status: 'done', meta };
  } catch (err) {
    console.error((err as Error)?.stack ?? String(err));
    result = { status: 'failed', error: (err as Error)?.message ?? String(err) };
  }
  writeJsonAtomic(spec.resultFile, result);
  return result.status === 'done' ? 0 : 1;
}

// Exit explicitly: libraries a stage loaded (timers, thread pools) must not keep the allocation alive.
main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error((err as Error)?.stack ?? String(err));
    process.exit(1);
  },
);
