/**
 * Which training images are poisoned, chosen deterministically from the seed.
 * - 'non-target' (BadNets, Blended, UAP): round(ratio * N) images drawn among those whose label is
 *   not the target, relabelled to the target; the ratio is of the whole training set, as in the paper.
 * - 'target-class' (label-consistent): round(ratio * N_target) images of the target class, labels kept.
 */
import { Rng } from '../common/rng.js';

export type PoisonMode = 'non-target' | 'target-class';

export interface PoisonOptions {
  mode: PoisonMode;
  ratio: number;
  target: number;
  seed: number | string;
}

export interface PoisonSelection {
  /** Training-set indices of the poisoned images, increasing. */
  indices: Int32Array;
  /** The training labels after poisoning (a copy; poisoned ones set to the target). */
  labels: Uint8Array;
  /** Membership test per training index. */
  isPoisoned: Uint8Array;
}

export function choosePoisoned(labels: Uint8Array, o: PoisonOptions): PoisonSelection {
  if (o.mode !== 'non-target' && o.mode !== 'target-class') throw new RangeError(`poison mode must be 'non-target' or 'target-class', got '${String(o.mode)}'`);
  if (!(Number.isFinite(o.ratio) && o.ratio >= 0 && o.ratio <= 1)) throw new RangeError(`poisoning ratio must be in [0, 1], got ${o.ratio}`);
  if (!Number.isInteger(o.target) || o.target < 0 || o.target > 255) throw new RangeError(`target label must be an integer class index, got ${o.target}`);
  const targetCount = labels.reduce((n, l) => n + (l === o.target ? 1 : 0), 0);
  if (targetCount === 0) throw new RangeError(`target label ${o.target} does not occur in the training labels`);
  const pool: number[] = [];
  labels.forEach((l, i) => {
    if ((o.mode === 'target-class') === (l === o.target)) pool.push(i);
  });
  const wanted = Math.round(o.ratio * (o.mode === 'non-target' ? labels.length : targetCount));
  if (wanted > pool.length) {
    throw new RangeError(`cannot poison ${wanted} images (ratio ${o.ratio}): only ${pool.length} ${o.mode === 'non-target' ? 'non-target' : 'target-class'} images exist`);
  }
  const rng = new Rng(`poison/${o.seed}`);
  const indices = Int32Array.from(rng.sample(pool.length, wanted).map((k) => pool[k]));
  const isPoisoned = new Uint8Array(labels.length);
  const poisonedLabels = Uint8Array.from(labels);
  for (const i of indices) {
    isPoisoned[i] = 1;
    poisonedLabels[i] = o.target;
  }
  return { indices, labels: poisonedLabels, isPoisoned };
}
