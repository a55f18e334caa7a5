/**
 * What a detecting defense (Neural Cleanse) flagged, read from its metrics.json for the tables.
 * Kept apart from the evaluation readers that every defense stage imports, so that the report
 * side can grow without touching their cache keys.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

export interface Detection {
  flagged: number[];
  target: number;
  targetFlagged: boolean;
  targetAnomalyIndex: number;
}

/** The detection recorded in `dir`/metrics.json, or undefined where the defense detects nothing (every other defense). */
export async function readDetection(dir: string): Promise<Detection | undefined> {
  const path = join(dir, 'metrics.json');
  const m = JSON.parse(await fs.readFile(path, 'utf8')) as Record<string, unknown>;
  if (m.detected === undefined) return undefined;
  const { detected, target, targetFlagged, targetAnomalyIndex } = m;
  if (!Array.isArray(detected) || !detected.every((l) => Number.isInteger(l)) || !Number.isInteger(target) || typeof targetFlagged !== 'boolean' || typeof targetAnomalyIndex !== 'number') {
    throw new Error(`${path}: 'detected' needs integer labels beside an integer 'target', a boolean 'targetFlagged' and a numeric 'targetAnomalyIndex'`);
  }
  return { flagged: detected as number[], target: target as number, targetFlagged, targetAnomalyIndex };
}
