import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeArchiveKind } from '../../domain/data/archiveKind.js';
import { checkMemberPath, readTar, UnsafeArchiveError, type TarFile } from '../../domain/data/safeTar.js';
import { makeCifarArchive, makeTar, type TarEntry } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'safe-tar-'));
let n = 0;
function archiveOf(entries: TarEntry[], gzip = true): string {
  const path = join(dir, `a${n++}.tar${gzip ? '.gz' : ''}`);
  writeFileSync(path, makeTar(entries, gzip));
  return path;
}

async function readAll(path: string): Promise<TarFile[]> {
  const files: TarFile[] = [];
  await readTar(path, { select: () => true, onFile: (f) => files.push(f) });
  return files;
}

describe('readTar', () => {
  it('streams the selected regular files of .tar and .tar.gz, in memory', async () => {
    const entries: TarEntry[] = [
      { path: 'train/', type: '5' },
      { path: './train/a.bin', data: Buffer.from('hello') },
      { path: 'train/b.bin', data: Buffer.alloc(1500, 7) },
    ];
    for (const gzip of [false, true]) {
      const path = archiveOf(entries, gzip);
      const files: TarFile[] = [];
      const result = await readTar(path, { select: (p) => p !== 'train/b.bin', onFile: (f) => files.push(f) });
      expect(files.map((f) => f.path)).toEqual(['train/a.bin']);
      expect(files[0].data.toString()).toBe('hello');
      expect(result).toEqual({ files: 1, skipped: 1 });
    }
    expect((await readAll(archiveOf(entries)))[1].data.equals(Buffer.alloc(1500, 7))).toBe(true);
  });

  it.each([
    ['a ../ segment', { path: 'train/../../evil.txt', data: Buffer.from('x') }, /'train\/\.\.\/\.\.\/evil\.txt' has a '\.\.' segment/],
    ['an absolute path', { path: '/etc/evil', data: Buffer.from('x') }, /'\/etc\/evil' has an absolute/],
    ['a symlink', { path: 'train/cat/link.png', type: '2', linkpath: '/etc/passwd' }, /'train\/cat\/link\.png' is a SymbolicLink/],
    ['a hard link', { path: 'train/cat/hard.png', type: '1', linkpath: 'train/cat/a.png' }, /'train\/cat\/hard\.png' is a Link/],
    ['a device', { path: 'dev/tty', type: '3' }, /'dev\/tty' is a CharacterDevice/],
  ] as [string, TarEntry, RegExp][])('rejects %s, naming the member', async (_what, entry, message) => {
    const path = archiveOf([{ path: 'train/cat/a.png', data: Buffer.from('ok') }, entry, { path: 'train/cat/z.png', data: Buffer.from('after') }]);
    const delivered: string[] = [];
    const members: string[] = [];
    const err = await readTar(path, { select: () => true, onFile: (f) => delivered.push(f.path), onMember: (p) => members.push(p) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeArchiveError);
    expect((err as Error).message).toMatch(message);
    // Only the safe member before the bad one reached the caller; nothing of or after the bad one did.
    expect(delivered).toEqual(['train/cat/a.png']);
    expect(members).toEqual(['train/cat/a.png']);
  });

  it('says clearly when a file is not an archive', async () => {
    const path = join(dir, 'not-an-archive.tar.gz');
    writeFileSync(path, Buffer.from('this is just text, not a tarball at all\n'.repeat(40)));
    await expect(readAll(path)).rejects.toThrow(/not-an-archive\.tar\.gz: not a readable tar or tar\.gz archive/);
    await expect(readAll(join(dir, 'absent.tar'))).rejects.toThrow(/absent\.tar: not a readable tar or tar\.gz archive \(ENOENT/);
  });

  it('normalises harmless member paths', () => {
    expect(checkMemberPath('x', './a//b/./c.png')).toBe('a/b/c.png');
    expect(() => checkMemberPath('x', 'C:/win')).toThrow(/absolute or non-POSIX/);
  });
});

describe('probeArchiveKind', () => {
  it('tells the CIFAR-10 binary archive from an image folder', async () => {
    const cifar = join(dir, 'cifar.tar.gz');
    writeFileSync(cifar, makeCifarArchive(1).archive);
    expect(await probeArchiveKind(cifar)).toBe('cifar10-binary');
    expect(await probeArchiveKind(archiveOf([{ path: 'train/', type: '5' }, { path: 'train/cat/1.png', data: Buffer.from('x') }]))).toBe('imagefolder');
    await expect(probeArchiveKind(archiveOf([{ path: 'evil', type: '2', linkpath: '/' }]))).rejects.toThrow(/'evil' is a SymbolicLink/);
  });
});
