/**
 * Claim 2 (section 3.2, figures 2-3), on the paper's words:
 * - location: "when moving the location with a small distance ( pixels, less than of the image
 *   size), the ASR will drop sharply from to below" (the numbers were lost in extraction);
 * - appearance: "the ASR degrades sharply along with the decreasing of non-zero pixel values, while
 *   is not influenced when the non-zero pixel values are increased".
 * "A small distance" is read as the mean ASR over every position at that distance, not the worst one.
 */
import { factKey } from '../facts.js';
import { FactReader } from './reader.js';
import { combine, inconclusive, notRun, pct, verdict, type ClaimThresholds, type Verdict } from './types.js';

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function location(f: FactReader, t: ClaimThresholds, arch: string, plain: number): Verdict {
  const curve = f
    .select(new RegExp(`^sensitivity/${esc(arch)}/ringMean/(\\d+)$`))
    .map((r) => ({ d: Number(r.groups[0]), asr: r.value }))
    .filter((p) => p.d >= 1)
    .sort((a, b) => a.d - b.d);
  const near = curve.filter((p) => p.d <= t.maxShiftPixels);
  if (near.length === 0) return notRun(`${arch}: location, shifts of 1–${t.maxShiftPixels} px`);
  const halfAt = curve.find((p) => p.asr < plain / 2);
  const text =
    `${arch} location: ${pct(plain)} unmoved; mean ASR over the positions ${curve.map((p) => `${p.d} px away ${pct(p.asr)}`).join(', ')}; ` +
    (halfAt ? `first below half the unmoved value at ${halfAt.d} px` : 'never below half the unmoved value in the grid');
  return verdict(near.some((p) => p.asr <= plain - t.sharpDrop), text);
}

function appearance(f: FactReader, t: ClaimThresholds, arch: string, plain: number): Verdict {
  const v0 = f.get(factKey.sensitivityTrainingValue(arch));
  const values = f
    .select(new RegExp(`^sensitivity/${esc(arch)}/value/(\\d+)$`))
    .map((r) => ({ v: Number(r.groups[0]), asr: r.value }))
    .sort((a, b) => a.v - b.v);
  if (v0 === undefined || values.length === 0) return notRun(`${arch}: appearance (pixel-value curve)`);
  const below = values.filter((p) => p.v < v0).sort((a, b) => b.v - a.v); // nearest the training value first
  const above = values.filter((p) => p.v > v0);
  const text = `${arch} appearance: ASR by trigger value ${values.map((p) => `${p.v}: ${pct(p.asr)}`).join(', ')} (training value ${v0}: ${pct(plain)})`;
  const parts: Verdict[] = [];
  if (below.length === 0) parts.push(notRun(`${arch}: values below the training value ${v0}`));
  else {
    // "Degrades along with the decreasing": each lower value no more than fewPoints above the next higher one, and sharply by the lowest.
    let prev = plain;
    let monotone = true;
    for (const p of below) {
      if (p.asr > prev + t.fewPoints) monotone = false;
      prev = p.asr;
    }
    const lowest = below[below.length - 1];
    parts.push(verdict(monotone && lowest.asr <= plain - t.sharpDrop, `${text}; lower values: ${monotone ? 'falling' : 'not falling steadily'}, ${pct(plain - lowest.asr)} points lost at ${lowest.v}`));
  }
  if (above.length === 0) parts.push(notRun(`${arch}: values above the training value ${v0}`));
  else {
    const worst = Math.min(...above.map((p) => p.asr));
    parts.push(verdict(worst >= plain - t.fewPoints, `higher values: at least ${pct(worst)}`));
  }
  return combine(parts);
}

export function claim2(f: FactReader, t: ClaimThresholds): Verdict {
  const plain = f.select(/^sensitivity\/([^/]+)\/plain$/);
  if (plain.length === 0) return notRun('sensitivity analysis');
  return combine(
    plain.map((p) => {
      const arch = p.groups[0];
      if (p.value < t.highAsr) return inconclusive(`${arch}: the unmoved trigger reaches only ${pct(p.value)} ASR, below ${t.highAsr}%`);
      return combine([location(f, t, arch, p.value), appearance(f, t, arch, p.value)]);
    }),
  );
}
