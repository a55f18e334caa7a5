/**
 * Replicate seeds across the whole DAG: `training.seeds` expanded as one axis of the engine's
 * param space (the same expansion a sweep uses), so every per-model stage (train, poisons,
 * surrogates, defenses, analyses) gets one instance per seed. Seed-independent stages (data) are
 * shared. Adding a seed adds only that seed's instances: the others keep their ids, params and
 * deps, so their cached artifacts stay valid.
 */
import type { JsonObject } from '../engine/stage.js';
import { expandAxes } from '../engine/param-space.js';
import { UserError } from '../engine/errors.js';

/** The params path of the replicate axis and the name a point of it carries (`seed-1`). */
export const SEED_AXIS = 'seed';

/** The replicate seeds of params.training.seeds, in order; refuses non-integers and duplicates. */
export function replicateSeeds(params: JsonObject): number[] {
  const training = params.training as JsonObject | undefined;
  const seeds = training?.seeds;
  if (!Array.isArray(seeds) || seeds.length === 0) throw new UserError(`params.training.seeds must be a non-empty list of integer seeds, e.g. [0, 1, 2]; got ${JSON.stringify(seeds)}`);
  const seen = new Set<number>();
  for (const s of seeds) {
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) throw new UserError(`params.training.seeds: ${JSON.stringify(s)} is not a non-negative integer seed (got ${JSON.stringify(seeds)})`);
    if (seen.has(s)) throw new UserError(`params.training.seeds lists seed ${s} twice (got ${JSON.stringify(seeds)}); each replicate seed once`);
    seen.add(s);
  }
  return expandAxes([{ path: SEED_AXIS, values: seeds }]).map((point) => point[0].value as number);
}

/** The prefix a figure or table puts before a per-seed fact key (`seed1/sensitivity/...`). */
export const seedFactPrefix = (seed: number): string => `seed${seed}/`;

/** Every key of `facts` with the seed's prefix. */
export function prefixFacts<T>(seed: number, facts: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(facts).map(([k, v]) => [seedFactPrefix(seed) + k, v]));
}
