/** The whole run's time left: from the cost model first, then corrected by what this run measures. */
import { describe, expect, it } from 'vitest';
import { RunProgress, formatDuration } from '../../engine/progress.js';

describe('run progress', () => {
  const kinds = new Map([
    ['train/a', 'train'],
    ['train/b', 'train'],
    ['eval/a', 'evaluate'],
    ['eval/b', 'evaluate'],
    ['figure', 'figure'],
  ]);

  it('starts from the cost model and corrects each kind by its measured speed', () => {
    let now = 0;
    const p = new RunProgress(kinds, 1, () => now);
    expect(p.secondsLeft()).toBeUndefined();
    expect(p.line()).toBe('0/5 done, 0 running · 0 s elapsed · time left unknown');
    p.setEstimates(new Map([['train/a', 100], ['train/b', 100], ['eval/a', 10], ['eval/b', 10]]));
    expect(p.secondsLeft()).toBe(220);
    expect(p.line()).toBe('0/5 done, 0 running · 0 s elapsed · about 3 min 40 s left (cost model)');

    // train/a took twice its estimate: train/b is expected to as well; evaluate (none measured yet) by the overall ratio.
    p.started('train/a');
    now = 200_000;
    p.finished({ id: 'train/a', kind: 'train', state: 'ran', key: 'k', reasons: [], durationMs: 200_000 });
    expect(p.overallCorrection()).toBe(2);
    expect(p.secondsLeft()).toBe(200 + 2 * 10 + 2 * 10);
    expect(p.line()).toBe('1/5 done, 0 running · 3 min 20 s elapsed · about 4 min 00 s left (cost model × 2.00, as measured in this run)');

    // An evaluation at half its estimate corrects evaluate alone; a running instance counts only what it has left.
    p.started('eval/a');
    now += 5_000;
    p.finished({ id: 'eval/a', kind: 'evaluate', state: 'ran', key: 'k', reasons: [], durationMs: 5_000 });
    p.started('train/b');
    now += 50_000;
    expect(p.secondsLeft()).toBe(200 - 50 + 5);

    // Left: the figure, which the cost model has no figure for: 0 s, as in the dry run.
    p.finished({ id: 'train/b', kind: 'train', state: 'ran', key: 'k', reasons: [], durationMs: 200_000 });
    p.finished({ id: 'eval/b', kind: 'evaluate', state: 'cached', key: 'k' });
    expect(p.secondsLeft()).toBe(0);
  });

  it('prices a kind without an estimate at its measured mean once one has run', () => {
    const p = new RunProgress(new Map([['figure/1', 'figure'], ['figure/2', 'figure'], ['figure/3', 'figure']]), 1, () => 0);
    expect(p.secondsLeft()).toBeUndefined();
    p.finished({ id: 'figure/1', kind: 'figure', state: 'ran', key: 'k', reasons: [], durationMs: 30_000 });
    expect(p.secondsLeft()).toBe(60);
  });

  it('divides the work left by the parallel jobs, but never by more than the instances left', () => {
    const p = new RunProgress(kinds, 4, () => 0);
    p.setEstimates(new Map([['train/a', 100], ['train/b', 100], ['eval/a', 10], ['eval/b', 10], ['figure', 0]]));
    expect(p.secondsLeft()).toBe(220 / 4);
  });

  it('formats durations for a terminal line', () => {
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(125)).toBe('2 min 05 s');
    expect(formatDuration(3 * 3600 + 7 * 60)).toBe('3 h 07 min');
  });
});
