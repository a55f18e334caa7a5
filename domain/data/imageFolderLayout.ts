/**
 * The torchvision ImageFolder layout: `train/<class>/<image>` and
 * `test/<class>/<image>`, optionally under one wrapping folder. This module only
 * interprets paths and checks the class folders; decoding is elsewhere.
 */

export type FolderSplit = 'train' | 'test';
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export interface ImageRef {
  split: FolderSplit;
  className: string;
  /** Path inside the directory or archive, for error messages and sorting. */
  path: string;
}

export type LayoutMatch = { kind: 'image'; ref: ImageRef } | { kind: 'classDir'; split: FolderSplit; className: string } | { kind: 'ignored' };

const isSplit = (s: string | undefined): s is FolderSplit => s === 'train' || s === 'test';

/** Interprets one member path (files: `isDir` false). Throws for a file in a class folder that is not an image. */
export function matchLayout(path: string, isDir: boolean): LayoutMatch {
  const parts = path.split('/').filter((p) => p.length > 0);
  // Allow one wrapping folder, e.g. `cifar10/train/cat/0001.png`.
  const at = isSplit(parts[0]) ? 0 : isSplit(parts[1]) ? 1 : -1;
  if (at < 0) return { kind: 'ignored' };
  const rest = parts.slice(at);
  const split = rest[0] as FolderSplit;
  if (rest.length === 2 && isDir) return { kind: 'classDir', split, className: rest[1] };
  if (rest.length < 3 || rest[1].startsWith('.')) return { kind: 'ignored' };
  const file = rest[rest.length - 1];
  if (file.startsWith('.')) return { kind: 'ignored' };
  if (isDir) {
    if (rest.length > 3) throw new Error(`${path}: nested folder inside class folder '${rest[1]}'; expected ${split}/<class>/<image>`);
    return { kind: 'ignored' };
  }
  if (rest.length > 3) throw new Error(`${path}: image nested too deep; expected ${split}/<class>/<image>`);
  const lower = file.toLowerCase();
  if (!IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext))) {
    throw new Error(`${path}: not an image file (allowed extensions: ${IMAGE_EXTENSIONS.join(', ')})`);
  }
  return { kind: 'image', ref: { split, className: rest[1], path } };
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The class order: sorted folder names (as Python's sorted), or `explicit`.
 * Both splits must have exactly those class folders, each with at least one image.
 */
export function resolveClasses(source: string, refs: readonly ImageRef[], dirs: Record<FolderSplit, Set<string>>, explicit: readonly string[] | null): string[] {
  const withImages: Record<FolderSplit, Map<string, number>> = { train: new Map(), test: new Map() };
  for (const r of refs) withImages[r.split].set(r.className, (withImages[r.split].get(r.className) ?? 0) + 1);
  const folders: Record<FolderSplit, Set<string>> = {
    train: new Set([...dirs.train, ...withImages.train.keys()]),
    test: new Set([...dirs.test, ...withImages.test.keys()]),
  };
  if (folders.train.size === 0) throw new Error(`${source}: no train/<class>/ folders found (expected the ImageFolder layout train/<class>/*.png|jpg, test/<class>/*)`);
  if (folders.test.size === 0) throw new Error(`${source}: no test/<class>/ folders found (expected test/<class>/* beside train/<class>/*)`);
  const classes = explicit ? [...explicit] : [...folders.train].sort(byCodeUnits);
  if (new Set(classes).size !== classes.length) throw new Error(`data.classes has duplicate names: ${classes.join(', ')}`);
  for (const split of ['train', 'test'] as const) {
    for (const c of classes) {
      if (!folders[split].has(c)) throw new Error(`${source}: class folder ${split}/${c}/ is missing (classes: ${classes.join(', ')})`);
      if (!withImages[split].get(c)) throw new Error(`${source}: class folder ${split}/${c}/ has no images`);
    }
    for (const f of folders[split]) {
      if (!classes.includes(f)) {
        const why = explicit ? `is not in data.classes (${classes.join(', ')})` : 'has no counterpart in train/';
        throw new Error(`${source}: class folder ${split}/${f}/ ${why}`);
      }
    }
  }
  return classes;
}

/** Entries grouped by split, each sorted by class index then path, so the order never depends on the archive's. */
export function orderRefs(refs: readonly ImageRef[], classes: readonly string[]): Record<FolderSplit, ImageRef[]> {
  const index = new Map(classes.map((c, i) => [c, i]));
  const sorted = [...refs].sort((a, b) => index.get(a.className)! - index.get(b.className)! || byCodeUnits(a.path, b.path));
  return { train: sorted.filter((r) => r.split === 'train'), test: sorted.filter((r) => r.split === 'test') };
}
