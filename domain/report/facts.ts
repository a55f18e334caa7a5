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
  /** Mean ASR over the offsets with max(|dx|, |dy|) = radius: "moved by a small distance" in any direction (claim 2). */
  sensitivityRingMean: (arch: string, radius: number) => `sensitivity/${arch}/ringMean/${radius}`,
  /** The trigger's own non-zero pixel value (0-255), against which the value curve is read. */
  sensitivityTrainingValue: (arch: string) => `sensitivity/${arch}/trainingValue`,
  sensitivityValue: (arch: string, value: number) => `sensitivity/${arch}/value/${value}`,
  /** Table 5 style cost: seconds a defense adds. */
  cost: (arch: string, defense: string) => `cost/${arch}/${defense}`,
  /** Ablation (figure 12): ASR under ShrinkPad-s; figure 13 adds the training s_max. */
  ablationShrink: (arch: string, attack: string, variant: string, size: number) => `ablation/${arch}/${attack}/${variant}/shrinkpad/${size}`,
  ablationSMax: (arch: string, attack: string, sMax: number, defense: string) => `ablation/${arch}/${attack}/smax/${sMax}/${defense}`,
  /** Share of saliency mass inside the trigger's box, for 'attacked' or 'transformed' images. */
  saliencyTriggerMass: (arch: string, attack: string, variant: string, kind: 'benign' | 'attacked' | 'transformed') =>
    `saliency/${arch}/${attack}/${variant}/${kind}/triggerMass`,
  /** Standard deviation over images of that share (the spread around the mean above). */
  saliencyTriggerMassSd: (arch: string, attack: string, variant: string, kind: 'benign' | 'attacked' | 'transformed') =>
    `saliency/${arch}/${attack}/${variant}/${kind}/triggerMassSd`,
  /** Images the saliency means are taken over. */
  saliencyImages: (arch: string, attack: string) => `saliency/${arch}/${attack}/images`,
  /** Mean over layers of the layer-wise gate correlation of one image pair kind. */
  cdrpMean: (arch: string, attack: string, variant: string, pair: CdrpPair) => `cdrp/${arch}/${attack}/${variant}/${pair}/mean`,
  physicalAsr: (arch: string, attack: string, variant: string) => `physical/${arch}/${attack}/${variant}/asr`,
  physicalDigitalAsr: (arch: string, attack: string, variant: string) => `physical/${arch}/${attack}/${variant}/digitalAsr`,
  /**
   * Fine-Pruning at the prune fraction whose validation clean-accuracy loss first reaches the
   * paper's own loss for that row (Table 1/6: paper's Standard clean minus its Fine-Pruning clean),
   * so that its ASR compares like with like. 'paperLoss' and 'validationLoss' are points; 'fraction' 0-1.
   */
  finePruningAtPaperLoss: (arch: string, attack: string, variant: string, metric: 'asr' | 'clean' | 'targetRateClean' | 'fraction' | 'paperLoss' | 'validationLoss') =>
    `finePruningAtPaperLoss/${arch}/${attack}/${variant}/${metric}`,
};

/** The model a fact is about, as far as its key says (a departure bears on a verdict that read such a fact). */
export interface FactModel {
  arch?: string;
  attack?: string;
  variant?: string;
  defense?: string;
}

/** Parses a key built by `factKey` back into the model it describes; undefined for keys about no model (e.g. 'ablation/sMax'). */
export function modelOfFact(key: string): FactModel | undefined {
  const p = key.split('/');
  switch (p[0]) {
    case 'eval':
      return p.length === 6 ? { arch: p[1], attack: p[2], variant: p[3], defense: p[4] } : undefined;
    case 'sensitivity':
      // The sensitivity keys name only the architecture; the attack is params.analyses.sensitivity.attack.
      return p.length >= 3 ? { arch: p[1], variant: 'standard' } : undefined;
    case 'cost':
      return p.length === 3 ? { arch: p[1], defense: p[2] } : undefined;
    case 'ablation':
      if (p.length !== 6) return undefined;
      // ablation/<arch>/<attack>/<variant>/shrinkpad/<s> or ablation/<arch>/<attack>/smax/<s_max>/<defense> (enhanced models only).
      return p[3] === 'smax' ? { arch: p[1], attack: p[2], variant: 'enhanced', defense: p[5] } : { arch: p[1], attack: p[2], variant: p[3], defense: `shrinkpad-${p[5]}` };
    case 'saliency':
    case 'cdrp':
    case 'physical':
      return p.length >= 5 ? { arch: p[1], attack: p[2], variant: p[3] } : p.length === 4 ? { arch: p[1], attack: p[2] } : undefined;
    case 'finePruningAtPaperLoss':
      return p.length === 5 ? { arch: p[1], attack: p[2], variant: p[3], defense: 'fine-pruning' } : undefined;
    default:
      return undefined;
  }
}

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
