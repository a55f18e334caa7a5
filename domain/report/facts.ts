/**
 * Named numbers that figure and table artifacts publish (facts.json) and that the claims read.
 * One module builds every key, so the writers and the readers cannot drift apart.
 * Percentages are on 0-100.
 */

export type Facts = Record<string, number>;

export const factKey = {
  /** Clean accuracy or ASR of a model under a defense id ('none', 'flip', 'shrinkpad-4', 'noise-10', ...). */
  evalMetric: (arch: string, attack: string, variant: string, defense: string, metric: 'clean' | 'asr' | 'targetRateClean') =>
    `eval/${arch}/${attack}/${variant}/${defense}/${metric}`,
  benignClean: (arch: string) => `eval/${arch}/benign/standard/none/clean`,
  /** ASR of the untouched trigger in the sensitivity run. */
  sensitivityPlain: (arch: string) => `sensitivity/${arch}/plain`,
  /** Largest ASR over offsets with max(|dx|, |dy|) = radius. */
  sensitivityRing: (arch: string, radius: number) => `sensitivity/${arch}/ring/${radius}`,
  sensitivityValue: (arch: string, value: number) => `sensitivity/${arch}/value/${value}`,
  /** Table 5 style cost: seconds a defense adds. */
  cost: (arch: string, defense: string) => `cost/${arch}/${defense}`,
  /** Ablation (figure 12): ASR under ShrinkPad-s; figure 13 adds the training s_max. */
  ablationShrink: (arch: string, attack: string, variant: string, size: number) => `ablation/${arch}/${attack}/${variant}/shrinkpad/${size}`,
  ablationSMax: (arch: string, attack: string, sMax: number, defense: string) => `ablation/${arch}/${attack}/smax/${sMax}/${defense}`,
  /** Share of saliency mass inside the trigger's box, for 'attacked' or 'transformed' images. */
  saliencyTriggerMass: (arch: string, attack: string, variant: string, kind: 'benign' | 'attacked' | 'transformed') =>
    `saliency/${arch}/${attack}/${variant}/${kind}/triggerMass`,
  /** Mean over layers of the layer-wise gate correlation of one image pair kind. */
  cdrpMean: (arch: string, attack: string, variant: string, pair: CdrpPair) => `cdrp/${arch}/${attack}/${variant}/${pair}/mean`,
  physicalAsr: (arch: string, attack: string, variant: string) => `physical/${arch}/${attack}/${variant}/asr`,
};

export type CdrpPair = 'benign-attacked' | 'benign-transformed' | 'attacked-transformed';
export const CDRP_PAIRS: CdrpPair[] = ['benign-attacked', 'benign-transformed', 'attacked-transformed'];

/** Facts whose key matches `pattern`, with the regex's capture groups. */
export function select(facts: Facts, pattern: RegExp): { key: string; groups: string[]; value: number }[] {
  const out: { key: string; groups: string[]; value: number }[] = [];
  for (const [key, v] of Object.entries(facts)) {
    const m = pattern.exec(key);
    if (m) out.push({ key, groups: m.slice(1), value: v });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

export function mergeFacts(parts: Facts[]): Facts {
  const out: Facts = {};
  for (const p of parts) {
    for (const [k, v] of Object.entries(p)) {
      if (!Number.isFinite(v)) throw new RangeError(`fact ${k}: non-finite value ${v}`);
      if (k in out && out[k] !== v) throw new Error(`fact ${k} published twice with different values (${out[k]} and ${v})`);
      out[k] = v;
    }
  }
  return out;
}
