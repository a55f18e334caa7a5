/**
 * Prints the cost figures of the defenses on CIFAR-shaped inputs with the quick profile's
 * architectures (untrained weights: cost does not depend on them): per-image overhead of each
 * transform defense, and the time per unit of work of Fine-Pruning (ranking pass), Neural Cleanse
 * (one reversal step) and the Auto-Encoder (one training step). Not a test: run with
 *   npx tsx bench/defense-cost.ts [backend=wasm]
 * Last line: one JSON object with every figure.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../domain/common/rng.js';
import { selectBackend, type BackendChoice } from '../domain/backend/select.js';
import { buildModel, featureLayer } from '../domain/models/zoo.js';
import { applyWithHooks } from '../domain/models/graph.js';
import { transformDefense, transformDefenseId, transformOverheadMs, type TransformDefenseSpec } from '../domain/defenses/transform-defense.js';
import { prunableNetwork, rankChannels } from '../domain/defenses/fine-pruning.js';
import { reverseTrigger } from '../domain/defenses/neural-cleanse.js';
import { buildAutoencoder, trainAutoencoder } from '../domain/defenses/autoencoder.js';
import { noiseSplit } from '../tests/defenses/helpers.js';

const backend = (process.argv[2] ?? 'wasm') as BackendChoice;
const info = await selectBackend(backend);
const figures: Record<string, number | string> = { backend: info.name };
const rng = new Rng('cost');
const images = noiseSplit(256, 32, 10, rng);
const x = tf.tidy(() => tf.div(tf.tensor4d(images.images, [256, 32, 32, 3], 'int32'), 255) as tf.Tensor4D);

const specs: TransformDefenseSpec[] = [{ type: 'flip' }, { type: 'shrinkpad', size: 4 }, { type: 'noise', std: 10 }, { type: 'color-jitter', hue: 0.4 }, { type: 'color-jitter', brightness: 0.4 }];
for (const spec of specs) figures[`overheadMsPerImage.${transformDefenseId(spec)}`] = +transformOverheadMs(transformDefense(spec), x, rng, { repeats: 3 }).toFixed(4);

for (const arch of ['resnet20', 'vgg-narrow']) {
  const model = buildModel(arch, { numClasses: 10, inputShape: [32, 32, 3], seed: 0 });
  const forward = () => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  forward();
  let t = performance.now();
  forward();
  figures[`${arch}.forwardMsPerImage`] = +((performance.now() - t) / 256).toFixed(4);
  const net = prunableNetwork(model, featureLayer(model), applyWithHooks);
  rankChannels(net, images, 128);
  t = performance.now();
  rankChannels(net, images, 128);
  figures[`${arch}.finePruningRankMsPerImage`] = +((performance.now() - t) / 256).toFixed(4);
  const steps = 3;
  const opts = { epochs: 1, batchesPerEpoch: steps, batchSize: 32, learningRate: 0.1, adamBeta1: 0.5, adamBeta2: 0.9, initCost: 1e-3, costMultiplier: 1.5, patience: 5, attackSuccessThreshold: 0.99, earlyStop: true, earlyStopThreshold: 1, earlyStopPatience: 25 };
  const logits = (b: tf.Tensor4D) => model.apply(b, { training: false }) as tf.Tensor2D;
  reverseTrigger(logits, images, 0, 10, { ...opts, batchesPerEpoch: 1 }, rng);
  t = performance.now();
  reverseTrigger(logits, images, 0, 10, opts, rng);
  figures[`${arch}.neuralCleanseMsPerStep32`] = +((performance.now() - t) / steps).toFixed(1);
  model.dispose();
}

const ae = buildAutoencoder({ inputShape: [32, 32, 3], filters: [12, 24, 48], seed: 0 });
const small = noiseSplit(64, 32, 10, rng);
await trainAutoencoder(ae, small, { epochs: 1, batchSize: 16, learningRate: 0.001, loss: 'bce' }, rng);
const t = performance.now();
await trainAutoencoder(ae, noiseSplit(128, 32, 10, rng), { epochs: 1, batchSize: 16, learningRate: 0.001, loss: 'bce' }, rng);
figures['autoencoder.trainMsPerImage'] = +((performance.now() - t) / 128).toFixed(3);
for (const [k, v] of Object.entries(figures)) console.log(`${k}: ${v}`);
console.log(JSON.stringify(figures));
