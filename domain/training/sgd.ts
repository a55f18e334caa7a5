/**
 * SGD with momentum and weight decay, exactly as PyTorch's torch.optim.SGD
 * (dampening 0, Nesterov off), so that the paper's settings mean the same
 * thing here:
 *   d_p = g + weightDecay * w
 *   buf = d_p on the first step, then buf = momentum * buf + d_p
 *   w  -= lr * buf
 * Weight decay applies to every parameter it is given, batch-norm gamma/beta
 * and biases included, as PyTorch does unless parameter groups say otherwise
 * (the paper's recipe uses one group). The learning rate is passed per step
 * so that the schedule lives outside the optimizer.
 */
import * as tf from '@tensorflow/tfjs';

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
}

/** A parameter to update, under a name that is stable across processes (used in the saved state). */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/** The optimizer's state as plain arrays, for checkpoints. */
export interface SgdState {
  momentum: number;
  weightDecay: number;
  buffers: Record<string, { shape: number[]; values: Float32Array }>;
}

function checkOptions(opts: SgdOptions): void {
  if (!(opts.momentum >= 0 && opts.momentum < 1)) throw new RangeError(`SGD momentum must be in [0, 1), got ${opts.momentum}`);
  if (!(opts.weightDecay >= 0 && Number.isFinite(opts.weightDecay))) {
    throw new RangeError(`SGD weightDecay must be a finite number >= 0, got ${opts.weightDecay}`);
  }
}

export class Sgd {
  private readonly buffers = new Map<string, tf.Variable>();

  constructor(private readonly opts: SgdOptions) {
    checkOptions(opts);
  }

  step(params: NamedVariable[], grads: Record<string, tf.Tensor>, lr: number): void {
    if (!(lr >= 0 && Number.isFinite(lr))) throw new RangeError(`SGD learning rate must be a finite number >= 0, got ${lr}`);
    const { momentum, weightDecay } = this.opts;
    for (const { name, variable } of params) {
      const g = grads[name];
      if (!g) throw new Error(`SGD step: no gradient for parameter '${name}'`);
      tf.tidy(() => {
        const dp = weightDecay !== 0 ? g.add(variable.mul(weightDecay)) : g;
        let direction = dp;
        if (momentum !== 0) {
          const buf = this.buffers.get(name);
          if (buf) buf.assign(buf.mul(momentum).add(dp));
          else this.buffers.set(name, tf.variable(dp, false));
          direction = this.buffers.get(name)!;
        }
        variable.assign(variable.sub(direction.mul(lr)));
      });
    }
  }

  getState(): SgdState {
    const buffers: SgdState['buffers'] = {};
    for (const [name, buf] of this.buffers) buffers[name] = { shape: [...buf.shape], values: buf.dataSync() as Float32Array };
    return { momentum: this.opts.momentum, weightDecay: this.opts.weightDecay, buffers };
  }

  /** Restores buffers saved by getState; the options must match, or the resumed run would not be the same run. */
  setState(state: SgdState): void {
    if (state.momentum !== this.opts.momentum || state.weightDecay !== this.opts.weightDecay) {
      throw new Error(
        `SGD state was saved with momentum ${state.momentum}, weightDecay ${state.weightDecay}; ` +
          `this optimizer has momentum ${this.opts.momentum}, weightDecay ${this.opts.weightDecay}`,
      );
    }
    this.dispose();
    for (const [name, { shape, values }] of Object.entries(state.buffers)) {
      this.buffers.set(name, tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), false)));
    }
  }

  dispose(): void {
    for (const buf of this.buffers.values()) buf.dispose();
    this.buffers.clear();
  }
}
