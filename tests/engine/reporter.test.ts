import { describe, expect, it } from 'vitest';
import { createReporter, formatProgress } from '../../engine/reporter.js';
import { RunProgress } from '../../engine/progress.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { out: { write: (t: string) => void chunks.push(t), isTTY }, chunks };
}

describe('reporter', () => {
  it('formats progress as counts, message and metrics', () => {
    expect(formatProgress({ current: 3, total: 20, unit: 'epoch', message: 'training', metrics: { loss: 0.41234, 'img/s': 120 } })).toBe(
      '3/20 epoch  training  loss=0.4123  img/s=120',
    );
  });

  it('prints plain lines, throttling progress per instance, when not a terminal', () => {
    const { out, chunks } = sink(false);
    const r = createReporter(out, 'auto');
    r.started('train/a', [{ type: 'never-run' }]);
    r.progress('train/a', { current: 1, total: 3 });
    r.progress('train/a', { current: 2, total: 3 });
    r.progress('other', { current: 1 });
    r.finished({ id: 'train/a', kind: 'train', state: 'ran', key: 'k', reasons: [], durationMs: 1500 });
    r.close();
    expect(chunks.join('')).toBe('▶ run     train/a  (never run)\n  train/a: 1/3\n✔ done    train/a  1.50 s\n');
  });

  it('on a terminal, the live block starts with the whole run: done of total, elapsed, time left', () => {
    const { out, chunks } = sink(true);
    const progress = new RunProgress(new Map([['train/a', 'train'], ['train/b', 'train']]), 1, () => 0);
    progress.setEstimates(new Map([['train/a', 90], ['train/b', 90]]));
    const r = createReporter(out, 'auto', { progress });
    r.started('train/a', [{ type: 'never-run' }]);
    expect(chunks.join('')).toContain('  0/2 done, 1 running · 0 s elapsed · about 3 min 00 s left (cost model)\n  ⋯ train/a');
    r.close();
  });

  it('on a terminal, redraws the live block of running instances under the permanent lines', () => {
    const { out, chunks } = sink(true);
    const r = createReporter(out, 'auto', { verbose: true });
    r.started('train/a', [{ type: 'never-run' }]);
    r.progress('train/a', { current: 2, total: 3, unit: 'epoch' });
    r.started('train/b', [{ type: 'forced' }]);
    const text = chunks.join('');
    expect(text).toContain('⋯ train/a');
    // The second permanent line first erases the one-line live block drawn after the first.
    expect(chunks[1]).toMatch(/^\x1b\[1A\x1b\[J▶ run {5}train\/b/);
    expect(chunks[1]).toContain('2/3 epoch');
    r.finished({ id: 'train/a', kind: 'train', state: 'ran', key: 'k', reasons: [], durationMs: 10 });
    r.finished({ id: 'train/b', kind: 'train', state: 'skipped', because: 'x', failedUpstream: 'train/z' });
    r.close();
    expect(chunks.at(-1)).toMatch(/skipped train\/b {2}\(x\)\n$/);
  });
});
