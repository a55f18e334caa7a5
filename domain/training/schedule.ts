/**
 * Step learning-rate schedule, as PyTorch's MultiStepLR stepped once per
 * epoch (and bearpaw's adjust_learning_rate): during 0-based epoch e the rate
 * is lr * gamma^k, k the number of milestones <= e. "x0.1 at epochs 81 and
 * 122" is milestones [81, 122], gamma 0.1.
 */

export interface StepSchedule {
  lr: number;
  milestones: number[];
  gamma: number;
}

export function checkSchedule(s: StepSchedule): void {
  if (!(s.lr > 0 && Number.isFinite(s.lr))) throw new RangeError(`learning rate must be a finite number > 0, got ${s.lr}`);
  if (!(s.gamma > 0 && Number.isFinite(s.gamma))) throw new RangeError(`gamma must be a finite number > 0, got ${s.gamma}`);
  s.milestones.forEach((m, i) => {
    if (!Number.isInteger(m) || m < 1) throw new RangeError(`milestones must be integers >= 1, got ${m} in [${s.milestones}]`);
    if (i > 0 && m <= s.milestones[i - 1]) throw new RangeError(`milestones must increase strictly, got [${s.milestones}]`);
  });
}

/** The learning rate during 0-based `epoch`. */
export function learningRateAt(epoch: number, s: StepSchedule): number {
  if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`epoch must be an integer >= 0, got ${epoch}`);
  const passed = s.milestones.filter((m) => m <= epoch).length;
  return s.lr * s.gamma ** passed;
}
