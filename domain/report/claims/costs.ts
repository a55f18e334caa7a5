/** Claim 6 (Table 5): transform defenses cost almost nothing next to the model-based ones. */
import { FactReader } from './reader.js';
import { combine, notRun, verdict, type ClaimThresholds, type Verdict } from './types.js';

export function claim6(f: FactReader, t: ClaimThresholds): Verdict {
  const costs = f.select(/^cost\/([^/]+)\/([^/]+)$/);
  if (costs.length === 0) return notRun('defense costs');
  const archs = [...new Set(costs.map((c) => c.groups[0]))];
  const parts = archs.map((arch) => {
    const mine = costs.filter((c) => c.groups[0] === arch);
    const transforms = mine.filter((c) => /^(flip|shrinkpad)/.test(c.groups[1]));
    const baselines = mine.filter((c) => !/^(flip|shrinkpad)/.test(c.groups[1]));
    if (!transforms.length || !baselines.length) return notRun(`${arch}: transform or baseline costs`);
    const cheapest = Math.min(...baselines.map((b) => b.value));
    const worst = Math.max(...transforms.map((c) => c.value));
    return verdict(worst < t.costFraction * cheapest, `${arch}: transforms ≤ ${worst.toFixed(2)} s, cheapest baseline ${cheapest.toFixed(1)} s`);
  });
  return combine(parts);
}
