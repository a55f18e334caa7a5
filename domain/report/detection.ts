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
  /** Rank of the target's reversed-trigger mask norm among all classes (1 = smallest), where anomaly.json records the norms. */
  targetNormRank?: number;
  classes?: number;
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
  const detection: Detection = { flagged: detected as number[], target: target as number, targetFlagged, targetAnomalyIndex };
  const norms = await readNorms(join(dir, 'anomaly.json'));
  if (norms && (target as number) < norms.length) {
    detection.targetNormRank = 1 + norms.filter((n) => n < norms[target as number]).length;
    detection.classes = norms.length;
  }
  return detection;
}

async function readNorms(path: string): Promise<number[] | undefined> {
  const raw = await fs.readFile(path, 'utf8').catch(() => undefined);
  if (raw === undefined) return undefined;
  const norms = (JSON.parse(raw) as { norms?: unknown }).norms;
  if (!Array.isArray(norms) || !norms.every((n) => typeof n === 'number' && Number.isFinite(n))) throw new Error(`${path}: 'norms' must be a list of finite numbers`);
  return norms as number[];
}
