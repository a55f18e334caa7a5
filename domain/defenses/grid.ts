/**
 * Which trained models each defense runs on. Params name subsets by architecture, attack (the
 * attack's name in params, or 'benign') and variant; null means "all". The paper runs Tables 1
 * and 5 on every attack of both architectures, Tables 3-4 on ResNet only, and so on, so each
 * defense (or set of transform defenses) carries its own filter.
 */
export type ModelVariant = 'standard' | 'enhanced';

/** One trained model as the train stage expands it; `variant` is null for the benign model. */
export interface TrainedModelRef {
  arch: string;
  attack: string;
  variant: ModelVariant | null;
  seed: number;
}

export interface ModelFilter {
  architectures: string[] | null;
  attacks: string[] | null;
  variants: ModelVariant[] | null;
  /** Replicate seeds to run on; null or absent = every seed (an expensive defense may run on fewer seeds than are trained). */
  seeds?: number[] | null;
}

export const BENIGN = 'benign';

export function matchesFilter(model: TrainedModelRef, filter: ModelFilter): boolean {
  if (filter.architectures !== null && !filter.architectures.includes(model.arch)) return false;
  if (filter.attacks !== null && !filter.attacks.includes(model.attack)) return false;
  // The benign model has no variant; a variant filter only constrains poisoned models.
  if (filter.variants !== null && model.variant !== null && !filter.variants.includes(model.variant)) return false;
  if (filter.seeds != null && !filter.seeds.includes(model.seed)) return false;
  return true;
}

/** Checks a filter against what the params actually train, so a typo does not silently select nothing. */
export function checkFilter(filter: ModelFilter, known: { architectures: string[]; attacks: string[]; seeds?: number[] }, where: string): void {
  for (const s of filter.seeds ?? []) {
    if (known.seeds && !known.seeds.includes(s)) throw new RangeError(`${where}: seed ${s} is not trained (training.seeds: ${known.seeds.join(', ')})`);
  }
  for (const a of filter.architectures ?? []) {
    if (!known.architectures.includes(a)) throw new RangeError(`${where}: architecture '${a}' is not trained (trained: ${known.architectures.join(', ')})`);
  }
  for (const a of filter.attacks ?? []) {
    if (a !== BENIGN && !known.attacks.includes(a)) throw new RangeError(`${where}: attack '${a}' is not trained (trained: ${[BENIGN, ...known.attacks].join(', ')})`);
  }
  for (const v of filter.variants ?? []) {
    if (v !== 'standard' && v !== 'enhanced') throw new RangeError(`${where}: variant '${v}' is not one of standard, enhanced`);
  }
}
