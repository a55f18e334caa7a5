import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseParams, readText, toyProject } from './helpers.js';

const sorted = (xs: string[]): string[] => [...xs].sort();

describe('repro', () => {
  it('caches, reruns exactly what a param or a source change touches, and reuses artifacts on revert', async () => {
    const p = toyProject();
    const first = await p.repro('-j', '2');
    expect(first.code).toBe(0);
    expect(sorted(first.ran)).toEqual(['gen/a', 'gen/b', 'square/a', 'square/b', 'sum']);
    const lock = JSON.parse(readText(join(p.root, 'pipeline.lock.json')));
    const sumDir = join(p.root, 'artifacts', 'sum', lock.instances.sum.key);
    expect(readText(join(sumDir, 'nested', 'sum.txt'))).toBe('30\n');
    const meta = JSON.parse(readText(join(sumDir, 'meta.json')));
    expect(meta.environment.backend).toBe('toy');
    expect(Object.keys(meta.outputs)).toEqual(['nested/sum.txt']);
    expect(readText(join(sumDir, 'log.txt'))).toContain('finished');
    // Console output of a stage lands in its log, not on the coordinator's stdout.
    const genLog = readText(join(p.root, 'artifacts', 'gen', lock.instances['gen/a'].key, 'log.txt'));
    expect(genLog).toContain('console output of gen/a');

    const second = await p.repro();
    expect(second.ran).toEqual([]);
    expect(second.cached).toHaveLength(5);

    // gen/b's value feeds square/b and sum only.
    const changed = baseParams();
    (changed.gen as { b: { value: number } }).b.value = 5;
    p.writeParams(changed);
    const status = await p.cli('status', '--json');
    const stale = JSON.parse(status.out).stale as { id: string; reasons: { type: string; path?: string; before?: unknown; after?: unknown }[] }[];
    expect(sorted(stale.map((s) => s.id))).toEqual(['gen/b', 'square/b', 'sum']);
    expect(stale.find((s) => s.id === 'gen/b')!.reasons).toEqual([{ type: 'param', path: 'value', before: 2, after: 5 }]);
    expect(stale.find((s) => s.id === 'sum')!.reasons).toEqual([{ type: 'upstream', name: 'b', id: 'gen/b', change: 'will-rerun' }]);
    const third = await p.repro();
    expect(sorted(third.ran)).toEqual(['gen/b', 'square/b', 'sum']);

    // Back to the first value: the first artifacts are still there.
    p.writeParams(baseParams());
    const reverted = await p.repro();
    expect(reverted.ran).toEqual([]);
    expect(JSON.parse(readText(join(p.root, 'pipeline.lock.json'))).instances.sum.key).toBe(lock.instances.sum.key);

    // Editing a module imported by gen and square (not sum) reruns them; sum reruns only because its inputs changed... 
    // ...and with identical outputs sum's key is unchanged, so it is reused.
    appendFileSync(join(p.root, 'stages', 'helper.ts'), '// an edit that changes nothing at run time\n');
    const statusText = (await p.cli('status')).out;
    expect(statusText).toContain('source stages/helper.ts modified');
    const afterEdit = await p.repro();
    expect(sorted(afterEdit.ran)).toEqual(['gen/a', 'gen/b', 'square/a', 'square/b']);
    expect(afterEdit.cached).toEqual(['sum']);

    // Editing sum's own module reruns sum only.
    appendFileSync(join(p.root, 'stages', 'sum.ts'), '// edited\n');
    expect((await p.repro()).ran).toEqual(['sum']);

    // --force reruns the named target even though it is cached; a glob picks several.
    expect((await p.repro('--force', 'result:sum')).ran).toEqual(['sum']);
    expect(sorted((await p.repro('--force', 'square/*')).ran)).toEqual(['square/a', 'square/b']);
    const dry = await p.cli('repro', '--dry-run', '--set', 'sum.factor=2');
    expect(dry.out).toContain('would run sum  (param factor: 10 -> 2)');
    expect(dry.out).toContain('1 would run, 4 up to date');
  });

  it('a failing stage leaves no artifact and skips its dependents while siblings finish; a crashed worker is replaced', async () => {
    const params = baseParams();
    (params.gen as Record<string, object>).b = { value: 2, behaviour: { fail: true } };
    (params.gen as Record<string, object>).c = { value: 3, behaviour: { crash: true } };
    (params.gen as Record<string, object>).d = { value: 4, behaviour: { sleepMs: 300 } };
    const p = toyProject(params);
    const r = await p.repro('-j', '2');
    expect(r.code).toBe(1);
    expect(sorted(r.ran)).toEqual(['gen/a', 'gen/d', 'square/a', 'square/d']);
    const failed = Object.fromEntries(r.failed.map((f) => [f.id, f]));
    expect(failed['gen/b'].status).toBe('failed');
    expect(failed['gen/b'].error).toBe('gen/b was told to fail');
    expect(failed['gen/b'].logTail).toContain('was told to fail');
    expect(failed['gen/c'].status).toBe('crashed');
    expect(failed['gen/c'].signal).toBe('SIGKILL');
    expect(failed['gen/c'].error).toMatch(/killed by SIGKILL/);
    expect(failed['gen/c'].logTail).toContain('attempt started');
    expect(sorted(r.skipped.map((s) => s.id))).toEqual(['square/b', 'square/c', 'sum']);
    expect(r.skipped.find((s) => s.id === 'sum')!.because).toMatch(/upstream gen\/[bc] failed/);
    // Nothing of the failed instances looks complete; their logs are kept for reading.
    expect(readdirSync(join(p.root, 'artifacts', 'gen'))).toHaveLength(2);
    expect(existsSync(join(p.root, 'artifacts', '.logs', 'gen'))).toBe(true);
    expect(readdirSync(join(p.root, 'artifacts', '.logs', 'gen'))).toHaveLength(2);
    expect(readdirSync(join(p.root, 'artifacts', '.tmp'))).toEqual([]);
    const plain = await p.cli('repro');
    expect(plain.out).toMatch(/CRASHED gen\/c: worker process killed by SIGKILL/);
    expect(plain.out).toMatch(/FAILED {2}gen\/b: gen\/b was told to fail\n {2}last lines of its log:\n/);
  });

  it('-j 2 runs two independent stages at the same time', async () => {
    const params = baseParams();
    const p = toyProject(params);
    const timeline = join(p.root, 'timeline.jsonl');
    const meet = { dir: join(p.root, 'meeting'), count: 2 };
    (params.gen as Record<string, object>).a = { value: 1, behaviour: { meet, sleepMs: 100, timeline } };
    (params.gen as Record<string, object>).b = { value: 2, behaviour: { meet, sleepMs: 100, timeline } };
    p.writeParams(params);
    const r = await p.repro('-j', '2', 'gen/*');
    expect(sorted(r.ran)).toEqual(['gen/a', 'gen/b']);
    const spans = readText(timeline).trim().split('\n').map((l) => JSON.parse(l) as { start: number; end: number });
    expect(spans).toHaveLength(2);
    const overlap = Math.min(spans[0].end, spans[1].end) - Math.max(spans[0].start, spans[1].start);
    expect(overlap).toBeGreaterThan(50);
  });

  it('dag prints a tree, dot and mermaid; show and gc work on the store', async () => {
    const p = toyProject();
    const dag = await p.cli('dag');
    expect(dag.out).toBe('gen/a  — the number 1\n  square/a\n  sum\ngen/b  — the number 2\n  square/b\n  sum  (↑ shown above)\n');
    expect((await p.cli('dag', '--format', 'dot', 'sum')).out).toContain('"gen/a" -> "sum";');
    expect((await p.cli('dag', '--format', 'mermaid')).out).toMatch(/graph LR\n {2}n0\["gen\/a"\]/);
    expect((await p.cli('dag', '--format', 'svg')).err).toContain('allowed: text, dot, mermaid');
    await p.repro('-j', '1');
    const show = await p.cli('show', 'result:sum');
    expect(show.out).toMatch(/state: {2}fresh/);
    expect(show.out).toMatch(/\s+3 {2}nested\/sum\.txt/);
    // A param no profile uses any more: its artifacts become garbage once the lock moves on.
    p.writeParams({ ...baseParams(), sum: { factor: 2 } });
    await p.repro('-j', '1');
    const dry = await p.cli('gc', '--dry-run');
    expect(dry.out).toMatch(/would delete artifacts\/sum\/[0-9a-f]{64}/);
    expect(dry.out).toMatch(/would delete 1 artifacts/);
    const gc = await p.cli('gc');
    expect(gc.out).toMatch(/deleted 1 artifacts, \d+ bytes/);
    expect(readdirSync(join(p.root, 'artifacts', 'sum'))).toHaveLength(1);
    expect((await p.repro()).ran).toEqual([]);
    const params = await p.cli('params', '--json', '--set', 'mode=fast');
    expect(JSON.parse(params.out).mode).toBe('fast');
    const bad = await p.cli('repro', '--set', 'sum.factor=0');
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('error: invalid params (params.json, --set sum.factor=0):\n  sum.factor: 0 is out of range; allowed: >= 1\n');
    const rejected = await p.cli('repro', '--set', 'sum.factor=13');
    expect(rejected.code).toBe(2);
    expect(rejected.err).toMatch(/^error: params rejected by stages\/sum\.ts: params\.sum\.factor: 13 is refused by the sum stage; allowed: any other integer >= 1\n$/);
    expect(readFileSync(join(p.root, 'pipeline.lock.json'), 'utf8')).toContain('"sum"');
  });

  it('two instances with the same key are computed once, not raced', async () => {
    const p = toyProject({ gen: { a: { value: 7 }, b: { value: 7 } }, sum: { factor: 1 } });
    const r = await p.repro('-j', '2', 'gen/*');
    expect(r.ran).toHaveLength(1);
    expect(r.cached).toHaveLength(1);
    const lock = JSON.parse(readText(join(p.root, 'pipeline.lock.json')));
    expect(lock.instances['gen/a'].key).toBe(lock.instances['gen/b'].key);
  });
});
