/**
 * Claims 1, 3 and 4: the standard attacks work (Table 1), Flip and ShrinkPad-4 defeat them except
 * Flip on the symmetric label-consistent trigger (Table 1), and noise and colour shifts do not
 * defend (Tables 3-4).
 */
import { FactReader, floodNote } from './reader.js';
import { combine, inconclusive, notRun, pct, range, verdict, type ClaimThresholds, type Verdict } from './types.js';

export function claim1(f: FactReader, t: ClaimThresholds): Verdict {
  const asr = f.select(/^eval\/([^/]+)\/(badnets|blended|consistent)\/standard\/none\/asr$/);
  if (asr.length === 0) return notRun('no standard attack evaluated');
  const drops: number[] = [];
  for (const a of asr) {
    const [arch, attack] = a.groups;
    const clean = f.get(`eval/${arch}/${attack}/standard/none/clean`);
    const benign = f.get(`eval/${arch}/benign/standard/none/clean`);
    if (clean !== undefined && benign !== undefined) drops.push(benign - clean);
  }
  const asrOk = asr.every((a) => a.value >= t.highAsr);
  const dropOk = drops.every((d) => d <= t.maxCleanDrop);
  const dropRange = drops.length && Math.min(...drops) !== Math.max(...drops) ? `${Math.min(...drops).toFixed(1)} to ${Math.max(...drops).toFixed(1)}` : drops.length ? drops[0].toFixed(1) : '';
  const missing = asr.length - drops.length;
  const dropText =
    drops.length === 0 ? ', clean-accuracy cost: benign model not run in this profile'
    : `, clean-accuracy cost ${dropRange} points${missing > 0 ? ` (${missing} model(s) without a benign or clean figure)` : ''}`;
  const low = asr.filter((a) => a.value < t.highAsr).map((a) => `${a.groups[0]}/${a.groups[1]} ${pct(a.value)}`);
  const ours = `ASR ${range(asr.map((a) => a.value))} over ${asr.length} model(s)${low.length ? ` (below ${t.highAsr}%: ${low.join(', ')})` : ''}${dropText}`;
  // Half of the criterion is the clean-accuracy cost: without it for every model the claim cannot hold, only fail.
  if (asrOk && dropOk && missing > 0) return inconclusive(ours);
  return verdict(asrOk && dropOk, ours);
}

export function claim3(f: FactReader, t: ClaimThresholds): Verdict {
  const parts: Verdict[] = [];
  for (const defense of ['flip', 'shrinkpad-4']) {
    const rows = f.select(new RegExp(`^eval/([^/]+)/(badnets|blended|consistent)/standard/${defense}/asr$`));
    if (rows.length === 0) {
      parts.push(notRun(defense));
      continue;
    }
    for (const r of rows) {
      const [arch, attack] = r.groups;
      const before = f.undefended(arch, attack, 'standard');
      if (before === undefined || before < t.highAsr) {
        parts.push(inconclusive(`${defense} ${arch}/${attack} ${pct(r.value)}, but undefended ASR ${before === undefined ? 'not run' : pct(before)}`));
        continue;
      }
      const shouldSurvive = defense === 'flip' && attack === 'consistent';
      if (shouldSurvive && f.targetFlooded(t, arch, attack, 'standard', defense)) {
        parts.push(inconclusive(floodNote([r], () => 'standard', () => defense)));
        continue;
      }
      const ok = shouldSurvive ? r.value >= t.lowAsr : r.value < t.lowAsr;
      parts.push(verdict(ok, `${defense} ${arch}/${attack} ${pct(r.value)}`));
    }
  }
  return combine(parts);
}

export function claim4(f: FactReader, t: ClaimThresholds): Verdict {
  const rows = f.select(/^eval\/([^/]+)\/(badnets|blended|consistent)\/standard\/(noise-[^/]+|jitter-[^/]+)\/asr$/);
  if (rows.length === 0) return notRun('noise and colour-shift evaluations');
  const working = rows.filter((r) => (f.undefended(r.groups[0], r.groups[1], 'standard') ?? 0) >= t.highAsr);
  if (working.length === 0) return inconclusive(`no attack reached ${t.highAsr}% ASR without defense, so noise and colour shifts cannot be judged (ASR under them ${range(rows.map((r) => r.value))})`);
  const flooded = working.filter((r) => f.targetFlooded(t, r.groups[0], r.groups[1], 'standard', r.groups[2]));
  const judged = working.filter((r) => !flooded.includes(r));
  const noise = judged.filter((r) => r.groups[2].startsWith('noise-'));
  const colour = judged.filter((r) => !r.groups[2].startsWith('noise-'));
  const parts: Verdict[] = [];
  if (flooded.length) parts.push(inconclusive(floodNote(flooded, () => 'standard', (r) => r.groups[2])));
  if (noise.length) parts.push(verdict(noise.every((r) => r.value >= t.highAsr), `noise ASR ${range(noise.map((r) => r.value))}`));
  if (colour.length) parts.push(verdict(colour.every((r) => r.value >= t.highAsr), `colour-shift ASR ${range(colour.map((r) => r.value))}`));
  const v = combine(parts);
  // Models whose attack never worked say nothing about these defenses: left out, but named.
  const left = [...new Set(rows.filter((r) => !working.includes(r)).map((r) => `${r.groups[0]}/${r.groups[1]}`))];
  return left.length ? { ...v, ours: `${v.ours} (not judged: ${left.join(', ')}, below ${t.highAsr}% ASR without defense)` } : v;
}
