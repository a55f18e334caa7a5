/** Tells the two archive layouts apart from the first file member, without reading the rest. */
import { CIFAR10_DIR } from './cifarBinary.js';
import { readTar } from './safeTar.js';

export type ArchiveKind = 'cifar10-binary' | 'imagefolder';

class FoundFirstFile extends Error {
  constructor(readonly path: string) {
    super('probe finished');
  }
}

export async function probeArchiveKind(archive: string): Promise<ArchiveKind> {
  let first: string | null = null;
  try {
    await readTar(archive, {
      onMember: (path, type) => {
        if (type === 'file' || path.split('/')[0] === CIFAR10_DIR) throw new FoundFirstFile(path);
      },
      select: () => false,
      onFile: () => undefined,
    });
  } catch (err) {
    if (!(err instanceof FoundFirstFile)) throw err;
    first = err.path;
  }
  if (first === null) throw new Error(`${archive}: the archive has no files`);
  return first.split('/')[0] === CIFAR10_DIR ? 'cifar10-binary' : 'imagefolder';
}
