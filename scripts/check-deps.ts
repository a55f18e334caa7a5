/**
 * Fails on a package.json dependency that nothing uses, so that the dependency list says what the
 * project really needs. Used means:
 * - dependencies: imported somewhere in the project's own sources (`import ... from 'pkg'`,
 *   `import 'pkg'`, `export ... from 'pkg'`, `import('pkg')`, `require('pkg')`, subpaths included);
 * - optionalDependencies: imported, or named as a string literal (they are loaded by name at run
 *   time, e.g. the tfjs-node backends in domain/backend/select.ts);
 * - devDependencies: imported, run as a command in package.json scripts or .ci/ (its bin, e.g.
 *   `tsc` for typescript, `--import tsx`), or `@types/X` for an X that is used or a Node built-in.
 *
 *   npx tsx scripts/check-deps.ts     # exit 1 with one line per unused dependency
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/;
/** Folders that hold no sources of ours: installed packages, run outputs, version control. */
const SKIP_DIRS = new Set(['node_modules', '.git', 'artifacts', 'reports', 'coverage', 'dist']);

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
}

export interface UnusedDependency {
  name: string;
  section: 'dependencies' | 'devDependencies' | 'optionalDependencies';
}

function walk(dir: string, keep: (path: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : walk(path, keep);
    return e.isFile() && keep(path) ? [path] : [];
  });
}

/** The package a module specifier names ('@scope/name/sub' -> '@scope/name', 'name/sub' -> 'name'), or null for a relative or node: one. */
export function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const IMPORT_FORMS = [
  /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** Packages imported by a source text. */
export function importedPackages(text: string): Set<string> {
  const out = new Set<string>();
  for (const form of IMPORT_FORMS) {
    for (const m of text.matchAll(form)) {
      const p = packageOf(m[1]);
      if (p) out.add(p);
    }
  }
  return out;
}

/** The command names a package installs (package.json `bin`), read from node_modules when it is there. */
function binsOf(root: string, name: string): string[] {
  const file = join(root, 'node_modules', name, 'package.json');
  if (!existsSync(file)) return [name.split('/').pop()!];
  const bin = (JSON.parse(readFileSync(file, 'utf8')) as { bin?: string | Record<string, string> }).bin;
  if (typeof bin === 'string') return [name.split('/').pop()!];
  return bin ? Object.keys(bin) : [];
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function unusedDependencies(root: string): UnusedDependency[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const sources = walk(root, (p) => SOURCE_FILE.test(p)).map((p) => readFileSync(p, 'utf8'));
  const imported = new Set(sources.flatMap((t) => [...importedPackages(t)]));
  const commandText = [
    ...Object.values(pkg.scripts ?? {}),
    ...(existsSync(join(root, '.ci')) ? walk(join(root, '.ci'), () => true).map((p) => readFileSync(p, 'utf8')) : []),
    ...sources,
  ].join('\n');
  const namedAsString = (name: string) => sources.some((t) => t.includes(`'${name}'`) || t.includes(`"${name}"`));
  const runAsCommand = (name: string) =>
    binsOf(root, name).some((bin) => new RegExp(`(^|[\\s'"\`])(npx\\s+)?${escapeRegExp(bin)}(\\s|$|['"\`])|--import[\\s=]+['"]?${escapeRegExp(name)}\\b`, 'm').test(commandText));
  const builtins = new Set(builtinModules.map((m) => m.replace(/^node:/, '')));
  const typesUsed = (name: string) => {
    const of = name.replace(/^@types\//, '');
    const target = of.includes('__') ? `@${of.replace('__', '/')}` : of;
    // @types/node types the Node built-ins as a whole.
    if (target === 'node') return sources.some((t) => /\bfrom\s*['"]node:/.test(t));
    return builtins.has(target) || imported.has(target);
  };

  const unused: UnusedDependency[] = [];
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    if (!imported.has(name)) unused.push({ name, section: 'dependencies' });
  }
  for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
    if (!imported.has(name) && !namedAsString(name)) unused.push({ name, section: 'optionalDependencies' });
  }
  for (const name of Object.keys(pkg.devDependencies ?? {})) {
    const used = name.startsWith('@types/') ? typesUsed(name) : imported.has(name) || runAsCommand(name);
    if (!used) unused.push({ name, section: 'devDependencies' });
  }
  return unused;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(fileURLToPath(import.meta.url), '..', '..'));
  const unused = unusedDependencies(root);
  for (const u of unused) console.error(`unused ${u.section} entry '${u.name}': nothing in ${root} imports it; remove it from package.json (npm uninstall ${u.name})`);
  if (unused.length === 0) console.log('every dependency in package.json is used');
  process.exitCode = unused.length > 0 ? 1 : 0;
}
