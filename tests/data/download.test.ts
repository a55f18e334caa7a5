import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCifarBinaryArchive } from '../../domain/data/cifarArchive.js';
import { downloadFile, type DownloadOptions, type DownloadProgress } from '../../domain/data/download.js';
import { DownloadError } from '../../domain/data/netErrors.js';
import { makeCifarArchive } from './fixtures.js';

const { archive, train } = makeCifarArchive(20);
const md5 = createHash('md5').update(archive).digest('hex');
const corrupted = Buffer.from(archive);
corrupted[corrupted.length >> 1] ^= 0xff;

interface Seen {
  path: string;
  range?: string;
}
const seen: Seen[] = [];
const hits = new Map<string, number>();
let server: http.Server;
let base = '';

function serveRange(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m) {
    const start = Number(m[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { 'content-length': body.length });
  res.end(body);
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '';
    seen.push({ path, range: req.headers.range });
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    if (path.startsWith('/ok/')) return serveRange(req, res, archive);
    if (path.startsWith('/corrupt/')) return serveRange(req, res, corrupted);
    if (path.startsWith('/drop/')) {
      if (hit > 1) return serveRange(req, res, archive);
      // First request: promise the whole body, send half, then drop the connection.
      res.writeHead(200, { 'content-length': archive.length });
      res.write(archive.subarray(0, archive.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (path.startsWith('/flaky/')) {
      if (hit === 1) return void res.writeHead(503).end('busy');
      return serveRange(req, res, archive);
    }
    if (path.startsWith('/redirect/')) return void res.writeHead(302, { location: '/ok/cifar.tar.gz' }).end();
    if (path.startsWith('/stall/')) {
      res.writeHead(200, { 'content-length': archive.length });
      res.write(archive.subarray(0, 100));
      return; // never finishes: the idle timeout must fire
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function options(url: string, extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return {
    url,
    cacheDir: mkdtempSync(join(tmpdir(), 'dl-')),
    expected: { algorithm: 'md5', hex: md5 },
    retries: 3,
    backoffMs: 10,
    connectTimeoutMs: 2000,
    idleTimeoutMs: 1000,
    maxRedirects: 3,
    progressIntervalMs: 0,
    ...extra,
  };
}

describe('downloadFile over HTTP', () => {
  it('downloads, verifies, reports progress and renames the file; the result parses', async () => {
    const progress: DownloadProgress[] = [];
    const opts = options(`${base}/ok/cifar.tar.gz`, { onProgress: (p) => progress.push(p) });
    const result = await downloadFile(opts);
    expect(result).toMatchObject({ path: join(opts.cacheDir, 'cifar.tar.gz'), bytes: archive.length, attempts: 1, cached: false, resumedFrom: [] });
    expect(readFileSync(result.path).equals(archive)).toBe(true);
    expect(existsSync(`${result.path}.part`)).toBe(false);
    const last = progress[progress.length - 1];
    expect(last.bytes).toBe(archive.length);
    expect(last.total).toBe(archive.length);
    expect(last.bytesPerSecond).toBeGreaterThan(0);
    expect(last.etaSeconds).toBe(0);
    const ds = await importCifarBinaryArchive(result.path, opts.url);
    expect(Array.from(ds.train.labels.subarray(0, 20))).toEqual(Array.from(train[0].labels));
    // A second call finds the verified file in the cache and makes no request.
    const before = seen.length;
    expect(await downloadFile(opts)).toMatchObject({ cached: true, attempts: 0 });
    expect(seen.length).toBe(before);
  });

  it('resumes with a Range request after the connection drops halfway', async () => {
    const result = await downloadFile(options(`${base}/drop/cifar.tar.gz`));
    const requests = seen.filter((s) => s.path === '/drop/cifar.tar.gz');
    expect(requests.length).toBe(2);
    expect(requests[0].range).toBeUndefined();
    expect(requests[1].range).toMatch(/^bytes=\d+-$/);
    const offset = Number(/=(\d+)-/.exec(requests[1].range!)![1]);
    expect(offset).toBeGreaterThan(0);
    expect(result.resumedFrom).toEqual([offset]);
    expect(result.attempts).toBe(2);
    expect(readFileSync(result.path).equals(archive)).toBe(true);
  });

  it('resumes a partial file left by an earlier, killed attempt', async () => {
    const opts = options(`${base}/ok/cifar.tar.gz?resume`);
    writeFileSync(join(opts.cacheDir, 'cifar.tar.gz.part'), archive.subarray(0, 1000));
    const result = await downloadFile({ ...opts, fileName: 'cifar.tar.gz' });
    expect(seen.filter((s) => s.path === '/ok/cifar.tar.gz?resume').map((s) => s.range)).toEqual(['bytes=1000-']);
    expect(result.resumedFrom).toEqual([1000]);
    expect(readFileSync(result.path).equals(archive)).toBe(true);
  });

  it('retries a 503 with backoff and follows redirects', async () => {
    const logs: string[] = [];
    const result = await downloadFile(options(`${base}/flaky/cifar.tar.gz`, { log: (m) => logs.push(m) }));
    expect(result.attempts).toBe(2);
    expect(logs[0]).toMatch(/HTTP 503.*retry 1\/3/);
    expect((await downloadFile(options(`${base}/redirect/cifar.tar.gz`))).bytes).toBe(archive.length);
  });

  it('rejects a corrupted archive by its checksum and deletes it', async () => {
    const opts = options(`${base}/corrupt/cifar.tar.gz`);
    const err = await downloadFile(opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(new RegExp(`Checksum mismatch.*expected ${md5}.*The file was deleted.*data\\.md5`));
    expect(existsSync(join(opts.cacheDir, 'cifar.tar.gz'))).toBe(false);
    expect(existsSync(join(opts.cacheDir, 'cifar.tar.gz.part'))).toBe(false);
  });

  it('fails on a 404 at once, without retrying', async () => {
    const before = seen.filter((s) => s.path === '/missing/cifar.tar.gz').length;
    await expect(downloadFile(options(`${base}/missing/cifar.tar.gz`))).rejects.toThrow(/missing\/cifar\.tar\.gz: HTTP 404/);
    expect(seen.filter((s) => s.path === '/missing/cifar.tar.gz').length - before).toBe(1);
  });

  it('gives up on a stalled body after the idle timeout and the retries', async () => {
    const t0 = Date.now();
    await expect(downloadFile(options(`${base}/stall/cifar.tar.gz`, { idleTimeoutMs: 200, retries: 1 }))).rejects.toThrow(/no data for 200 ms.*after 2 attempts/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('fails fast and clearly on a closed port, offering the ways out', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const t0 = Date.now();
    const err = (await downloadFile(options(`http://127.0.0.1:${port}/cifar.tar.gz`)).catch((e: unknown) => e)) as DownloadError;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(err.offline).toBe(true);
    expect(err.message).toMatch(/cannot connect to http:\/\/127\.0\.0\.1:\d+\/cifar\.tar\.gz \(ECONNREFUSED/);
    expect(err.message).toMatch(/--set data\.archive=PATH.*--profile smoke/);
  });

  it('fails fast and clearly on a host name that does not resolve', async () => {
    const t0 = Date.now();
    const err = (await downloadFile(options('http://cifar-mirror.invalid/cifar.tar.gz')).catch((e: unknown) => e)) as DownloadError;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err.offline).toBe(true);
    expect(err.message).toMatch(/cannot resolve the host name of http:\/\/cifar-mirror\.invalid\/cifar\.tar\.gz \((ENOTFOUND|EAI_AGAIN|EAI_FAIL)/);
    expect(err.message).toMatch(/--set data\.archive=PATH.*--profile smoke/);
  });
});

describe('downloadFile from file:// and bad URLs', () => {
  it('copies a file:// URL and checks it', async () => {
    const src = join(mkdtempSync(join(tmpdir(), 'src-')), 'mirror.tar.gz');
    writeFileSync(src, archive);
    const result = await downloadFile(options(pathToFileURL(src).href));
    expect(readFileSync(result.path).equals(archive)).toBe(true);
    await expect(downloadFile(options(pathToFileURL(src + '.nope').href))).rejects.toThrow(/mirror\.tar\.gz\.nope does not exist/);
  });

  it('names the bad URL', async () => {
    await expect(downloadFile(options('ftp://example.org/x.tgz'))).rejects.toThrow(/data\.url 'ftp:\/\/example\.org\/x\.tgz' has protocol ftp:; allowed: http:, https:, file:/);
    await expect(downloadFile(options('not a url'))).rejects.toThrow(/data\.url 'not a url' is not a URL/);
  });
});
