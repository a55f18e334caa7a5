/**
 * Benchmark scripts rewrite their own section of BENCHMARKS.md, between an HTML-comment start and
 * end marker, and leave the rest of the file (the history written by hand) alone.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

/** Replaces the text from `start` to `end` (markers included, `section` must carry them) or appends it. */
export async function writeMarkedSection(path: string, start: string, end: string, section: string): Promise<void> {
  const old = existsSync(path) ? await readFile(path, 'utf8') : '# Benchmarks\n';
  const from = old.indexOf(start);
  const to = old.indexOf(end);
  const next = from >= 0 && to > from
    ? old.slice(0, from) + section + old.slice(to + end.length)
    : `${old.trimEnd()}\n\n${section}\n`;
  await writeFile(path, next);
}
