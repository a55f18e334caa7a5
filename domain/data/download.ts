/**
 * Downloads one file into a cache directory: streamed to `<name>.part`, resumed
 * with an HTTP Range request after an interruption, retried with exponential
 * backoff on transient failures, verified, and only then renamed to `<name>`.
 * A stage passes a cache directory under its checkpointDir, so a killed stage
 * resumes its download on the next attempt.
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ChecksumMismatchError, verifyFile, type ExpectedDigest } from './checksum.js';
import { DownloadError, classifyNetworkError, httpStatusError } from './netErrors.js';

export interface DownloadProgress {
  /** Bytes of the file on disk so far, resumed bytes included. */
  bytes: number;
  /** Full size when the server said it; null otherwise. */
  total: number | null;
  /** Over the current attempt. */
  bytesPerSecond: number;
  etaSeconds: number | null;
}

/** The download behaviour params can set (`data.download`). */
export interface DownloadSettings {
  /** Further attempts after the first, for transient failures only. */
  retries: number;
  /** Delay before the first retry, doubled for each further one. */
  backoffMs: number;
  /** Time allowed to open the connection and get the response headers. */
  connectTimeoutMs: number;
  /** Longest silence allowed while receiving the body. */
  idleTimeoutMs: number;
  maxRedirects: number;
  /** Minimum time between two progress reports (the final one is always sent). */
  progressIntervalMs: number;
}

export interface DownloadOptions extends DownloadSettings {
  /** http(s):// or file:// */
  url: string;
  cacheDir: string;
  /** Name of the file in the cache; defaults to the URL's last path segment. */
  fileName?: string;
  /** Checked before the rename; null accepts any bytes. */
  expected: ExpectedDigest | null;
  onProgress?(progress: DownloadProgress): void;
  log?(message: string): void;
  signal?: AbortSignal;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** Requests made (0 when the verified file was already in the cache). */
  attempts: number;
  /** Offsets that attempts resumed from (empty when every attempt started at 0). */
  resumedFrom: number[];
  cached: boolean;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await fs.stat(path)).size;
  } catch {
    return 0;
  }
}

async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(() => true, () => false);
}

class ProgressMeter {
  private readonly started = Date.now();
  private lastReport = 0;
  constructor(private readonly startBytes: number, private readonly total: number | null, private readonly opts: DownloadOptions) {}

  report(bytes: number, force = false): void {
    const now = Date.now();
    if (!this.opts.onProgress || (!force && now - this.lastReport < this.opts.progressIntervalMs)) return;
    this.lastReport = now;
    const seconds = Math.max((now - this.started) / 1000, 1e-3);
    const bytesPerSecond = (bytes - this.startBytes) / seconds;
    const etaSeconds = this.total !== null && bytesPerSecond > 0 ? Math.max(this.total - bytes, 0) / bytesPerSecond : null;
    this.opts.onProgress({ bytes, total: this.total, bytesPerSecond, etaSeconds });
  }
}

/** Pipes `body` into `part` (appending or not), counting bytes for the meter. */
async function writeBody(body: Readable, part: string, append: boolean, startBytes: number, meter: ProgressMeter): Promise<number> {
  let bytes = startBytes;
  await pipeline(
    body,
    async function* (source: AsyncIterable<Buffer | string>) {
      for await (const chunk of source) {
        bytes += chunk.length;
        meter.report(bytes);
        yield chunk;
      }
    },
    createWriteStream(part, { flags: append ? 'a' : 'w' }),
  );
  meter.report(bytes, true);
  return bytes;
}

function request(url: URL, headers: Record<string, string>, opts: DownloadOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    // A private, non-keep-alive connection: the timeouts set below must not outlive this request on a pooled socket.
    const req = client.get(url, { headers, signal: opts.signal, agent: false });
    // Covers DNS, TCP connect, TLS and waiting for the headers: nothing may hang.
    const connectTimer = setTimeout(() => {
      req.destroy(Object.assign(new Error(`no response within ${opts.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, opts.connectTimeoutMs);
    req.on('response', (res) => {
      clearTimeout(connectTimer);
      res.socket.setTimeout(opts.idleTimeoutMs, () => {
        res.destroy(Object.assign(new Error(`no data for ${opts.idleTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
      resolve(res);
    });
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      reject(err);
    });
  });
}

