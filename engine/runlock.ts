/**
 * One `repro` (or `gc`) at a time per artifacts directory: `<artifacts>/.lock`
 * holds the owner's pid, host and start time. A lock whose pid no longer runs
 * on this host is stale and taken over. By default a second run exits at once
 * naming the holder; with `wait` it polls until the lock is free.
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { UserError } from './errors.js';

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

const POLL_MS = 250;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

export interface RunLock {
  release(): void;
}

export async function acquireRunLock(path: string, command: string, opts: { wait: boolean; onWait?: (owner: LockOwner) => void }): Promise<RunLock> {
  mkdirSync(dirname(path), { recursive: true });
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command };
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          if (readOwner(path)?.pid === me.pid) rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(path);
    // A half-written lock (owner just created the file) is treated as held; a dead local owner's lock is stale.
    if (owner && owner.host === me.host && !alive(owner.pid)) {
      rmSync(path, { force: true });
      continue;
    }
    if (!opts.wait) {
      const who = owner ? `pid ${owner.pid} on ${owner.host} (${owner.command}, since ${owner.startedAt})` : 'another process';
      throw new UserError(`${path} is held by ${who}; wait for it to finish, or rerun with --wait to queue behind it`);
    }
    if (!told && owner) {
      opts.onWait?.(owner);
      told = true;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
