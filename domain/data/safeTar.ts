/**
 * Streaming, read-only access to .tar and .tar.gz archives that never touches
 * the file system: members are handed over in memory, so a crafted archive
 * cannot write anywhere. Links, devices, absolute paths and `..` segments are
 * still rejected outright, naming the member, because a well-formed dataset
 * archive never contains them.
 */
import { createReadStream } from 'node:fs';
import { Parser, type ReadEntry } from 'tar';

export interface TarFile {
  /** Normalised member path, e.g. `train/cat/0001.jpg`. */
  path: string;
  data: Buffer;
}

export interface ReadTarOptions {
  /** Which regular files to read into memory; the others are skipped unread. */
  select(path: string): boolean;
  /** Called once per selected file, in archive order. */
  onFile(file: TarFile): void;
  /** Called for every member path (files and directories), before `select`; throwing rejects the archive. */
  onMember?(path: string, type: 'file' | 'directory'): void;
  signal?: AbortSignal;
}

export class UnsafeArchiveError extends Error {
  constructor(readonly archive: string, readonly member: string, reason: string) {
    super(`${archive}: member '${member}' ${reason}`);
    this.name = 'UnsafeArchiveError';
  }
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/** Normalises a member path, or throws if it could escape the archive's root. */
export function checkMemberPath(archive: string, raw: string): string {
  if (raw.length === 0 || raw.includes('\0')) throw new UnsafeArchiveError(archive, raw, 'has an empty or NUL-containing path');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || raw.includes('\\')) {
    throw new UnsafeArchiveError(archive, raw, 'has an absolute or non-POSIX path; only relative paths are allowed');
  }
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafeArchiveError(archive, raw, "has a '..' segment; paths may not leave the archive");
  return parts.join('/');
}

/** Streams the archive (gzip detected from its bytes) and hands the selected regular files to `onFile`. */
export function readTar(archive: string, options: ReadTarOptions): Promise<{ files: number; skipped: number }> {
  return new Promise((resolve, reject) => {
    let files = 0;
    let skipped = 0;
    let settled = false;
    const source = createReadStream(archive);
    const parser = new Parser({ strict: true });
    // Errors from the caller's callbacks pass through as they are; those of the reader are explained.
    const fail = (err: unknown, fromReader = false): void => {
      if (settled) return;
      settled = true;
      source.destroy();
      parser.removeAllListeners('entry');
      reject(fromReader ? new Error(`${archive}: not a readable tar or tar.gz archive (${(err as Error).message})`) : err);
    };
    const onAbort = (): void => fail(new Error('aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    parser.on('entry', (entry: ReadEntry) => {
      if (settled) return entry.resume();
      try {
        if (entry.type === 'Directory') {
          options.onMember?.(checkMemberPath(archive, entry.path), 'directory');
          return entry.resume();
        }
        if (!FILE_TYPES.has(entry.type)) {
          throw new UnsafeArchiveError(archive, entry.path, `is a ${entry.type}; only regular files and directories are allowed`);
        }
        const path = checkMemberPath(archive, entry.path);
        options.onMember?.(path, 'file');
        if (!options.select(path)) {
          skipped++;
          return entry.resume();
        }
        const chunks: Buffer[] = [];
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
        entry.on('end', () => {
          if (settled) return;
          try {
            files++;
            options.onFile({ path, data: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) });
          } catch (err) {
            fail(err);
          }
        });
      } catch (err) {
        entry.resume();
        fail(err);
      }
    });
    parser.on('error', (err: Error) => fail(err, true));
    source.on('error', (err) => fail(err, true));
    parser.on('end', () => {
      options.signal?.removeEventListener('abort', onAbort);
      if (settled) return;
      settled = true;
      resolve({ files, skipped });
    });
    source.pipe(parser);
  });
}
