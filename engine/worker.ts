/**
 * A long-lived worker process: set up the environment once, then run the
 * instances the coordinator sends, one at a time. Started by the local
 * executor as `node --import tsx engine/worker.ts`.
 */
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { getEachMessage, sendMessage } from 'execa';
import type { FromWorker, ToWorker } from './protocol.js';
import { runInstance } from './run-instance.js';
import type { JsonObject } from './stage.js';
import { ArtifactStore } from './store.js';

const send = (m: FromWorker): Promise<void> => sendMessage(m);

/** Console output of a stage goes to its log file, not to the coordinator's terminal. */
function redirectConsole(): (logFile: string | undefined) => void {
  let target: string | undefined;
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      if (target === undefined) return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
      appendFileSync(target, chunk);
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof stream.write;
  }
  return (logFile) => {
    target = logFile;
  };
}

async function setupEnvironment(root: string, module: string | undefined, params: JsonObject): Promise<JsonObject> {
  if (!module) return {};
  const mod = (await import(pathToFileURL(join(root, module)).href)) as { setup?: (p: JsonObject) => Promise<JsonObject> };
  if (typeof mod.setup !== 'function') throw new Error(`${module} must export setup(params): Promise<JsonObject>`);
  return (await mod.setup(params)) ?? {};
}

async function main(): Promise<void> {
  // The coordinator died (even by SIGKILL): nobody will collect our results.
  process.on('disconnect', () => process.exit(1));
  const captureOutput = redirectConsole();
  let state: { root: string; store: ArtifactStore; environment: JsonObject } | undefined;
  for await (const raw of getEachMessage()) {
    const msg = raw as ToWorker;
    if (msg.type === 'init') {
      try {
        const environment = await setupEnvironment(msg.root, msg.environmentModule, msg.params);
        state = { root: msg.root, store: new ArtifactStore(msg.artifactsDir), environment };
        await send({ type: 'ready', environment });
      } catch (err) {
        await send({ type: 'init-failed', error: (err as Error)?.stack ?? String(err) });
        process.exit(1);
      }
    } else if (msg.type === 'run') {
      if (!state) throw new Error('worker received a job before init');
      const { job } = msg;
      try {
        const meta = await runInstance(job, {
          ...state,
          progress: (id, progress) => void send({ type: 'progress', id, progress }),
          captureOutput,
        });
        await send({ type: 'done', id: job.id, meta });
      } catch (err) {
        await send({ type: 'failed', id: job.id, error: (err as Error)?.message ?? String(err) });
      }
    }
  }
}

void main();
