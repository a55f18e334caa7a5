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
