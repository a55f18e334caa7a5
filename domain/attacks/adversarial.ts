/**
 * Madry-style adversarial training as a batch-source wrapper: each batch from the base source is
 * replaced by its PGD adversarial version against the model as it currently is, so the ordinary
 * training loop then minimises the adversarial loss. Used for the label-consistent attack's
 * surrogate, which Turner et al. train adversarially.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../common/rng.js';
import type { Batch, BatchSequence } from './batches.js';
import { checkPgdOptions, pgd, type PgdOptions } from './pgd.js';

export function adversarialBatches(
  base: (epoch: number, rng: Rng) => BatchSequence,
  model: tf.LayersModel,
  o: PgdOptions,
): (epoch: number, rng: Rng) => BatchSequence {
  checkPgdOptions(o);
  return (epoch, rng) => {
    const source = base(epoch, rng);
    return {
      length: source.length,
      *[Symbol.iterator](): Iterator<Batch> {
        for (const { x, y } of source) {
          try {
            const adv = pgd(model, x, y, o, rng);
            yield { x: adv, y: y.clone() };
          } finally {
            tf.dispose([x, y]);
          }
        }
      },
    };
  };
}