/** One HTTP attempt: resumes from the bytes already in `part`. Resolves once the body is complete. */
async function attemptHttp(url: string, part: string, opts: DownloadOptions, resumedFrom: number[]): Promise<number> {
  let target = new URL(url);
  const offset = await sizeOf(part);
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'trigger-lab-data/1', 'accept-encoding': 'identity' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const res = await request(target, headers, opts);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hop >= opts.maxRedirects) throw new DownloadError(`${url}: more than ${opts.maxRedirects} redirects`, false);
      target = new URL(res.headers.location, target);
      continue;
    }
    if (status === 416 && offset > 0) {
      res.resume();
      const total = Number(/\/(\d+)$/.exec(res.headers['content-range'] ?? '')?.[1]);
      if (total === offset) return offset;
      // The partial file does not fit the server's copy: start over.
      await fs.rm(part, { force: true });
      throw new DownloadError(`${url}: server refused to resume at byte ${offset} (HTTP 416); restarting from 0`, true);
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      throw httpStatusError(url, status, res.statusMessage);
    }
    const length = Number(res.headers['content-length'] ?? NaN);
    let start = 0;
    if (status === 206) {
      const rangeStart = Number(/^bytes (\d+)-/.exec(res.headers['content-range'] ?? '')?.[1]);
      if (rangeStart !== offset) {
        res.resume();
        await fs.rm(part, { force: true });
        throw new DownloadError(`${url}: asked to resume at ${offset}, server sent range '${res.headers['content-range']}'`, true);
      }
      start = offset;
      resumedFrom.push(offset);
    }
    const total = Number.isFinite(length) ? start + length : null;
    const bytes = await writeBody(res, part, start > 0, start, new ProgressMeter(start, total, opts));
    if (total !== null && bytes !== total) {
      throw new DownloadError(`${url}: connection ended after ${bytes} of ${total} bytes`, true, false, 'ERR_STREAM_PREMATURE_CLOSE');
    }
    return bytes;
  }
}

async function copyLocal(url: string, part: string, opts: DownloadOptions): Promise<number> {
  const path = fileURLToPath(url);
  let total: number;
  try {
    total = (await fs.stat(path)).size;
  } catch {
    throw new DownloadError(`data.url ${url}: file ${path} does not exist`, false);
  }
  return writeBody(createReadStream(path), part, false, 0, new ProgressMeter(0, total, opts));
}

async function verifyOrDelete(path: string, opts: DownloadOptions): Promise<void> {
  if (!opts.expected) return;
  try {
    await verifyFile(path, opts.expected);
  } catch (err) {
    if (!(err instanceof ChecksumMismatchError)) throw err;
    await fs.rm(path, { force: true });
    throw new DownloadError(
      `Checksum mismatch for ${opts.url}: ${err.message}. The file was deleted. If this is a mirror whose bytes differ from the official archive, give its digest with --set data.md5=... or data.sha256=...`,
      false, false, 'CHECKSUM_MISMATCH',
    );
  }
}

export async function downloadFile(opts: DownloadOptions): Promise<DownloadResult> {
  let parsed: URL;
  try {
    parsed = new URL(opts.url);
  } catch {
    throw new DownloadError(`data.url '${opts.url}' is not a URL (allowed: http://, https://, file://)`, false);
  }
  if (!['http:', 'https:', 'file:'].includes(parsed.protocol)) {
    throw new DownloadError(`data.url '${opts.url}' has protocol ${parsed.protocol}; allowed: http:, https:, file:`, false);
  }
  await fs.mkdir(opts.cacheDir, { recursive: true });
  const name = opts.fileName ?? (basename(parsed.pathname) || 'download');
  const finalPath = join(opts.cacheDir, name);
  const part = `${finalPath}.part`;

  if (await exists(finalPath)) {
    try {
      if (opts.expected) await verifyFile(finalPath, opts.expected);
      return { path: finalPath, bytes: await sizeOf(finalPath), attempts: 0, resumedFrom: [], cached: true };
    } catch (err) {
      if (!(err instanceof ChecksumMismatchError)) throw err;
      opts.log?.(`cached ${finalPath} does not match (${err.message}); deleted, downloading again`);
      await fs.rm(finalPath, { force: true });
    }
  }

  const resumedFrom: number[] = [];
  let attempts = 0;
  let bytes = 0;
  if (parsed.protocol === 'file:') {
    attempts = 1;
    bytes = await copyLocal(opts.url, part, opts);
  } else {
    for (;;) {
      attempts++;
      try {
        bytes = await attemptHttp(opts.url, part, opts, resumedFrom);
        break;
      } catch (raw) {
        if (opts.signal?.aborted) throw raw;
        const err = classifyNetworkError(opts.url, raw);
        if (!err.transient || attempts > opts.retries) {
          const tried = attempts > 1 ? ` (after ${attempts} attempts)` : '';
          throw new DownloadError(err.message + tried, err.transient, err.offline, err.code);
        }
        const delay = opts.backoffMs * 2 ** (attempts - 1);
        opts.log?.(`${err.message}; retry ${attempts}/${opts.retries} in ${delay} ms, resuming from the ${await sizeOf(part)} bytes on disk`);
        await sleep(delay, undefined, { signal: opts.signal });
      }
    }
  }
  await verifyOrDelete(part, opts);
  await fs.rename(part, finalPath);
  return { path: finalPath, bytes, attempts, resumedFrom, cached: false };
}
