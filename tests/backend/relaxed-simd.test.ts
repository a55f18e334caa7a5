/** Choosing our kernels' SIMD arithmetic: relaxed (fused multiply-add) where V8 has it, plain when asked or unavailable. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

/** simdArithmetic() in a fresh process (the choice is made once per process), under TRIGGER_LAB_RELAXED_SIMD=`value`. */
function chosenIn(value: string | undefined, nodeFlags: string[] = []): { out: string; err: string; status: number | null } {
  const env = { ...process.env };
  if (value === undefined) delete env.TRIGGER_LAB_RELAXED_SIMD;
  else env.TRIGGER_LAB_RELAXED_SIMD = value;
  const script = "import('./domain/backend/wasm/relaxed-simd.ts').then((m) => console.log(m.relaxedSimdAvailable(), m.simdArithmetic()))";
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', '-e', script], { env, encoding: 'utf8' });
  return { out: r.stdout.trim(), err: r.stderr, status: r.status };
}

describe('relaxed SIMD selection', () => {
  it('turns V8\'s flag on by itself where needed, so workers need no command-line flag', () => {
    const { out, status } = chosenIn(undefined);
    expect(status).toBe(0);
    // Node 20 keeps relaxed SIMD behind a flag; every Node this project supports can turn it on.
    expect(out).toBe('true relaxed');
  });

  it('uses the plain kernels when TRIGGER_LAB_RELAXED_SIMD=off', () => {
    expect(chosenIn('off').out).toBe('true plain');
    expect(chosenIn('on').out).toBe('true relaxed');
  });

  it('names a bad setting and the allowed ones', () => {
    const { err, status } = chosenIn('fast');
    expect(status).not.toBe(0);
    expect(err).toMatch(/TRIGGER_LAB_RELAXED_SIMD must be auto, on or off, got 'fast'/);
  });
});
