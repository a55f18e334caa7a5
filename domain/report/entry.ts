/**
 * How figure and table artifacts present themselves to the report: entry.json (a ReportEntry
 * with paths relative to the artifact) and facts.json (named numbers for the claims), plus the
 * provenance gathered from upstream artifacts' meta.json.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { ReportEntry, Provenance } from './report.js';
import type { Facts } from './facts.js';

export const ENTRY_FILE = 'entry.json';
export const FACTS_FILE = 'facts.json';

export async function writeEntry(dir: string, entry: ReportEntry, facts: Facts): Promise<void> {
  for (const [k, v] of Object.entries(facts)) if (!Number.isFinite(v)) throw new RangeError(`${entry.id}: fact ${k} is ${v}`);
  await fs.writeFile(join(dir, ENTRY_FILE), JSON.stringify(entry, null, 2) + '\n');
  await fs.writeFile(join(dir, FACTS_FILE), JSON.stringify(facts, null, 2) + '\n');
}

export async function readEntry(dir: string): Promise<{ entry: ReportEntry; facts: Facts }> {
  const entry = JSON.parse(await fs.readFile(join(dir, ENTRY_FILE), 'utf8')) as ReportEntry;
  const facts = JSON.parse(await fs.readFile(join(dir, FACTS_FILE), 'utf8')) as Facts;
  return { entry, facts };
}

/**
 * The parts of an upstream artifact's meta that provenance needs. Its wall time is deliberately
 * not one: entry.json is an output and must be identical run to run, so the report adds the wall
 * time from the figure or table artifact's meta (see withWallSeconds).
 */
export interface UpstreamFacts {
  environment: Record<string, unknown>;
}

export function provenanceOf(profile: string, seeds: number | readonly number[], data: { name: string; synthetic: boolean; test: number }, upstream: UpstreamFacts[]): Provenance {
  const backends = [...new Set(upstream.map((u) => u.environment.backend).filter((b): b is string => typeof b === 'string'))];
  return {
    profile,
    dataset: `${data.name} (${data.test} test images)`,
    synthetic: data.synthetic,
    backend: backends.length ? backends.join(', ') : 'not recorded by the worker environment',
    // Replicate seeds: "0" for one, "0, 1, 2 (n=3)" for several.
    seed: typeof seeds === 'number' ? String(seeds) : seeds.length > 1 ? `${seeds.join(', ')} (n=${seeds.length})` : seeds.join(', '),
  };
}

/** The meta extra key under which figure and table stages record their upstream wall time. */
export const WALL_SECONDS_KEY = 'upstreamWallSeconds';

/** The entry with its provenance's wall time taken from its artifact's meta extra (absent when not recorded). */
export function withWallSeconds(entry: ReportEntry, extra: Record<string, unknown>): ReportEntry {
  const v = extra[WALL_SECONDS_KEY];
  if (v === undefined) return entry;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${entry.kind} ${entry.id}: meta extra.${WALL_SECONDS_KEY} must be a non-negative number of seconds, got ${JSON.stringify(v)}`);
  return { ...entry, provenance: { ...entry.provenance, wallSeconds: v } };
}
