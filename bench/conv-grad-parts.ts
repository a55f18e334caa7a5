/**
 * Per-layer cost of the convolution gradients on wasm against the forward convolution, in CPU ms
 * (process.cpuUsage, so it stays meaningful on a shared machine):
 *   npx tsx bench/conv-grad-parts.ts [--batch 128] [--reps 5] [--shapes 8x64x64,32x16x32:s2,32x16x32:k1:s2,...]
 * A shape is input size x inC x outC, then optionally :kK (filter size, default 3) and :sS (stride, default 1);
 * padding is 'same', NHWC. Default shapes: the stride-1 layers of vgg-narrow, then ResNet-20's down-sampling
 * convolutions. Both filter-gradient forms are timed, whichever the kernel picks (conv-backprop.ts, filterGradientMethod).
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { startWasm } from '../domain/backend/wasm/load.js';
import { conv2dFilterGradient } from '../domain/backend/wasm/conv-backprop.js';
import { filterGradientByTaps } from '../domain/backend/wasm/filter-grad-taps.js';

const { values } = parseArgs({ options: { batch: { type: 'string', default: '128' }, reps: { type: 'string', default: '5' }, shapes: { type: 'string' } } });
const batch = Number(values.batch);
const reps = Number(values.reps);
const DEFAULT_SHAPES = '32x3x16,16x16x32,16x16x16,8x32x64,8x64x64,4x64x128,4x128x128,2x128x128,32x16x32:s2,16x32x64:s2,32x16x32:k1:s2';

interface Shape { size: number; ci: number; co: number; k: number; s: number; label: string }

function parseShape(spec: string): Shape {
  const [dims, ...opts] = spec.split(':');
  const [size, ci, co] = dims.split('x').map(Number);
  const opt = (key: string, fallback: number) => Number(opts.find((o) => o.startsWith(key))?.slice(1) ?? fallback);
  const shape = { size, ci, co, k: opt('k', 3), s: opt('s', 1), label: spec };
  if (![size, ci, co, shape.k, shape.s].every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`bad --shapes entry '${spec}': expected SIZExINxOUT[:kK][:sS] with positive integers, e.g. 16x32x64:s2`);
  }
  return shape;
}

const shapes = (values.shapes ?? DEFAULT_SHAPES).split(',').map(parseShape);

function cpuMs(f: () => void): number {
  let best = Infinity;
  for (let r = 0; r < reps + 1; r++) {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    if (r > 0) best = Math.min(best, (c.user + c.system) / 1000);
  }
  return best;
}

await startWasm();
console.log(`batch ${batch}, best of ${reps} (CPU ms)`);
console.log('shape | forward | dx | dW | dW/forward | dW by taps | dW over the batch axis');
for (const { size, ci, co, k, s, label } of shapes) {
  const out = Math.ceil(size / s);
  const x = tf.randomNormal([batch, size, size, ci]) as tf.Tensor4D;
  const w = tf.randomNormal([k, k, ci, co]) as tf.Tensor4D;
  const dy = tf.randomNormal([batch, out, out, co]) as tf.Tensor4D;
  const fwd = cpuMs(() => tf.conv2d(x, w, s, 'same').dataSync());
  const dx = cpuMs(() => tf.conv2dTranspose(dy, w, [batch, size, size, ci], s, 'same').dataSync());
  const dw = cpuMs(() => (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: s, pad: 'same', dataFormat: 'NHWC', filterShape: [k, k, ci, co] }) as tf.Tensor).dataSync());
  const backend = tf.backend() as BackendWasm;
  const info = tf.backend_util.computeConv2DInfo(x.shape, [k, k, ci, co], s, 1, 'same');
  const { top, left, bottom, right } = info.padInfo;
  const geometry = { kh: k, kw: k, sh: s, sw: s, top, left, bottom, right };
  const taps = co % 4 === 0
    ? cpuMs(() => tf.engine().makeTensorFromTensorInfo(filterGradientByTaps(backend, x, dy, geometry)).dataSync()).toFixed(1)
    : 'n/a';
  const overBatch = cpuMs(() => tf.engine().makeTensorFromTensorInfo(conv2dFilterGradient(backend, x, dy, [k, k, ci, co], info)).dataSync());
  console.log(`${label} | ${fwd.toFixed(1)} | ${dx.toFixed(1)} | ${dw.toFixed(1)} | ${(dw / fwd).toFixed(2)} | ${taps} | ${overBatch.toFixed(1)}`);
  tf.dispose([x, w, dy]);
}
