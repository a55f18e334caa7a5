/**
 * Effective params = base params.json (without `profiles`/`defaultProfile`),
 * deep-merged with the chosen profile, then each `--set a.b=value`; validated
 * against the JSON Schema before anything runs.
 */
import { readFileSync } from 'node:fs';
import { closest } from 'fastest-levenshtein';
import { deepMerge, isPlainObject, show } from './json.js';
import { UserError } from './errors.js';
import type { Json, JsonObject } from './stage.js';

/** Keys of params.json that configure the profiles rather than the experiment. */
const META_KEYS = ['profiles', 'defaultProfile', '$schema', '$comment'];

export interface ParamsFile {
  base: JsonObject;
  profiles: Record<string, JsonObject>;
  defaultProfile?: string;
}

export function readJsonFile(path: string, what: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new UserError(`${what} ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

export function parseParamsFile(raw: Json, path: string): ParamsFile {
  if (!isPlainObject(raw)) throw new UserError(`${path} must hold a JSON object, got ${show(raw)}`);
  const profiles = raw.profiles ?? {};
  if (!isPlainObject(profiles)) throw new UserError(`${path}: "profiles" must be an object of name -> patch, got ${show(profiles)}`);
  for (const [name, patch] of Object.entries(profiles)) {
    if (!isPlainObject(patch)) throw new UserError(`${path}: profiles.${name} must be an object (a patch), got ${show(patch)}`);
  }
  const defaultProfile = raw.defaultProfile;
  if (defaultProfile !== undefined && typeof defaultProfile !== 'string') {
    throw new UserError(`${path}: "defaultProfile" must be a profile name, got ${show(defaultProfile)}`);
  }
  const base: JsonObject = {};
  for (const [key, value] of Object.entries(raw)) if (!META_KEYS.includes(key)) base[key] = value;
  const file: ParamsFile = { base, profiles: profiles as Record<string, JsonObject>, defaultProfile };
  if (defaultProfile !== undefined) checkProfileName(file, defaultProfile, `${path}: defaultProfile`);
  return file;
}

function checkProfileName(file: ParamsFile, name: string, where: string): void {
  if (Object.hasOwn(file.profiles, name)) return;
  const known = Object.keys(file.profiles);
  const hint = known.length ? `; known profiles: ${known.join(', ')} (closest: ${closest(name, known)})` : '; params.json defines no profiles';
  throw new UserError(`${where}: unknown profile ${JSON.stringify(name)}${hint}`);
}

/** A `--set a.b.c=value` override: the value is parsed as JSON, else taken as a string. */
export interface Override {
  path: string[];
  value: Json;
  text: string;
}

export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${JSON.stringify(text)}: expected dotted.key=value, e.g. --set training.epochs=3`);
  const path = text.slice(0, eq).split('.');
  if (path.some((p) => p === '')) throw new UserError(`--set ${JSON.stringify(text)}: empty segment in key ${JSON.stringify(text.slice(0, eq))}`);
  const rawValue = text.slice(eq + 1);
  let value: Json;
  try {
    value = JSON.parse(rawValue) as Json;
  } catch {
    value = rawValue;
  }
  return { path, value, text };
}

function applyOverride(params: JsonObject, o: Override): JsonObject {
  const out = structuredClone(params);
  let node: JsonObject = out;
  for (let i = 0; i < o.path.length - 1; i++) {
    const key = o.path[i];
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (!isPlainObject(next)) {
      throw new UserError(`--set ${o.text}: ${o.path.slice(0, i + 1).join('.')} is ${show(next)}, not an object`);
    }
    node = node[key] as JsonObject;
  }
  node[o.path[o.path.length - 1]] = o.value;
  return out;
}

export interface ParamsSelection {
  profile?: string;
  overrides: string[];
}

export interface EffectiveParams {
  /** The profile applied, if any (explicit, else params.json's defaultProfile). */
  profile?: string;
  params: JsonObject;
}

export function effectiveParams(file: ParamsFile, sel: ParamsSelection): EffectiveParams {
  const profile = sel.profile ?? file.defaultProfile;
  let params = file.base;
  if (profile !== undefined) {
    checkProfileName(file, profile, sel.profile !== undefined ? '--profile' : 'defaultProfile');
    params = deepMerge(params, file.profiles[profile]);
  }
  for (const text of sel.overrides) params = applyOverride(params, parseOverride(text));
  return { profile, params };
}
