/**
 * What a stage kind's code consists of: its module and every local module it
 * imports, transitively, each with the sha256 of its text; bare package
 * imports contribute the installed package's version instead of its source.
 * File hashes are cached by (size, mtime) so that a no-op run reads no source.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UserError } from './errors.js';
import { sha256 } from './json.js';

export interface SourceClosure {
  /** Path relative to the root (forward slashes) -> sha256 of the file's text. */
  sources: Record<string, string>;
  /** Package name -> installed version. */
  packages: Record<string, string>;
}

interface FileEntry {
  size: number;
  mtimeMs: number;
  sha: string;
  /** Local specifiers already resolved to root-relative paths. */
  locals: string[];
  packages: string[];
}

interface CacheData {
  version: 1;
  files: Record<string, FileEntry>;
}

/** A file modified this recently may be modified again within the same mtime tick, so its hash is not cached. */
const RACY_WINDOW_MS = 2000;

const IMPORT_FROM = /\bimport\s+(type\s+)?[\w$*{},\s]*?\s*from\s*['"]([^'"\n]+)['"]/g;
const EXPORT_FROM = /\bexport\s+(type\s+)?(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s*['"]([^'"\n]+)['"]/g;
const SIDE_EFFECT = /\bimport\s*['"]([^'"\n]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;

/** Specifiers a module imports at run time (type-only imports are erased, so they do not count). */
export function importSpecifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const re of [IMPORT_FROM, EXPORT_FROM]) {
    for (const m of code.matchAll(re)) if (!m[1]) out.push(m[2]);
  }
  for (const re of [SIDE_EFFECT, DYNAMIC]) for (const m of code.matchAll(re)) out.push(m[1]);
  return [...new Set(out)];
}

const BUILTINS = new Set(builtinModules);

export function packageName(spec: string): string | undefined {
  if (spec.startsWith('node:') || BUILTINS.has(spec) || BUILTINS.has(spec.split('/')[0])) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const toPosix = (p: string): string => p.split(sep).join('/');

export class SourceHasher {
  private cache: CacheData;
  private dirty = false;
  private closures = new Map<string, SourceClosure>();
  private versions = new Map<string, string>();

  constructor(
    private readonly root: string,
    private readonly cacheFile?: string,
  ) {
    this.cache = { version: 1, files: {} };
    if (cacheFile && existsSync(cacheFile)) {
      try {
        const data = JSON.parse(readFileSync(cacheFile, 'utf8')) as CacheData;
        if (data.version === 1) this.cache = data;
      } catch {
        // A corrupt cache only costs re-hashing.
      }
    }
  }

  /** The closure of a module given relative to the root. */
  closure(modulePath: string): SourceClosure {
    const start = this.resolveLocal(toPosix(modulePath), undefined, modulePath);
    const cached = this.closures.get(start);
    if (cached) return cached;
    const sources: Record<string, string> = {};
    const packages: Record<string, string> = {};
    const stack = [start];
    while (stack.length) {
      const file = stack.pop()!;
      if (sources[file] !== undefined) continue;
      const entry = this.entry(file);
      sources[file] = entry.sha;
      for (const p of entry.packages) packages[p] = this.packageVersion(p);
      stack.push(...entry.locals);
    }
    const result = { sources: sortRecord(sources), packages: sortRecord(packages) };
    this.closures.set(start, result);
    return result;
  }

  /** Writes the stat cache if anything was hashed afresh. */
  save(): void {
    if (!this.cacheFile || !this.dirty) return;
    mkdirSync(dirname(this.cacheFile), { recursive: true });
    const tmp = `${this.cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.cache));
    renameSync(tmp, this.cacheFile);
    this.dirty = false;
  }

  private entry(file: string): FileEntry {
    const abs = join(this.root, file);
    const st = statSync(abs);
    const hit = this.cache.files[file];
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit;
    const text = readFileSync(abs, 'utf8');
    const locals: string[] = [];
    const packages: string[] = [];
    for (const spec of importSpecifiers(text)) {
      if (spec.startsWith('.') || spec.startsWith('/')) locals.push(this.resolveLocal(spec, file, spec));
      else {
        const name = packageName(spec);
        if (name) packages.push(name);
      }
    }
    const entry: FileEntry = { size: st.size, mtimeMs: st.mtimeMs, sha: sha256(text), locals, packages };
    if (Date.now() - st.mtimeMs > RACY_WINDOW_MS) {
      this.cache.files[file] = entry;
      this.dirty = true;
    }
    return entry;
  }

  /** `./x.js` -> the `x.ts` that exists next to the importer (as tsx resolves it). */
  private resolveLocal(spec: string, importer: string | undefined, shown: string): string {
    const base = importer ? dirname(join(this.root, importer)) : this.root;
    const abs = resolve(base, spec);
    const candidates = [abs];
    if (/\.[cm]?js$/.test(abs)) candidates.unshift(abs.replace(/\.([cm]?)js$/, '.$1ts'));
    candidates.push(`${abs}.ts`, join(abs, 'index.ts'));
    for (const c of candidates) {
      if (existsSync(c) && statSync(c).isFile()) return toPosix(relative(this.root, c));
    }
    throw new UserError(
      importer ? `${importer} imports ${JSON.stringify(shown)}, which does not exist (looked for ${candidates.map((c) => relative(this.root, c)).join(', ')})`
        : `stage module ${JSON.stringify(shown)} does not exist under ${this.root}`,
    );
  }

  private packageVersion(name: string): string {
    let v = this.versions.get(name);
    if (v !== undefined) return v;
    v = 'not installed';
    for (let dir = this.root; ; dir = dirname(dir)) {
      const pj = join(dir, 'node_modules', name, 'package.json');
      if (existsSync(pj)) {
        v = String((JSON.parse(readFileSync(pj, 'utf8')) as { version?: string }).version ?? 'unknown');
        break;
      }
      if (dirname(dir) === dir) break;
    }
    this.versions.set(name, v);
    return v;
  }
}

function sortRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
