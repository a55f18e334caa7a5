/**
 * Per-layer cost of the convolution gradients on wasm against the forward convolution, in CPU ms
 * (process.cpuUsage, so it stays meaningful on a shared machine):
 *   npx tsx bench/conv-grad-parts.ts [--batch 128] [--reps 5] [--shapes 8x64x64,...]  (size x inC x outC)
 * Default shapes: the stride-1 layers of vgg-narrow (NHWC, 3x3, "same"). Both filter-gradient forms are timed,
 * whichever the kernel picks (conv-backprop.ts, filterGradientMethod).
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { startWasm } from '../domain/backend/wasm/load.js';
import { conv2dFilterGradient } from '../domain/backend/wasm/conv-backprop.js';
import { filterGradientByRows } from '../domain/backend/wasm/filter-grad-rows.js';

const { values } = parseArgs({ options: { batch: { type: 'string', default: '128' }, reps: { type: 'string', default: '5' }, shapes: { type: 'string' } } });
const batch = Number(values.batch);
const reps = Number(values.reps);
const DEFAULT_SHAPES = '32x3x16,16x16x32,16x16x16,8x32x64,8x64x64,4x64x128,4x128x128,2x128x128';
const shapes = (values.shapes ?? DEFAULT_SHAPES).split(',').map((s) => s.split('x').map(Number) as [number, number, number]);

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
console.log('size x in x out | forward | dx | dW | dW/forward | dW as rows | dW over the batch axis');
for (const [size, ci, co] of shapes) {
  const x = tf.randomNormal([batch, size, size, ci]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, ci, co]) as tf.Tensor4D;
  const dy = tf.randomNormal([batch, size, size, co]) as tf.Tensor4D;
  const fwd = cpuMs(() => tf.conv2d(x, w, 1, 'same').dataSync());
  const dx = cpuMs(() => tf.conv2dTranspose(dy, w, [batch, size, size, ci], 1, 'same').dataSync());
  const dw = cpuMs(() => (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, ci, co] }) as tf.Tensor).dataSync());
  const backend = tf.backend() as BackendWasm;
  const geometry = { kh: 3, kw: 3, top: 1, left: 1, bottom: 1, right: 1 };
  const rows = cpuMs(() => tf.engine().makeTensorFromTensorInfo(filterGradientByRows(backend, x, dy, geometry)).dataSync());
  const info = tf.backend_util.computeConv2DInfo(x.shape, [3, 3, ci, co], 1, 1, 'same');
  const overBatch = cpuMs(() => tf.engine().makeTensorFromTensorInfo(conv2dFilterGradient(backend, x, dy, [3, 3, ci, co], info)).dataSync());
  console.log(`${size}x${ci}x${co} | ${fwd.toFixed(1)} | ${dx.toFixed(1)} | ${dw.toFixed(1)} | ${(dw / fwd).toFixed(2)} | ${rows.toFixed(1)} | ${overBatch.toFixed(1)}`);
  tf.dispose([x, w, dy]);
}
