/**
 * Is a cached artifact still what the engine wrote? Each output's size and
 * modification time are recorded in meta.json when the artifact is written;
 * a check stats every output file (and lists the directory, for stray files)
 * and rehashes a file only when its size or time differs from the last
 * verified one. Missing files, changed digests, stray files and a missing
 * meta.json make an artifact damaged; `repro` moves a damaged artifact aside
 * (never deletes it) and rebuilds it.
 *
 * The last verified stats live in `<artifacts>/.cache/verified.json`, so a
 * no-op run reads one small file instead of every artifact's meta.json.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Reason } from './fingerprint.js';
import type { Project } from './project.js';
import { ArtifactStore, BOOKKEEPING_FILES, hashFile, type OutputStat, type StoredMeta } from './store.js';

export type IntegrityCheck =
  | { state: 'ok' }
  /** No directory at this key: never built, or deleted (gc). Not damage. */
  | { state: 'absent' }
  | { state: 'damaged'; problems: string[] };

/** [size, mtimeMs] of meta.json and of each output at the last check that found them intact. */
interface VerifiedEntry {
  meta: [number, number];
  files: Record<string, [number, number]>;
}

const sameStat = (rec: { size: number; mtimeMs: number } | undefined, st: Stats): boolean =>
  rec !== undefined && rec.size === st.size && rec.mtimeMs === st.mtimeMs;

