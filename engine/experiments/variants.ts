/**
 * The variants of an `exp run`: for each sweep point, its params (profile, then `--set`, then the
 * point, validated against the schema before anything runs), its DAG, and the instances its
 * targets need. Each variant is a whole Project, so its instances keep their ids and keys.
 */
import { join } from 'node:path';
import { resolveTargets, withAncestors } from '../graph.js';
import { canonicalJson, sha256 } from '../json.js';
import { applyAssignment } from '../param-space.js';
import { effectiveParams, readJsonFile } from '../params.js';
import { expandDag, readParamsFile, resolvePath, type PipelineDefinition, type Project } from '../project.js';
import { readLock } from '../lockfile.js';
import { SourceHasher } from '../sources.js';
import { ArtifactStore } from '../store.js';
import type { JsonObject } from '../stage.js';
import { checkAxesExist, parseSweep, sweepVariants, type Variant } from './sweep.js';

export interface PreparedVariant extends Variant {
  project: Project;
  /** The targets and their ancestors, in DAG order. */
  ids: string[];
  /** The targets themselves (for --force). */
  targets: string[];
}

export interface Prepared {
  variants: PreparedVariant[];
  /** Profile params and `--set`, without a sweep point: what the executor and workers are configured from. */
  baseParams: JsonObject;
  /** The profile's own params (no `--set`): what an experiment's changes are measured against. */
  profileParams: JsonObject;
  profile?: string;
  store: ArtifactStore;
}

export interface VariantRequest {
  name: string;
  profile?: string;
  overrides: string[];
  sweeps: string[];
  targets: string[];
}

export async function prepareVariants(def: PipelineDefinition, req: VariantRequest): Promise<Prepared> {
  const file = readParamsFile(def);
  const axes = req.sweeps.map(parseSweep);
  const base = effectiveParams(file, { profile: req.profile, overrides: req.overrides });
  checkAxesExist(axes, base.params);
  const profileParams = effectiveParams(file, { profile: req.profile, overrides: [] }).params;
  const schema = readJsonFile(resolvePath(def, def.schemaFile), 'params schema');
  const { validateParams } = await import('../validate.js');
  const store = new ArtifactStore(resolvePath(def, def.artifactsDir));
  const hasher = new SourceHasher(def.root, join(store.cacheDir, 'sources.json'));
  const lockPath = resolvePath(def, def.lockFile);
  const lock = readLock(lockPath);
  const variants: PreparedVariant[] = [];
  // Every variant is checked (params, DAG, targets) before any runs.
  for (const v of sweepVariants(req.name, axes)) {
    const params = applyAssignment(base.params, v.assignment);
    const source = [
      def.paramsFile,
      base.profile !== undefined ? `profile ${base.profile}` : undefined,
      ...req.overrides.map((o) => `--set ${o}`),
      ...v.assignment.map((a) => `--sweep ${a.path}=${JSON.stringify(a.value)} (variant ${v.name})`),
    ]
      .filter(Boolean)
      .join(', ');
    await validateParams(params, schema, source);
    const { dag, closures } = await expandDag(def, params, store, hasher);
    const project: Project = { def, paramsFile: file, profile: base.profile, params, dag, store, closures, lock, lockPath };
    const targets = resolveTargets(dag, req.targets);
    variants.push({ ...v, project, targets, ids: withAncestors(dag, targets) });
  }
  return { variants, baseParams: base.params, profileParams, profile: base.profile, store };
}

/**
 * A structural identity of each instance: its id, kind, params and its dependencies' identities.
 * Two variants' instances with one identity have one key (same code, params and inputs), so they
 * run once; the dry run counts sharing with it before any upstream key is known.
 */
export function identities(project: Project, ids: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of ids) {
    const n = project.dag.nodes.get(id)!;
    const deps = Object.fromEntries(Object.entries(n.deps).map(([local, dep]) => [local, out.get(dep) ?? sha256(dep)]));
    out.set(id, sha256(canonicalJson({ id, kind: n.kind, module: n.module, params: n.params, deps })));
  }
  return out;
}
