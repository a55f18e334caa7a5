/**
 * Runs one instance inside a worker: fresh output directory, checkpoint
 * directory, log file; on success the outputs are digested, meta.json is
 * written and the directory is renamed into place, so that nothing
 * incomplete ever looks like an artifact.
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Job } from './executor.js';
import { outputsDigest } from './fingerprint.js';
import type { JsonObject, Progress, StageContext, StageKind, UpstreamArtifact } from './stage.js';
import { ArtifactStore, digestAndStatOutputs, type StoredMeta } from './store.js';

export interface RunnerEnv {
  root: string;
  store: ArtifactStore;
  environment: JsonObject;
  /** Called with throttled progress updates. */
  progress(id: string, update: Progress): void;
  /** Where the worker's console output goes while this job runs. */
  captureOutput(logFile: string | undefined): void;
}

const kindCache = new Map<string, Promise<StageKind>>();

export function loadKind(root: string, module: string): Promise<StageKind> {
  const abs = join(root, module);
  let p = kindCache.get(abs);
  if (!p) {
    p = import(pathToFileURL(abs).href).then((m: { default?: StageKind }) => {
      const kind = m.default;
      if (!kind || typeof kind.kind !== 'string' || typeof kind.instances !== 'function' || typeof kind.run !== 'function') {
        throw new Error(`${module} must default-export a StageKind ({ kind, instances, run })`);
      }
      return kind;
    });
    kindCache.set(abs, p);
  }
  return p;
}

/** At most one progress message per interval per job, always ending with the latest. */
const PROGRESS_INTERVAL_MS = 200;

function throttle(send: (u: Progress) => void): { push(u: Progress): void; stop(): void } {
  let last = 0;
  let pending: Progress | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    if (pending) {
      last = Date.now();
      send(pending);
      pending = undefined;
    }
  };
  return {
    push(u) {
      pending = u;
      if (Date.now() - last >= PROGRESS_INTERVAL_MS) flush();
      else timer ??= setTimeout(flush, PROGRESS_INTERVAL_MS - (Date.now() - last));
    },
    stop() {
      if (timer) clearTimeout(timer);
      pending = undefined;
    },
  };
}

export async function runInstance(job: Job, env: RunnerEnv): Promise<StoredMeta> {
  const { store } = env;
  const logFile = store.logFile(job.kind, job.key);
  mkdirSync(dirname(logFile), { recursive: true });
  const startedAt = new Date();
  appendFileSync(logFile, `--- ${job.id} (key ${job.key}) attempt started ${startedAt.toISOString()} pid ${process.pid}\n`);
  const checkpointDir = store.checkpointDir(job.kind, job.key);
  mkdirSync(checkpointDir, { recursive: true });
  const outDir = store.freshTmpDir(job.kind, job.key);
  const extra: JsonObject = {};
  const progress = throttle((u) => env.progress(job.id, u));
  const abort = new AbortController();
  env.captureOutput(logFile);
  try {
    const kind = await loadKind(env.root, job.module);
    if (kind.kind !== job.kind) throw new Error(`${job.module} declares kind "${kind.kind}", expected "${job.kind}"`);
    const inputs: Record<string, UpstreamArtifact> = {};
    for (const [local, up] of Object.entries(job.upstream)) {
      const dir = store.artifactDir(up.kind, up.key);
      if (!existsSync(join(dir, 'meta.json'))) throw new Error(`upstream ${up.id} (${local}) has no artifact at ${dir}`);
      inputs[local] = { id: up.id, kind: up.kind, key: up.key, dir, meta: JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as StoredMeta };
    }
    const ctx: StageContext = {
      id: job.id,
      kind: job.kind,
      key: job.key,
      params: job.params,
      outDir,
      checkpointDir,
      inputs,
      progress: (u) => progress.push(u),
      log: (message) => appendFileSync(logFile, message.endsWith('\n') ? message : `${message}\n`),
      recordMeta: (more) => Object.assign(extra, more),
      signal: abort.signal,
    };
    await kind.run(ctx);
    progress.stop();
    const endedAt = new Date();
    appendFileSync(logFile, `--- finished ${endedAt.toISOString()} (${endedAt.getTime() - startedAt.getTime()} ms)\n`);
    env.captureOutput(undefined);
    // Sizes and times as written: later runs rehash a file only if either differs.
    const { outputs, files } = digestAndStatOutputs(outDir);
    const meta: StoredMeta = {
      id: job.id,
      kind: job.kind,
      key: job.key,
      params: job.params,
      upstream: Object.fromEntries(Object.entries(job.upstream).map(([l, u]) => [l, { id: u.id, key: u.key }])),
      outputs,
      outputsDigest: outputsDigest(outputs),
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - startedAt.getTime(),
      environment: env.environment,
      extra,
      fingerprint: job.fingerprint,
      files,
    };
    copyFileSync(logFile, join(outDir, 'log.txt'));
    writeFileSync(join(outDir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    store.install(outDir, job.kind, job.key);
    rmSync(checkpointDir, { recursive: true, force: true });
    rmSync(logFile, { force: true });
    return meta;
  } catch (err) {
    progress.stop();
    abort.abort();
    env.captureOutput(undefined);
    appendFileSync(logFile, `--- FAILED ${new Date().toISOString()}\n${(err as Error)?.stack ?? String(err)}\n`);
    rmSync(outDir, { recursive: true, force: true });
    throw err;
  }
}
