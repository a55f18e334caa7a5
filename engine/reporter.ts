/**
 * What a `repro` prints while it runs: permanent lines for started, finished,
 * failed and skipped instances; progress of running instances either as a
 * live block redrawn in place (terminal) or as throttled plain lines (pipes,
 * CI). JSON mode prints nothing until the summary.
 */
import { describeReason, type Reason } from './fingerprint.js';
import { indent } from './errors.js';
import type { RunProgress } from './progress.js';
import type { InstanceResult, RunListener } from './scheduler.js';
import type { JsonObject, Progress } from './stage.js';

export interface Output {
  write(text: string): void;
  isTTY: boolean;
}

export interface ReporterOptions {
  /** List every skipped instance (otherwise the run's summary counts them per failure). */
  verbose?: boolean;
  /** The whole run's progress: shown in the live block, and after each finished instance in plain mode. */
  progress?: RunProgress;
}

export interface Reporter extends RunListener {
  environment(worker: string, environment: JsonObject): void;
  progress(id: string, update: Progress): void;
  close(): void;
}

const PLAIN_PROGRESS_INTERVAL_MS = 2000;
const TTY_REDRAW_MS = 100;

const fit = (line: string, cols: number): string => (line.length > cols - 1 ? line.slice(0, cols - 2) + '…' : line);

export function formatProgress(p: Progress): string {
  const parts: string[] = [];
  if (p.current !== undefined) parts.push(p.total !== undefined ? `${p.current}/${p.total}${p.unit ? ` ${p.unit}` : ''}` : `${p.current}${p.unit ? ` ${p.unit}` : ''}`);
  if (p.message) parts.push(p.message);
  for (const [k, v] of Object.entries(p.metrics ?? {})) parts.push(`${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`);
  return parts.join('  ');
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

function failureText(r: Extract<InstanceResult, { state: 'failed' }>): string {
  const o = r.outcome;
  const head = o.status === 'crashed' ? `✖ CRASHED ${r.id}: ${o.error}` : `✖ FAILED  ${r.id}: ${o.error}`;
  return o.logTail ? `${head}\n  last lines of its log:\n${indent(o.logTail, '  | ')}\n` : `${head}\n`;
}

/**
 * One readable line for a worker environment: its `summary` when it gives one, else its
 * top-level scalar fields (the full JSON stays in each artifact's meta.json).
 */
export function describeEnvironment(environment: JsonObject): string {
  if (typeof environment.summary === 'string') return environment.summary;
  const parts = Object.entries(environment)
    .filter(([, v]) => v === null || typeof v !== 'object')
    .map(([k, v]) => `${k} ${String(v)}`);
  return parts.join(', ') || '(nothing reported)';
}

export function createReporter(out: Output, mode: 'auto' | 'json', options: ReporterOptions = {}): Reporter {
  const overall = options.progress;
  if (mode === 'json') {
    return { started: (id) => overall?.started(id), finished: (r) => overall?.finished(r), environment() {}, progress() {}, close() {} };
  }
  const envSeen = new Set<string>();
  const running = new Map<string, { since: number; progress?: Progress; printedAt: number }>();
  const permanent = (text: string): void => (out.isTTY ? liveWrite(text) : out.write(text));

  // Terminal mode: the live block sits under the permanent lines and is erased before each write.
  let liveLines = 0;
  let timer: NodeJS.Timeout | undefined;
  const erase = (): string => (liveLines > 0 ? `\x1b[${liveLines}A\x1b[J` : '');
  const block = (): string => {
    const cols = process.stdout.columns || 100;
    const lines = overall ? [fit(`  ${overall.line()}`, cols)] : [];
    lines.push(...[...running.entries()].slice(0, 12).map(([id, r]) => {
      const line = `  ⋯ ${id}  ${seconds(Date.now() - r.since)}  ${r.progress ? formatProgress(r.progress) : ''}`;
      return fit(line, cols);
    }));
    if (running.size > 12) lines.push(`  ⋯ and ${running.size - 12} more`);
    return running.size && lines.length ? `${lines.join('\n')}\n` : '';
  };
  const redraw = (): void => {
    const b = block();
    out.write(erase() + b);
    liveLines = b ? b.split('\n').length - 1 : 0;
  };
  function liveWrite(text: string): void {
    const b = block();
    out.write(erase() + text + b);
    liveLines = b ? b.split('\n').length - 1 : 0;
  }
  if (out.isTTY) {
    timer = setInterval(() => running.size && redraw(), TTY_REDRAW_MS);
    timer.unref();
  }

  return {
    environment(worker, environment) {
      // Once per distinct line, not once per worker.
      const text = describeEnvironment(environment);
      if (envSeen.has(text)) return;
      envSeen.add(text);
      permanent(`environment${envSeen.size > 1 ? ` (${worker})` : ''}: ${text}\n`);
    },
    damaged(id, problems, movedTo) {
      permanent(`⚠ damaged ${id}: ${problems.join('; ')}; moved aside to ${movedTo}\n`);
    },
    started(id: string, reasons: Reason[]) {
      overall?.started(id);
      running.set(id, { since: Date.now(), printedAt: 0 });
      permanent(`▶ run     ${id}  (${reasons.map(describeReason).join('; ')})\n`);
    },
    progress(id, update) {
      const r = running.get(id);
      if (!r) return;
      r.progress = update;
      if (!out.isTTY && Date.now() - r.printedAt >= PLAIN_PROGRESS_INTERVAL_MS) {
        r.printedAt = Date.now();
        out.write(`  ${id}: ${formatProgress(update)}\n`);
      }
    },
    finished(r) {
      overall?.finished(r);
      running.delete(r.id);
      // In plain mode the whole run's line rides on each finished instance; a terminal shows it live.
      const where = overall && !out.isTTY && r.state === 'ran' ? `   [${overall.line()}]` : '';
      if (r.state === 'ran') permanent(`✔ done    ${r.id}  ${seconds(r.durationMs)}${where}\n`);
      else if (r.state === 'failed') permanent(failureText(r));
      else if (r.state === 'skipped' && options.verbose) permanent(`- skipped ${r.id}  (${r.because})\n`);
    },
    close() {
      if (timer) clearInterval(timer);
      if (out.isTTY && liveLines) out.write(erase());
      liveLines = 0;
    },
  };
}
