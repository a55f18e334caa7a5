import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseParams, toyProject } from './helpers.js';

async function waitForFile(path: string, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!existsSync(path)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function hangingProject() {
  const params = baseParams();
  const p = toyProject(params);
  const marker = join(p.root, 'marker');
  (params.gen as Record<string, object>).a = { value: 1, behaviour: { waitFor: marker } };
  p.writeParams(params);
  return { p, marker };
}

describe('interrupted and concurrent runs', () => {
  it('SIGKILL of the whole run mid-stage leaves nothing half-done, and the next repro completes (resuming from the checkpoint)', async () => {
    const { p, marker } = hangingProject();
    const child = p.spawn('repro', '-j', '2');
    await waitForFile(`${marker}.started`);
    process.kill(-child.pid!, 'SIGKILL');
    const killed = await child;
    expect(killed.signal).toBe('SIGKILL');

    const genDir = join(p.root, 'artifacts', 'gen');
    const complete = existsSync(genDir) ? readdirSync(genDir).filter((k) => existsSync(join(genDir, k, 'meta.json'))) : [];
    const incomplete = existsSync(genDir) ? readdirSync(genDir).filter((k) => !existsSync(join(genDir, k, 'meta.json'))) : [];
    expect(incomplete).toEqual([]);
    expect(complete.length).toBeLessThanOrEqual(1); // gen/b may have finished; gen/a cannot have
    expect(existsSync(join(p.root, 'artifacts', '.lock'))).toBe(true); // left behind by the dead run
    // gen/a's checkpoint survives the kill; gen/b, started beside it, leaves one too if the kill caught it
    // mid-run (a loaded machine), none if it finished or had not started. Completed instances never keep one.
    const checkpoints = readdirSync(join(p.root, 'artifacts', '.checkpoints', 'gen'));
    expect(checkpoints.length).toBeGreaterThanOrEqual(1);
    expect(checkpoints.length).toBeLessThanOrEqual(2 - complete.length);
    for (const key of complete) expect(checkpoints).not.toContain(key);

    writeFileSync(`${marker}.go`, '');
    const again = await p.repro('-j', '2');
    expect(again.code).toBe(0);
    expect(again.ran).toContain('gen/a');
    expect(again.ran).toContain('sum');
    const lock = JSON.parse(readFileSync(join(p.root, 'pipeline.lock.json'), 'utf8'));
    const meta = JSON.parse(readFileSync(join(genDir, lock.instances['gen/a'].key, 'meta.json'), 'utf8'));
    expect(meta.extra.resumed).toBe(true);
    expect(readFileSync(join(p.root, 'artifacts', 'sum', lock.instances.sum.key, 'nested', 'sum.txt'), 'utf8')).toBe('30\n');
    expect(readdirSync(join(p.root, 'artifacts', '.checkpoints', 'gen'))).toEqual([]);
    expect(readdirSync(join(p.root, 'artifacts', '.tmp'))).toEqual([]);
    expect(existsSync(join(p.root, 'artifacts', '.lock'))).toBe(false);
  });

  it('a second repro is refused naming the holder, or waits with --wait', async () => {
    const { p, marker } = hangingProject();
    const child = p.spawn('repro', '-j', '1');
    await waitForFile(`${marker}.started`);
    const refused = await p.cli('repro');
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`held by pid ${child.pid} on`);
    expect(refused.err).toContain('--wait');
    const waiting = p.cli('repro', '--wait', '--json');
    await new Promise((r) => setTimeout(r, 500));
    writeFileSync(`${marker}.go`, '');
    const first = await child;
    expect(first.exitCode).toBe(0);
    const second = await waiting;
    expect(second.code).toBe(0);
    expect(second.err).toContain(`waiting for pid ${child.pid}`);
    expect(JSON.parse(second.out).ran).toEqual([]);
  });

  it('Ctrl-C (SIGINT to the coordinator) stops the workers, releases the lock and keeps finished artifacts', async () => {
    const { p, marker } = hangingProject();
    const child = p.spawn('repro', '-j', '2');
    await waitForFile(`${marker}.started`);
    process.kill(child.pid!, 'SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(String(r.stderr)).toContain('SIGINT: stopping workers');
    expect(existsSync(join(p.root, 'artifacts', '.lock'))).toBe(false);
    expect(readdirSync(join(p.root, 'artifacts', '.tmp'))).toEqual([]);
    // gen/a was interrupted: no artifact for it, but the next run picks up where things stand.
    writeFileSync(`${marker}.go`, '');
    const again = await p.repro('-j', '2');
    expect(again.code).toBe(0);
    expect(again.ran).toContain('gen/a');
  });
});
