/**
 * A damaged cache heals itself: each kind of damage to a cached artifact is found by `status`,
 * moved aside by `repro` and rebuilt, and the run ends with the digests of an undamaged run.
 */
import { chmodSync, existsSync, readdirSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { baseParams, readText, toyProject, type ToyProject } from './helpers.js';

interface LockEntry {
  kind: string;
  key: string;
  outputsDigest: string;
}

const lockOf = (p: ToyProject): Record<string, LockEntry> => JSON.parse(readText(join(p.root, 'pipeline.lock.json'))).instances;
const artifactDir = (p: ToyProject, id: string): string => {
  const e = lockOf(p)[id];
  return join(p.root, 'artifacts', e.kind, e.key);
};
const sorted = (xs: string[]): string[] => [...xs].sort();
/** id -> key and outputs digest: what must be equal to an undamaged run's. */
const digests = (p: ToyProject): Record<string, string> =>
  Object.fromEntries(Object.entries(lockOf(p)).map(([id, e]) => [id, `${e.key} ${e.outputsDigest}`]));

/** What an accidental edit does as the files are read-only: force the mode first (as root, writes go through anyway). */
function overwrite(path: string, text: string): void {
  chmodSync(path, 0o644);
  writeFileSync(path, text);
}

describe('damaged artifacts', () => {
  let p: ToyProject;
  let undamaged: Record<string, string>;

  beforeAll(async () => {
    p = toyProject();
    expect((await p.repro('-j', '2')).code).toBe(0);
    undamaged = digests(p);
  });

  /** Damage gen/a or sum, then: status names it, repro moves it aside and rebuilds it alone, digests are back. */
  async function heals(id: string, damage: (dir: string) => void, problem: RegExp): Promise<void> {
    const dir = artifactDir(p, id);
    const key = lockOf(p)[id].key;
    damage(dir);

    const status = await p.cli('status');
    expect(status.code).toBe(0);
    expect(status.out).toContain(`damaged  ${id}`);
    expect(status.out).toMatch(problem);
    expect(status.out).not.toContain('all 5 instances up to date');
    const json = JSON.parse((await p.cli('status', '--json')).out) as { stale: { id: string; reasons: { type: string; problems?: string[] }[] }[] };
    const damagedItem = json.stale.find((s) => s.id === id)!;
    expect(damagedItem.reasons[0].type).toBe('damaged');
    expect(damagedItem.reasons[0].problems!.join('\n')).toMatch(problem);
    // Its dependents wait for it; nothing else is stale.
    const dependents = id === 'gen/a' ? ['square/a', 'sum'] : [];
    expect(sorted(json.stale.map((s) => s.id))).toEqual(sorted([id, ...dependents]));

    const verify = await p.cli('verify');
    expect(verify.code).toBe(1);
    expect(verify.out).toMatch(problem);

    const run = await p.repro();
    expect(run.code).toBe(0);
    // The rebuilt artifact has the same outputs, so its dependents' keys are unchanged: they are reused.
    expect(run.ran).toEqual([id]);
    expect(sorted(run.cached)).toEqual(sorted(Object.keys(undamaged).filter((x) => x !== id)));
    expect(digests(p)).toEqual(undamaged);
    expect((await p.cli('status')).out).toContain('all 5 instances up to date');
    expect((await p.cli('verify')).code).toBe(0);

    // The damaged copy is kept aside with a note saying what was wrong.
    const asideRoot = join(p.root, 'artifacts', '.damaged', lockOf(p)[id].kind);
    const aside = readdirSync(asideRoot).filter((d) => d.startsWith(`${key}-`));
    expect(aside.length).toBeGreaterThan(0);
    const note = readText(join(asideRoot, aside.at(-1)!, 'NOTE'));
    expect(note).toContain(id);
    expect(note).toMatch(problem);
  }

  it('a missing output file', async () => {
    await heals('gen/a', (dir) => rmSync(join(dir, 'value.txt')), /value\.txt missing/);
  });

  it('a modified output file (same size, new time)', async () => {
    await heals('gen/a', (dir) => overwrite(join(dir, 'value.txt'), '7\n'), /value\.txt modified since it was written/);
  });

  it('a truncated output file', async () => {
    await heals('sum', (dir) => truncateSync(join(dir, 'nested', 'sum.txt'), 1), /nested\/sum\.txt truncated \(1 bytes, was 3\)/);
  });

  it('a missing meta.json', async () => {
    await heals('gen/a', (dir) => rmSync(join(dir, 'meta.json')), /meta\.json missing/);
  });

  it('a stray extra file', async () => {
    await heals('sum', (dir) => writeFileSync(join(dir, 'nested', 'extra.txt'), 'x'), /stray file nested\/extra\.txt/);
  });

  it('a new modification time alone is not damage: the file is rehashed once and trusted again', async () => {
    const file = join(artifactDir(p, 'gen/a'), 'value.txt');
    const later = new Date(Date.now() + 60_000);
    utimesSync(file, later, later);
    expect((await p.cli('status')).out).toContain('all 5 instances up to date');
    const cache = JSON.parse(readText(join(p.root, 'artifacts', '.cache', 'verified.json')));
    expect(cache[`gen/${lockOf(p)['gen/a'].key}`].files['value.txt'][1]).toBe(statSync(file).mtimeMs);
    expect((await p.repro()).ran).toEqual([]);
  });

  it('an edit that keeps size and time is found by verify and by repro --verify, not by the cheap check', async () => {
    const file = join(artifactDir(p, 'gen/b'), 'value.txt');
    // A whole-millisecond time that utimes can restore exactly; the check rehashes once and trusts it.
    const when = new Date(Math.floor(Date.now() / 1000) * 1000 + 30_000);
    utimesSync(file, when, when);
    expect((await p.cli('status')).out).toContain('all 5 instances up to date');
    overwrite(file, '9\n');
    utimesSync(file, when, when);
    expect((await p.cli('status')).out).toContain('all 5 instances up to date');
    const verify = await p.cli('verify', '--json');
    expect(verify.code).toBe(1);
    expect(JSON.parse(verify.out).damaged).toEqual([{ id: 'gen/b', kind: 'gen', key: lockOf(p)['gen/b'].key, problems: ['value.txt modified since it was written'] }]);
    const run = await p.repro('--verify');
    expect(run.ran).toEqual(['gen/b']);
    expect(digests(p)).toEqual(undamaged);
    expect(readText(file)).toBe('2\n');
  });

  it('completed artifacts are read-only files in writable directories; gc still deletes them', async () => {
    for (const id of Object.keys(undamaged)) {
      const dir = artifactDir(p, id);
      expect(statSync(dir).mode & 0o200).toBe(0o200);
      for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (f.isFile()) expect(statSync(join(f.parentPath, f.name)).mode & 0o777).toBe(0o444);
      }
    }
    const changed = baseParams();
    (changed.sum as { factor: number }).factor = 3;
    p.writeParams(changed);
    expect((await p.repro()).ran).toEqual(['sum']);
    const oldSum = join(p.root, 'artifacts', 'sum', undamaged.sum.split(' ')[0]);
    expect(existsSync(oldSum)).toBe(true);
    expect((await p.cli('gc')).code).toBe(0);
    expect(existsSync(oldSum)).toBe(false);
  });
});

describe('an edited upstream result', () => {
  it('never reaches a downstream result: the upstream is rebuilt before the downstream reads it', async () => {
    const p = toyProject();
    expect((await p.repro()).code).toBe(0);
    expect(readText(join(artifactDir(p, 'sum'), 'nested', 'sum.txt'))).toBe('30\n');
    // gen/a's "metric" is edited by hand, and sum must run again (its factor changes): sum = (1 + 2) x 100.
    overwrite(join(artifactDir(p, 'gen/a'), 'value.txt'), '5\n');
    const changed = baseParams();
    (changed.sum as { factor: number }).factor = 100;
    p.writeParams(changed);
    const run = await p.repro();
    expect(sorted(run.ran)).toEqual(['gen/a', 'sum']);
    expect(readText(join(artifactDir(p, 'sum'), 'nested', 'sum.txt'))).toBe('300\n');
    expect(readText(join(artifactDir(p, 'gen/a'), 'value.txt'))).toBe('1\n');
  });
});
