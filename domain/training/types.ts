/** Records shared by the training loop, its checkpoints and the stages that read training curves. */

/** One line of the training curve. `epoch` is 0-based; extra keys are the caller's onEpochEnd metrics. */
export interface EpochRecord {
  epoch: number;
  /** Mean softmax cross-entropy over the epoch's training images. */
  loss: number;
  /** Fraction of training images (as augmented/poisoned) classified right during the epoch. */
  trainAcc: number;
  lr: number;
  seconds: number;
  imagesPerSecond: number;
  [metric: string]: number;
}

/**
 * Where an epoch's wall time went, in seconds, as the loop measured it (recorded with every
 * epoch so that a slow run can be told apart from slow kernels):
 * - prepareSeconds: building batches (sampling, augmentation, stamping, transforms, tensor creation;
 *   for an adversarially trained surrogate, its PGD attack too, which the batch source runs);
 * - gradientSeconds: the forward and backward pass (the kernels; wasm runs them synchronously);
 * - readSeconds: reading the loss and the count of right answers back;
 * - updateSeconds: the SGD update;
 * - otherSeconds: the rest of the batch loop (checks, disposal, progress reports, event-loop turns);
 * - evalSeconds and checkpointSeconds: after the epoch, outside `seconds` and `imagesPerSecond`.
 */
export const EPOCH_PHASE_KEYS = ['prepareSeconds', 'gradientSeconds', 'readSeconds', 'updateSeconds', 'otherSeconds', 'evalSeconds', 'checkpointSeconds'] as const;
export type EpochPhase = (typeof EPOCH_PHASE_KEYS)[number];
export type EpochPhases = Record<EpochPhase, number>;

/** The curve fields that measure the run, not the model: they differ on every run. */
export const EPOCH_TIMING_KEYS = ['seconds', 'imagesPerSecond', ...EPOCH_PHASE_KEYS] as const;

export interface TrainProgress {
  /** 0-based epoch and batch. */
  epoch: number;
  epochs: number;
  batch: number;
  /** Batches in this epoch, when the batch source reports its length. */
  batches?: number;
  loss: number;
  imagesPerSecond: number;
}
