/**
 * Measured training and inference throughput per backend and model, written by bench/train.ts
 * into throughput.json beside this file, and read by the stages' time estimates (the dry run
 * of `repro` sums them). Models are keyed `arch` (default width) or `arch@width`.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const THROUGHPUT_FILE = fileURLToPath(new URL('./throughput.json', import.meta.url));

export interface ThroughputEntry {
  backend: string;
  model: string;
  batch: number;
  /** When it was measured (ISO). */
  date: string;
  /** Images per second of one process: training steps (forward, backward, SGD) and inference. */
  trainImgPerS: number;
  forwardImgPerS: number;
}

export interface ThroughputTable {
  entries: ThroughputEntry[];
}

export const modelKey = (arch: string, width: number | null): string => (width === null ? arch : `${arch}@${width}`);

function checkTable(value: unknown, where: string): ThroughputTable {
  const entries = (value as ThroughputTable | null)?.entries;
  if (!Array.isArray(entries)) throw new Error(`${where}: expected {"entries": [...]}, got ${JSON.stringify(value).slice(0, 80)}`);
  for (const e of entries) {
    if (typeof e.backend !== 'string' || typeof e.model !== 'string' || !(e.trainImgPerS > 0) || !(e.forwardImgPerS > 0)) {
      throw new Error(`${where}: bad entry ${JSON.stringify(e)} (needs backend, model, trainImgPerS > 0, forwardImgPerS > 0)`);
    }
  }
  return { entries };
}

export async function readThroughputFile(path: string): Promise<ThroughputTable> {
  return checkTable(JSON.parse(await readFile(path, 'utf8')), path);
}

export function readThroughputFileSync(path: string = THROUGHPUT_FILE): ThroughputTable {
  return checkTable(JSON.parse(readFileSync(path, 'utf8')), path);
}

/** New entries replace old ones of the same backend and model. */
export function mergeThroughput(old: ThroughputTable, added: ThroughputEntry[]): ThroughputTable {
  const key = (e: ThroughputEntry) => `${e.backend}/${e.model}`;
  const byKey = new Map(old.entries.map((e) => [key(e), e]));
  for (const e of added) byKey.set(key(e), e);
  return { entries: [...byKey.values()].sort((a, b) => key(a).localeCompare(key(b))) };
}

/** The measured entry for this backend and model (width-specific first, then the default width), or null. */
export function lookupThroughput(table: ThroughputTable, backend: string, arch: string, width: number | null): ThroughputEntry | null {
  const find = (model: string) => table.entries.find((e) => e.backend === backend && e.model === model) ?? null;
  return (width !== null ? find(modelKey(arch, width)) : null) ?? find(arch);
}
