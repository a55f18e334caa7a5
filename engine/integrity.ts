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

/**
 * What the last check that found an artifact intact saw: [size, mtimeMs] of meta.json and of each
 * output, and the mtimeMs of each directory ('' is the artifact's own). A directory's time
 * changes whenever an entry is added, removed or renamed in it, so while every directory's time
 * is unchanged the listing is too: no file missing, no stray file, without reading the directory.
 */
interface VerifiedEntry {
  meta: [number, number];
  files: Record<string, [number, number]>;
  dirs?: Record<string, number>;
}

interface Listing {
  files: Set<string>;
  dirs: Record<string, number>;
}

/** Every file under dir (relative, forward slashes) and each directory's time, taken before reading it. Throws ENOENT when dir does not exist. */
function listDir(dir: string): Listing {
  const files = new Set<string>();
  const dirs: Record<string, number> = {};
  const walk = (d: string, prefix: string): void => {
    dirs[prefix.slice(0, -1)] = statSync(d).mtimeMs;
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      if (ent.isDirectory()) walk(join(d, ent.name), `${prefix}${ent.name}/`);
      else files.add(`${prefix}${ent.name}`);
    }
  };
  walk(dir, '');
  return { files, dirs };
}

/** True when every recorded directory still has its recorded time; undefined when the artifact directory is gone. */
function dirsUnchanged(dir: string, dirs: Record<string, number>): boolean | undefined {
  for (const rel in dirs) {
    const st = statSync(rel ? join(dir, rel) : dir, { throwIfNoEntry: false });
    if (!st) return rel ? false : undefined;
    if (st.mtimeMs !== dirs[rel]) return false;
  }
  return true;
}

function describeChange(rel: string, rec: [number, number] | OutputStat | undefined, st: Stats): string {
  const was = Array.isArray(rec) ? rec[0] : rec?.size;
  if (was !== undefined && st.size < was) return `${rel} truncated (${st.size} bytes, was ${was})`;
  if (was !== undefined && st.size !== was) return `${rel} modified since it was written (${st.size} bytes, was ${was})`;
  return `${rel} modified since it was written`;
}

const statOf = (rec: [number, number] | OutputStat | undefined): [number, number] | undefined =>
  rec === undefined ? undefined : Array.isArray(rec) ? rec : [rec.size, rec.mtimeMs];

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
   * (`expected`, from the lock or meta.json; called only when meta.json is unchanged
   * since the last good check). A no-op check is one stat per directory and per file.
   */
  check(kind: string, key: string, expected: () => Record<string, string>): IntegrityCheck {
    const dir = this.store.artifactDir(kind, key);
    const slot = `${kind}/${key}`;
    const cached = this.full ? undefined : this.verified[slot];
    let listing: Listing | undefined;
    const same = cached?.dirs ? dirsUnchanged(dir, cached.dirs) : false;
    if (same === undefined) return { state: 'absent' };
    if (!same) {
      try {
        listing = listDir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
        return this.damaged(slot, [`its directory is unreadable (${(err as Error).message})`]);
      }
      if (!listing.files.has('meta.json')) return this.damaged(slot, ['meta.json missing']);
    }
    const metaStat = statSync(join(dir, 'meta.json'), { throwIfNoEntry: false });
    if (!metaStat) return this.damaged(slot, ['meta.json missing']);
    const metaSame = cached !== undefined && cached.meta[0] === metaStat.size && cached.meta[1] === metaStat.mtimeMs;
    let recorded: Record<string, [number, number] | OutputStat | undefined>;
    let digests: Record<string, string>;
    if (metaSame) {
      recorded = cached.files;
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
    let changed = !metaSame || listing !== undefined;
    for (const rel in digests) {
      const abs = join(dir, rel);
      const st = listing && !listing.files.has(rel) ? undefined : statSync(abs, { throwIfNoEntry: false });
      if (!st) {
        problems.push(`${rel} missing`);
        continue;
      }
      const rec = statOf(recorded[rel]);
      // Same size and time as when last found intact (or written): trusted without reading it.
      if (this.full || rec === undefined || rec[0] !== st.size || rec[1] !== st.mtimeMs) {
        changed = true;
        this.rehashed.files += 1;
        this.rehashed.bytes += st.size;
        if (hashFile(abs) !== digests[rel]) {
          problems.push(describeChange(rel, recorded[rel], st));
          continue;
        }
      }
      intact[rel] = [st.size, st.mtimeMs];
    }
    if (listing) {
      for (const rel of listing.files) {
        if (!(rel in digests) && !BOOKKEEPING_FILES.includes(rel)) problems.push(`stray file ${rel} (not written by the stage)`);
      }
    }
    if (problems.length) return this.damaged(slot, problems);
    if (changed || !cached) {
      this.verified[slot] = { meta: [metaStat.size, metaStat.mtimeMs], files: intact, dirs: listing?.dirs ?? cached?.dirs };
      this.dirty = true;
    }
    return { state: 'ok' };
  }

  /**
   * A freshly written artifact: its stats as written are its verified ones, so the next run
   * neither reads its meta.json nor lists its directory. Anything unexpected is left to `check`.
   */
  remember(meta: StoredMeta): void {
    if (!meta.files) return;
    const slot = `${meta.kind}/${meta.key}`;
    try {
      const dir = this.store.artifactDir(meta.kind, meta.key);
      const listing = listDir(dir);
      const expected = new Set([...Object.keys(meta.files), ...BOOKKEEPING_FILES.filter((f) => listing.files.has(f))]);
      if (listing.files.size !== expected.size || [...listing.files].some((f) => !expected.has(f))) return;
      const st = statSync(join(dir, 'meta.json'));
      this.verified[slot] = {
        meta: [st.size, st.mtimeMs],
        files: Object.fromEntries(Object.entries(meta.files).map(([rel, s]) => [rel, [s.size, s.mtimeMs]])),
        dirs: listing.dirs,
      };
      this.dirty = true;
    } catch {
      // Not installed where expected: the next check looks at it from scratch.
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
