/** What a run prints: failures summarised instead of one line per skipped instance, one environment line, help without duplicates. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../engine/cli.js';
import type { Command } from '../../engine/commands/command.js';
import { describeEnvironment } from '../../engine/reporter.js';
import { baseParams, toyProject } from './helpers.js';

describe('run output', () => {
  it('a failure prints its error once, one line for what it skipped, and its message again at the very end', async () => {
    const params = baseParams();
    (params.gen as Record<string, object>).b = { value: 2, behaviour: { fail: true } };
    const p = toyProject(params);
    const r = await p.cli('repro');
    expect(r.code).toBe(1);
    const lines = r.out.trimEnd().split('\n');
    expect(r.out.match(/FAILED {2}gen\/b: gen\/b was told to fail/g)).toHaveLength(1);
    expect(r.out).not.toContain('- skipped');
    expect(r.out).toContain('2 instances skipped because `gen/b` failed; `--verbose` lists them\n');
    expect(lines.at(-2)).toMatch(/^2 ran, 0 cached, 1 failed, 2 skipped \(/);
    expect(lines.at(-1)).toBe('✖ gen/b failed: gen/b was told to fail');
    // One readable environment line, not the worker's JSON.
    expect(r.out).toMatch(/^environment: backend toy, workerPid \d+, mode none$/m);

    const verbose = await p.cli('repro', '--verbose');
    expect(verbose.out).toContain('- skipped square/b  (upstream gen/b failed)');
    expect(verbose.out).toContain('- skipped sum  (upstream gen/b failed)');
    expect(verbose.out).not.toContain('--verbose` lists them');
  });

  it('plain output carries the whole run\'s progress on each finished instance', async () => {
    const p = toyProject();
    const r = await p.cli('repro', '-j', '1');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/✔ done {4}sum {2}[\d.]+ s {3}\[5\/5 done, 0 running · \d+ s elapsed · /);
  });

  it('an environment with a summary shows the summary; otherwise its scalar fields', () => {
    expect(describeEnvironment({ summary: 'wasm, tfjs 4.22.0, SIMD on, 1 thread', kernels: ['a'] })).toBe('wasm, tfjs 4.22.0, SIMD on, 1 thread');
    expect(describeEnvironment({ backend: 'cpu', threads: 2, kernels: ['a', 'b'] })).toBe('backend cpu, threads 2');
  });

  it('help lists a command once when a pipeline replaces a built-in one', async () => {
    const p = toyProject();
    const wrapped: Command = { name: 'repro', summary: 'the pipeline\'s repro', usage: 'repro [wrapped]', flags: [], run: async () => 0 };
    let out = '';
    const io = { stdout: { write: (t: string) => void (out += t), isTTY: false }, stderr: { write: () => undefined, isTTY: false } };
    expect(await runCli({ ...p.def, commands: [wrapped] }, ['--help'], io)).toBe(0);
    expect(out.match(/^ {2}repro /gm)).toHaveLength(1);
    expect(out).toContain('the pipeline\'s repro');
    expect(out.match(/^ {2}status /gm)).toHaveLength(1);
    expect(out).toMatch(/^ {2}verify \[targets\.\.\.\] \[--json\]/m);
  });
});
