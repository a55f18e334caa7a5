/**
 * Loading a pipeline: effective params (validated), the stage kinds' source
 * closures, their instances, and the DAG. Instance lists are cached by
 * (module sources, params), so a no-op run imports no stage module at all
 * (and so none of the heavy libraries they use).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { buildDag, type Dag, type KindInstances } from './graph.js';
import { canonicalJson, sha256 } from './json.js';
import { readLock, type LockData } from './lockfile.js';
import { effectiveParams, parseParamsFile, readJsonFile, type ParamsFile, type ParamsSelection } from './params.js';
import { SourceHasher, type SourceClosure } from './sources.js';
import type { JsonObject, StageInstance } from './stage.js';
import { ArtifactStore } from './store.js';
import type { Command } from './commands/command.js';
import { UserError } from './errors.js';

export interface PipelineDefinition {
  /** Absolute path of the project root; every other path is relative to it. */
  root: string;
  paramsFile: string;
  schemaFile: string;
  artifactsDir: string;
  lockFile: string;
  /** Where `exp run` records experiments (NAME.json), relative to the root; default `experiments`. */
  experimentsDir?: string;
  /** Modules whose default export is a StageKind, relative to the root. */
  stageModules: string[];
  /** Optional module exporting `setup(params): Promise<JsonObject>`, run once per worker. */
  environmentModule?: string;
  /**
   * Optional module exporting `checkParams(params): string[]`: bounds the schema cannot express
   * (e.g. a class index against the data set's class count). Each string is one problem, naming
   * the value and what is allowed; run after the schema check, before anything runs.
   */
  paramsCheckModule?: string;
  /** Optional module exporting `estimateSeconds: Estimator` (see stage.ts), for `repro --dry-run`'s time estimate. */
  estimatorModule?: string;
  /** Extra CLI commands (e.g. report builders) beside the built-in ones. */
  commands?: Command[];
}

export const resolvePath = (def: PipelineDefinition, p: string): string => (isAbsolute(p) ? p : join(def.root, p));

export interface Project {
  def: PipelineDefinition;
  paramsFile: ParamsFile;
  profile?: string;
  params: JsonObject;
  dag: Dag;
  store: ArtifactStore;
  closures: Map<string, SourceClosure>;
  lock: LockData;
  lockPath: string;
}

export function readParamsFile(def: PipelineDefinition): ParamsFile {
  const path = resolvePath(def, def.paramsFile);
  return parseParamsFile(readJsonFile(path, 'params file'), path);
}

export async function resolveParams(def: PipelineDefinition, file: ParamsFile, sel: ParamsSelection): Promise<{ profile?: string; params: JsonObject }> {
  const eff = effectiveParams(file, sel);
  const schemaPath = resolvePath(def, def.schemaFile);
  const schema = readJsonFile(schemaPath, 'params schema');
  // Compiling a schema costs more than a whole no-op run; params already found valid against this schema (and check module) are not checked again.
  const checkPath = def.paramsCheckModule ? resolvePath(def, def.paramsCheckModule) : undefined;
  const checkSource = checkPath ? readFileSync(checkPath, 'utf8') : null;
  const marker = join(resolvePath(def, def.artifactsDir), '.cache', 'valid-params', sha256(canonicalJson({ schema, params: eff.params, checkSource })));
  if (existsSync(marker)) return eff;
  const source = [def.paramsFile, eff.profile !== undefined ? `profile ${eff.profile}` : undefined, ...sel.overrides.map((o) => `--set ${o}`)]
    .filter(Boolean)
    .join(', ');
  const { validateParams } = await import('./validate.js');
  await validateParams(eff.params, schema, source);
  if (checkPath) {
    const { pathToFileURL } = await import('node:url');
    const mod = (await import(pathToFileURL(checkPath).href)) as { checkParams?: (p: JsonObject) => string[] };
    if (typeof mod.checkParams !== 'function') throw new Error(`${def.paramsCheckModule} must export checkParams(params): string[]`);
    const problems = mod.checkParams(eff.params);
    if (problems.length) throw new UserError(`invalid params (${source}):\n${problems.map((l) => `  ${l}`).join('\n')}`);
  }
  mkdirSync(dirname(marker), { recursive: true });
  writeFileSync(marker, '');
  return eff;
}

interface ExpansionCacheEntry {
  kind: string;
  instances: StageInstance[];
}

async function expandKind(def: PipelineDefinition, store: ArtifactStore, module: string, closure: SourceClosure, params: JsonObject): Promise<KindInstances> {
  const cacheFile = join(store.cacheDir, 'instances', `${sha256(canonicalJson({ module, closure, params }))}.json`);
  if (existsSync(cacheFile)) {
    try {
      const hit = JSON.parse(readFileSync(cacheFile, 'utf8')) as ExpansionCacheEntry;
      return { kind: hit.kind, module, instances: hit.instances };
    } catch {
      // Re-expand below.
    }
  }
  // Only on a cache miss: the stage module (and whatever it imports) is loaded into the coordinator.
  const { loadKind } = await import('./run-instance.js');
  const kind = await loadKind(def.root, module);
  let instances: StageInstance[];
  try {
    instances = kind.instances(params);
  } catch (err) {
    // A stage rejecting its params slice is the user's to fix (no stack); a TypeError or the
    // like is a bug in the stage, reported as an internal error with its stack.
    if (isBug(err)) throw new Error(`${module}: instances(params) threw: ${(err as Error).message}`, { cause: err });
    throw new UserError(`params rejected by ${module}: ${(err as Error)?.message ?? String(err)}`);
  }
  if (!Array.isArray(instances)) throw new Error(`${module}: instances(params) must return an array`);
  // Round-trip through JSON so the cached and the fresh expansion are the same values.
  const entry: ExpansionCacheEntry = JSON.parse(JSON.stringify({ kind: kind.kind, instances })) as ExpansionCacheEntry;
  mkdirSync(join(store.cacheDir, 'instances'), { recursive: true });
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(entry));
  renameSync(tmp, cacheFile);
  return { kind: entry.kind, module, instances: entry.instances };
}

/** Expands the DAG for already validated params. */
export async function expandDag(def: PipelineDefinition, params: JsonObject, store: ArtifactStore, hasher: SourceHasher): Promise<{ dag: Dag; closures: Map<string, SourceClosure> }> {
  const kinds: KindInstances[] = [];
  const closures = new Map<string, SourceClosure>();
  for (const module of def.stageModules) {
    const closure = hasher.closure(module);
    const expanded = await expandKind(def, store, module, closure, params);
    closures.set(expanded.kind, closure);
    kinds.push(expanded);
  }
  hasher.save();
  return { dag: buildDag(kinds), closures };
}

export async function loadProject(def: PipelineDefinition, sel: ParamsSelection): Promise<Project> {
  const paramsFile = readParamsFile(def);
  const { profile, params } = await resolveParams(def, paramsFile, sel);
  const store = new ArtifactStore(resolvePath(def, def.artifactsDir));
  const hasher = new SourceHasher(def.root, join(store.cacheDir, 'sources.json'));
  const { dag, closures } = await expandDag(def, params, store, hasher);
  const lockPath = resolvePath(def, def.lockFile);
  return { def, paramsFile, profile, params, dag, store, closures, lock: readLock(lockPath), lockPath };
}

function isBug(err: unknown): boolean {
  return err instanceof TypeError || err instanceof ReferenceError || err instanceof SyntaxError || !(err instanceof Error);
}
