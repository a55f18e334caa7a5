/**
 * Runs instances in a pool of long-lived worker processes on this machine.
 * A worker that dies fails only the instance it was running; the next job
 * gets a fresh worker.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import type { Executor, ExecutorSettings, Job, JobOutcome } from './executor.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { ArtifactStore } from './store.js';

const WORKER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'worker.ts');
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const LOG_TAIL_LINES = 25;

export function logTail(file: string, lines = LOG_TAIL_LINES): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8').trimEnd();
  return text.split('\n').slice(-lines).join('\n');
}

const spawnWorker = (root: string) =>
  execa(process.execPath, ['--import', TSX_LOADER, WORKER_SCRIPT], {
    cwd: root,
    ipc: true,
    reject: false,
    buffer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    stdin: 'ignore',
  });

interface Running {
  job: Job;
  logFile: string;
  resolve(outcome: JobOutcome): void;
}

class Worker {
  readonly child: ReturnType<typeof spawnWorker>;
  readonly ready: Promise<void>;
  running?: Running;
  dead = false;
  /** Output written outside any job (e.g. while starting), kept for error messages. */
  private orphanOutput = '';

  constructor(
    readonly name: string,
    private readonly settings: ExecutorSettings,
    private readonly onExit: (w: Worker) => void,
  ) {
    this.child = spawnWorker(settings.root);
    const capture = (chunk: Buffer): void => {
      if (this.running) appendFileSync(this.running.logFile, chunk);
      else this.orphanOutput = (this.orphanOutput + chunk.toString()).slice(-4000);
    };
    this.child.stdout.on('data', capture);
    this.child.stderr.on('data', capture);
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.ready.catch(() => undefined);
    void this.listen(readyResolve, readyReject);
    void this.child.then((result) => {
      this.dead = true;
      const how = result.signal ? `killed by ${result.signal}` : `exited with code ${String(result.exitCode)}`;
      readyReject(new Error(`worker ${name} ${how} while starting${this.orphanOutput ? `:\n${this.orphanOutput.trimEnd()}` : ''}`));
      const r = this.running;
      this.running = undefined;
      if (r) {
        r.resolve({
          status: 'crashed',
          error: `worker process ${how}${result.signal === 'SIGKILL' ? ' (out of memory, or killed)' : ''}`,
          signal: result.signal ?? undefined,
          exitCode: result.exitCode ?? undefined,
          logTail: logTail(r.logFile),
        });
      }
      this.onExit(this);
    });
    const init: ToWorker = {
      type: 'init',
      root: settings.root,
      artifactsDir: settings.artifactsDir,
      params: settings.params,
      environmentModule: settings.environmentModule,
    };
    this.child.sendMessage(init).catch(() => undefined);
  }

  private async listen(readyResolve: () => void, readyReject: (e: Error) => void): Promise<void> {
    try {
      for await (const raw of this.child.getEachMessage()) {
        const msg = raw as FromWorker;
        if (msg.type === 'ready') {
          this.settings.events.environment(this.name, msg.environment);
          readyResolve();
        } else if (msg.type === 'init-failed') readyReject(new Error(`worker environment set-up failed:\n${msg.error}`));
        else if (msg.type === 'progress') this.settings.events.progress(msg.id, msg.progress);
        else if (this.running && msg.id === this.running.job.id) {
          const r = this.running;
          this.running = undefined;
          r.resolve(msg.type === 'done' ? { status: 'done', meta: msg.meta } : { status: 'failed', error: msg.error, logTail: logTail(r.logFile) });
        }
      }
    } catch {
      // The channel closes when the worker exits; the exit handler reports it.
    }
  }

  run(job: Job, logFile: string): Promise<JobOutcome> {
    return new Promise((resolve) => {
      this.running = { job, logFile, resolve };
      const msg: ToWorker = { type: 'run', job };
      this.child.sendMessage(msg).catch(() => undefined);
    });
  }

  kill(): void {
    if (!this.dead) this.child.kill('SIGTERM');
  }
}

export class LocalExecutor implements Executor {
  readonly slots: number;
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private readonly store: ArtifactStore;
  private started = 0;

  constructor(private readonly settings: ExecutorSettings) {
    this.slots = Math.max(1, settings.jobs);
    this.store = new ArtifactStore(settings.artifactsDir);
  }

  async run(job: Job): Promise<JobOutcome> {
    const worker = this.idle.pop() ?? this.spawn();
    const logFile = this.store.logFile(job.kind, job.key);
    try {
      await worker.ready;
    } catch (err) {
      return { status: 'crashed', error: (err as Error).message, logTail: '' };
    }
    const outcome = await worker.run(job, logFile);
    if (outcome.status === 'crashed') this.store.clearTmpFor(job.kind, job.key);
    if (!worker.dead) this.idle.push(worker);
    return outcome;
  }

  private spawn(): Worker {
    this.started += 1;
    const w = new Worker(`w${this.started}`, this.settings, (dead) => {
      this.all.delete(dead);
      const i = this.idle.indexOf(dead);
      if (i >= 0) this.idle.splice(i, 1);
    });
    this.all.add(w);
    return w;
  }

  async close(): Promise<void> {
    const children = [...this.all].map((w) => w.child);
    for (const w of this.all) w.kill();
    await Promise.all(children);
  }
}