/** Relative paths (forward slashes) of every file under dir. Throws ENOENT when dir does not exist. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string): void => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      if (ent.isDirectory()) walk(join(d, ent.name), `${prefix}${ent.name}/`);
      else out.push(`${prefix}${ent.name}`);
    }
  };
  walk(dir, '');
  return out;
}

function describeChange(rel: string, rec: OutputStat | undefined, st: Stats): string {
  if (rec && st.size < rec.size) return `${rel} truncated (${st.size} bytes, was ${rec.size})`;
  if (rec && st.size !== rec.size) return `${rel} modified since it was written (${st.size} bytes, was ${rec.size})`;
  return `${rel} modified since it was written`;
}

export class IntegrityChecker {
  /** Rehash every output regardless of its stats (`verify`, `repro --verify`). */
  full = false;
  /** Files read and hashed by checks so far. */
  readonly rehashed = { files: 0, bytes: 0 };
  private readonly cacheFile: string;
  private verified: Record<string, VerifiedEntry> = {};
  private dirty = false;

  constructor(private readonly store: ArtifactStore) {
    this.cacheFile = join(store.cacheDir, 'verified.json');
    if (existsSync(this.cacheFile)) {
      try {
        this.verified = JSON.parse(readFileSync(this.cacheFile, 'utf8')) as Record<string, VerifiedEntry>;
      } catch {
        // A torn cache only costs rehashing.
      }
    }
  }

  /**
   * Checks the artifact at kind/key against the digests it was written with
   * (`expected`, from the lock or meta.json, read only once the directory is
   * known to hold a meta.json).
   */
  check(kind: string, key: string, expected: () => Record<string, string>): IntegrityCheck {
    const dir = this.store.artifactDir(kind, key);
    const slot = `${kind}/${key}`;
    let files: string[];
    try {
      files = listFiles(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
      return { state: 'damaged', problems: [`its directory is unreadable (${(err as Error).message})`] };
    }
    const present = new Set(files);
    if (!present.has('meta.json')) return this.damaged(slot, ['meta.json missing']);
    const metaStat = statSync(join(dir, 'meta.json'));
    const cached = this.verified[slot];
    let recorded: Record<string, OutputStat | undefined>;
    let digests: Record<string, string>;
    if (!this.full && cached && cached.meta[0] === metaStat.size && cached.meta[1] === metaStat.mtimeMs) {
      recorded = Object.fromEntries(Object.entries(cached.files).map(([rel, [size, mtimeMs]]) => [rel, { size, mtimeMs }]));
      digests = expected();
    } else {
      let meta: StoredMeta;
      try {
        meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as StoredMeta;
      } catch (err) {
        return this.damaged(slot, [`meta.json unreadable (${(err as Error).message})`]);
      }
      recorded = meta.files ?? {};
      digests = meta.outputs;
    }
    const problems: string[] = [];
    const intact: Record<string, [number, number]> = {};
    for (const [rel, digest] of Object.entries(digests)) {
      if (!present.has(rel)) {
        problems.push(`${rel} missing`);
        continue;
      }
      const abs = join(dir, rel);
      const st = statSync(abs);
      const rec = recorded[rel];
      // Same size and time as when last found intact: trusted without reading it.
      if (this.full || !sameStat(rec, st)) {
        this.rehashed.files += 1;
        this.rehashed.bytes += st.size;
        if (hashFile(abs) !== digest) {
          problems.push(describeChange(rel, rec, st));
          continue;
        }
      }
      intact[rel] = [st.size, st.mtimeMs];
    }
    for (const rel of files) {
      if (!(rel in digests) && !BOOKKEEPING_FILES.includes(rel)) problems.push(`stray file ${rel} (not written by the stage)`);
    }
    if (problems.length) return this.damaged(slot, problems);
    const entry: VerifiedEntry = { meta: [metaStat.size, metaStat.mtimeMs], files: intact };
    if (!cached || JSON.stringify(cached) !== JSON.stringify(entry)) {
      this.verified[slot] = entry;
      this.dirty = true;
    }
    return { state: 'ok' };
  }

  /** A freshly written artifact: its recorded stats are its verified ones (saves the next run reading meta.json). */
  remember(meta: StoredMeta): void {
    if (!meta.files) return;
    try {
      const st = statSync(this.store.metaFile(meta.kind, meta.key));
      this.verified[`${meta.kind}/${meta.key}`] = {
        meta: [st.size, st.mtimeMs],
        files: Object.fromEntries(Object.entries(meta.files).map(([rel, s]) => [rel, [s.size, s.mtimeMs]])),
      };
      this.dirty = true;
    } catch {
      // Not installed where expected: the next check reads meta.json.
    }
  }

  private damaged(slot: string, problems: string[]): IntegrityCheck {
    if (slot in this.verified) {
      delete this.verified[slot];
      this.dirty = true;
    }
    return { state: 'damaged', problems };
  }

  /** Writes the verified stats if anything changed (a no-op run writes nothing). */
  save(): void {
    if (!this.dirty) return;
    mkdirSync(dirname(this.cacheFile), { recursive: true });
    const tmp = `${this.cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.verified));
    renameSync(tmp, this.cacheFile);
    this.dirty = false;
  }
}

const checkers = new WeakMap<Project, IntegrityChecker>();

/** The project's checker (one per loaded project, shared by plan and scheduler). */
export function integrityOf(project: Project): IntegrityChecker {
  let c = checkers.get(project);
  if (!c) checkers.set(project, (c = new IntegrityChecker(project.store)));
  return c;
}

export const damagedReason = (key: string, problems: string[]): Reason => ({ type: 'damaged', key, problems });

/**
 * Moves a damaged artifact to `<artifacts>/.damaged/<kind>/<key>-<time>/` with a NOTE saying
 * why; returns the new directory. Only while holding the run lock.
 */
export function moveAside(store: ArtifactStore, id: string, kind: string, key: string, problems: string[]): string {
  const when = new Date();
  const dest = join(store.dir, '.damaged', kind, `${key}-${when.toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dirname(dest), { recursive: true });
  renameSync(store.artifactDir(kind, key), dest);
  const lines = [
    `${id} (${kind}/${key})`,
    `moved here by repro at ${when.toISOString()} because it no longer matched what the pipeline wrote:`,
    ...problems.map((p) => `  - ${p}`),
    'It was rebuilt in place; this copy is kept only for inspection and can be deleted.',
  ];
  writeFileSync(join(dest, 'NOTE'), `${lines.join('\n')}\n`);
  return dest;
}
