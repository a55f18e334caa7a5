/**
 * The on-disk artifact store: `<artifacts>/<kind>/<key>/` holds a complete
 * artifact (its meta.json is written before the directory is renamed into
 * place, so a directory with a meta.json is complete). Work in progress lives
 * under dot-directories that never look like artifacts.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import type { ArtifactMeta } from './stage.js';
import type { Fingerprint } from './fingerprint.js';

/** An output file's size and modification time when the artifact was written (cheap damage checks). */
export interface OutputStat {
  size: number;
  mtimeMs: number;
}

/** meta.json as the engine writes it: the contract's fields plus the fingerprint behind the key. */
export interface StoredMeta extends ArtifactMeta {
  fingerprint: Fingerprint;
  outputsDigest: string;
  /** Per output (same keys as `outputs`); absent in artifacts written before it was recorded. */
  files?: Record<string, OutputStat>;
}

/** Files of an artifact that are not outputs: they vary from run to run and must not change downstream keys. */
export const BOOKKEEPING_FILES = ['meta.json', 'log.txt'];

export class ArtifactStore {
  constructor(readonly dir: string) {}

  artifactDir(kind: string, key: string): string {
    return join(this.dir, kind, key);
  }
  metaFile(kind: string, key: string): string {
    return join(this.dir, kind, key, 'meta.json');
  }
  has(kind: string, key: string): boolean {
    return existsSync(this.metaFile(kind, key));
  }
  readMeta(kind: string, key: string): StoredMeta {
    return JSON.parse(readFileSync(this.metaFile(kind, key), 'utf8')) as StoredMeta;
  }
  checkpointDir(kind: string, key: string): string {
    return join(this.dir, '.checkpoints', kind, key);
  }
  logFile(kind: string, key: string): string {
    return join(this.dir, '.logs', kind, `${key}.log`);
  }
  get tmpRoot(): string {
    return join(this.dir, '.tmp');
  }
  get cacheDir(): string {
    return join(this.dir, '.cache');
  }
  get runLockFile(): string {
    return join(this.dir, '.lock');
  }

  /** A fresh, empty directory for one attempt. */
  freshTmpDir(kind: string, key: string): string {
    const dir = join(this.tmpRoot, `${kind}-${key.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Removes what a crashed attempt at this key left in the temp area. */
  clearTmpFor(kind: string, key: string): void {
    if (!existsSync(this.tmpRoot)) return;
    const prefix = `${kind}-${key.slice(0, 16)}-`;
    for (const name of readdirSync(this.tmpRoot)) if (name.startsWith(prefix)) rmSync(join(this.tmpRoot, name), { recursive: true, force: true });
  }

  /** Leftovers of killed attempts; only safe while holding the run lock. */
  clearTmp(): void {
    rmSync(this.tmpRoot, { recursive: true, force: true });
  }

  /**
   * Moves a finished attempt into place, replacing an older copy of the same key (--force).
   * Its files become read-only so that an accidental edit fails loudly; directories stay
   * writable, so that gc and moving a damaged artifact aside still work.
   */
  install(tmpDir: string, kind: string, key: string): void {
    makeFilesReadOnly(tmpDir);
    const target = this.artifactDir(kind, key);
    mkdirSync(join(this.dir, kind), { recursive: true });
    if (existsSync(target)) {
      const aside = `${tmpDir}.old`;
      renameSync(target, aside);
      renameSync(tmpDir, target);
      rmSync(aside, { recursive: true, force: true });
    } else renameSync(tmpDir, target);
  }

  /** Every complete artifact on disk as kind/key pairs. */
  listArtifacts(): { kind: string; key: string; dir: string }[] {
    if (!existsSync(this.dir)) return [];
    const out: { kind: string; key: string; dir: string }[] = [];
    for (const kind of readdirSync(this.dir)) {
      if (kind.startsWith('.')) continue;
      const kindDir = join(this.dir, kind);
      if (!statSync(kindDir).isDirectory()) continue;
      for (const key of readdirSync(kindDir)) out.push({ kind, key, dir: join(kindDir, key) });
    }
    return out;
  }
}

export function hashFile(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** chmod a-w on every file under dir (0444; chmod changes no modification time). */
function makeFilesReadOnly(dir: string): void {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, ent.name);
    if (ent.isDirectory()) makeFilesReadOnly(abs);
    else chmodSync(abs, 0o444);
  }
}

/** Relative path (forward slashes) -> sha256 for every file under dir, bookkeeping files excluded. */
export function digestOutputs(dir: string): Record<string, string> {
  return digestAndStatOutputs(dir).outputs;
}

/** `digestOutputs`, with each output's size and modification time as it is read. */
export function digestAndStatOutputs(dir: string): { outputs: Record<string, string>; files: Record<string, OutputStat> } {
  const outputs: Record<string, string> = {};
  const files: Record<string, OutputStat> = {};
  const walk = (d: string): void => {
    for (const ent of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const abs = join(d, ent.name);
      if (ent.isDirectory()) walk(abs);
      else {
        const rel = relative(dir, abs).split(sep).join('/');
        if (BOOKKEEPING_FILES.includes(rel)) continue;
        const st = statSync(abs);
        outputs[rel] = hashFile(abs);
        files[rel] = { size: st.size, mtimeMs: st.mtimeMs };
      }
    }
  };
  walk(dir);
  return { outputs, files };
}

/** Total bytes of the files under a directory. */
export function directorySize(dir: string): number {
  let total = 0;
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, ent.name);
    total += ent.isDirectory() ? directorySize(abs) : statSync(abs).size;
  }
  return total;
}
