/**
 * Critical data routing paths (Wang et al. 2018; appendix G, eq. 6): for one image, a control gate
 * per output channel of each gated layer, initialised at 1 and kept in [0, 1] (projected after
 * every step), learned so that the gated network's softmax matches the original network's
 * (distillation cross-entropy) while an L1 penalty (weight `lambda`, our choice: the paper's value
 * is lost) drives unneeded gates to 0. The penalty is each layer's MEAN absolute gate, summed over
 * layers, so that one lambda means the same for a narrow and a wide network. Images are optimised together in a batch, but each has its
 * own gates and its own loss term, so the result is what per-image optimisation would give.
 */
import * as tf from '@tensorflow/tfjs';

import type { HookRunner } from '../models/graph.js';

export type { HookRunner };

export interface CdrpOptions {
  /** Weight of the L1 penalty: per image, the sum over layers of the layer's mean absolute gate. */
  lambda: number;
  steps: number;
  learningRate: number;
}

export interface ImageGates {
  /** Per layer, [N, channels] gates in [0, 1], row-major. */
  layers: { name: string; channels: number; gates: Float32Array }[];
  count: number;
  /** Predictions of the original and of the gated network, per image. */
  originalPrediction: Int32Array;
  gatedPrediction: Int32Array;
  finalLoss: number;
}

function checkOptions(o: CdrpOptions): void {
  if (!(Number.isFinite(o.lambda) && o.lambda >= 0)) throw new RangeError(`cdrp lambda must be >= 0, got ${o.lambda}`);
  if (!(Number.isInteger(o.steps) && o.steps >= 1)) throw new RangeError(`cdrp steps must be a positive integer, got ${o.steps}`);
  if (!(Number.isFinite(o.learningRate) && o.learningRate > 0)) throw new RangeError(`cdrp learningRate must be > 0, got ${o.learningRate}`);
}

function channelsOf(model: tf.LayersModel, name: string): number {
  const shape = model.getLayer(name).outputShape as number[];
  const c = shape[shape.length - 1];
  if (!Number.isInteger(c) || c < 1) throw new RangeError(`cdrp: layer '${name}' has no channel axis (output shape ${JSON.stringify(shape)})`);
  return c;
}

/** Multiplies a [N, ..., C] activation by per-image gates [N, C]. */
function gate(t: tf.Tensor, g: tf.Tensor2D): tf.Tensor {
  const shape = [g.shape[0], ...new Array(t.rank - 2).fill(1), g.shape[1]];
  return tf.mul(t, tf.reshape(g, shape));
}

export function learnGates(model: tf.LayersModel, run: HookRunner, layerNames: string[], x: tf.Tensor4D, o: CdrpOptions): ImageGates {
  checkOptions(o);
  if (layerNames.length === 0) throw new Error('cdrp: no gate layers given');
  const n = x.shape[0];
  const channels = layerNames.map((name) => channelsOf(model, name));
  const teacher = tf.tidy(() => tf.softmax(model.predict(x) as tf.Tensor2D));
  const originalPrediction = tf.tidy(() => tf.argMax(teacher, 1).dataSync() as Int32Array);
  // Variables are not tracked by tidy, and tf.variable keeps its own copy of the initial value.
  const gates = channels.map((c) => {
    const init = tf.ones([n, c]);
    const v = tf.variable(init, true) as tf.Variable<tf.Rank.R2>;
    init.dispose();
    return v;
  });
  const hooks = (): Record<string, (t: tf.Tensor) => tf.Tensor> => Object.fromEntries(layerNames.map((name, i) => [name, (t: tf.Tensor) => gate(t, gates[i])]));
  const optimizer = tf.train.adam(o.learningRate);
  let finalLoss = Number.NaN;
  try {
    for (let step = 0; step < o.steps; step++) {
      const loss = optimizer.minimize(() => {
        const logits = run(model, x, hooks(), { training: false }) as tf.Tensor2D;
        // Cross-entropy against the original network's soft output, summed over images so that each image's gates see only their own term.
        const distill = tf.neg(tf.sum(tf.mul(teacher, tf.logSoftmax(logits))));
        const l1 = gates.reduce<tf.Tensor>((acc, g) => tf.add(acc, tf.div(tf.sum(tf.abs(g)), g.shape[1])), tf.scalar(0));
        return tf.add(distill, tf.mul(o.lambda, l1)) as tf.Scalar;
      }, true, gates);
      if (loss) {
        finalLoss = loss.dataSync()[0] / n;
        loss.dispose();
      }
      if (!Number.isFinite(finalLoss)) throw new Error(`cdrp: loss became ${finalLoss} at step ${step}`);
      for (const g of gates) {
        const clipped = tf.tidy(() => tf.clipByValue(g, 0, 1));
        g.assign(clipped);
        clipped.dispose();
      }
    }
    const gatedPrediction = tf.tidy(() => tf.argMax(run(model, x, hooks(), { training: false }) as tf.Tensor2D, 1).dataSync() as Int32Array);
    return {
      layers: layerNames.map((name, i) => ({ name, channels: channels[i], gates: Float32Array.from(gates[i].dataSync()) })),
      count: n,
      originalPrediction: Int32Array.from(originalPrediction),
      gatedPrediction: Int32Array.from(gatedPrediction),
      finalLoss,
    };
  } finally {
    teacher.dispose();
    gates.forEach((g) => g.dispose());
    optimizer.dispose();
  }
}

/**
 * Pearson correlation of two gate vectors. A constant vector has no defined correlation; two
 * identical constant vectors count as 1 and otherwise 0, so that all-open or all-closed layers
 * do not produce NaN.
 */
export function pearson(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`pearson: lengths ${a.length} and ${b.length}`);
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  const eps = 1e-12;
  if (saa < eps || sbb < eps) return saa < eps && sbb < eps && Math.abs(ma - mb) < 1e-6 ? 1 : 0;
  return sab / Math.sqrt(saa * sbb);
}

function row(gates: Float32Array, channels: number, i: number): Float32Array {
  return gates.subarray(i * channels, (i + 1) * channels);
}

/** Mean over images of the per-layer correlation between image i's gates in `a` and in `b`. */
export function layerwiseCorrelation(a: ImageGates, b: ImageGates): { layer: string; index: number; r: number }[] {
  if (a.count !== b.count || a.layers.length !== b.layers.length) throw new RangeError(`cdrp: gate sets differ (${a.count} vs ${b.count} images, ${a.layers.length} vs ${b.layers.length} layers)`);
  return a.layers.map((la, k) => {
    const lb = b.layers[k];
    if (la.name !== lb.name) throw new Error(`cdrp: layer ${k} is '${la.name}' in one set and '${lb.name}' in the other`);
    let sum = 0;
    for (let i = 0; i < a.count; i++) sum += pearson(row(la.gates, la.channels, i), row(lb.gates, lb.channels, i));
    return { layer: la.name, index: k, r: sum / a.count };
  });
}
