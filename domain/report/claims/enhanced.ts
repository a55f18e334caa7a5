/**
 * Claim 5 (Table 2, appendix F.1 / figure 12): enhanced attacks keep a high ASR under Flip and
 * ShrinkPad-4, and "when the shrinking size is bigger than the maximal shrinking size used in
 * enhanced attacks (4 pixels), the ASR will decrease dramatically". Each enhanced model that never
 * worked without defense is left out on its own (as claim 3 does), not the whole part.
 */
import { FactReader, floodNote } from './reader.js';
import { combine, inconclusive, mean, notRun, pct, range, verdict, type ClaimThresholds, type Verdict } from './types.js';

function table2Part(f: FactReader, t: ClaimThresholds): Verdict[] {
  const enhanced = f.select(/^eval\/([^/]+)\/(badnets|blended|consistent)\/enhanced\/(flip|shrinkpad-4)\/asr$/);
  if (enhanced.length === 0) return [notRun('enhanced attacks under Flip/ShrinkPad-4')];
  const parts: Verdict[] = [];
  const unworking = enhanced.filter((r) => (f.undefended(r.groups[0], r.groups[1], 'enhanced') ?? 0) < t.highAsr);
  const working = enhanced.filter((r) => !unworking.includes(r));
  const flooded = working.filter((r) => f.targetFlooded(t, r.groups[0], r.groups[1], 'enhanced', r.groups[2]));
  const judged = working.filter((r) => !flooded.includes(r));
  if (unworking.length) {
    const models = [...new Set(unworking.map((r) => `${r.groups[0]}/${r.groups[1]}+`))];
    parts.push(inconclusive(`below ${t.highAsr}% ASR even without defense, so not judged: ${models.map((m) => { const [arch, attack] = m.slice(0, -1).split('/'); const u = f.undefended(arch, attack, 'enhanced'); return `${m} (${u === undefined ? 'not run' : pct(u)})`; }).join(', ')}`));
  }
  if (flooded.length) parts.push(inconclusive(floodNote(flooded, () => 'enhanced', (r) => r.groups[2])));
  if (judged.length) {
    const low = judged.filter((r) => r.value < t.highAsr).map((r) => `${r.groups[0]}/${r.groups[1]}+ under ${r.groups[2]} ${pct(r.value)}`);
    parts.push(verdict(low.length === 0, `enhanced ASR under Flip/ShrinkPad-4 ${range(judged.map((r) => r.value))} over ${new Set(judged.map((r) => `${r.groups[0]}/${r.groups[1]}`)).size} working model(s)${low.length ? ` (below ${t.highAsr}%: ${low.join(', ')})` : ''}`));
  }
  return parts;
}

/** Figure 12: per enhanced model, mean ASR for ShrinkPad sizes 1..s_max against sizes above s_max (the undefended s = 0 is not a ShrinkPad size). */
function figure12Part(f: FactReader, t: ClaimThresholds): Verdict {
  const ablation = f.select(/^ablation\/([^/]+)\/([^/]+)\/enhanced\/shrinkpad\/(\d+)$/);
  const sMax = f.get('ablation/sMax');
  if (ablation.length === 0 || sMax === undefined) return notRun('figure 12');
  const models = [...new Set(ablation.map((r) => `${r.groups[0]}/${r.groups[1]}`))];
  return combine(
    models.map((model) => {
      const [arch, attack] = model.split('/');
      const before = f.undefended(arch, attack, 'enhanced');
      if (before === undefined || before < t.highAsr) return inconclusive(`figure 12 ${model}+: undefended ASR ${before === undefined ? 'not run' : pct(before)}, below ${t.highAsr}%`);
      const points = ablation.filter((r) => `${r.groups[0]}/${r.groups[1]}` === model).map((r) => ({ s: Number(r.groups[2]), asr: r.value }));
      const within = points.filter((p) => p.s >= 1 && p.s <= sMax).map((p) => p.asr);
      const beyond = points.filter((p) => p.s > sMax).map((p) => p.asr);
      if (!within.length || !beyond.length) return notRun(`figure 12 ${model}+: ShrinkPad sizes on both sides of s_max = ${sMax}`);
      return verdict(mean(within) - mean(beyond) >= t.asrGap, `figure 12 ${model}+: mean ASR ${pct(mean(within))} for 1 ≤ s ≤ ${sMax}, ${pct(mean(beyond))} for s > ${sMax}`);
    }),
  );
}

export function claim5(f: FactReader, t: ClaimThresholds): Verdict {
  return combine([...table2Part(f, t), figure12Part(f, t)]);
}
