/**
 * `npm run bench:data`: imports the team's JPEG copy of CIFAR-10 (60,000 images),
 * stores it in the dataset format, loads it back, and times the synthetic
 * generator; with --learn, also trains a tiny CNN on the synthetic set.
 * The last line is one JSON object with the figures.
 * Usage: tsx bench/data.ts [--archive PATH] [--concurrency N] [--learn]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { selectBackend } from '../domain/backend/select.js';
import { loadDataset, saveDataset } from '../domain/data/format.js';
import { importImageFolder } from '../domain/data/imageFolder.js';
import { generateSynthetic, type SyntheticOptions } from '../domain/data/synthetic.js';
import { tinyCnnAccuracy } from './data-learnability.js';

const { values: args } = parseArgs({
  options: {
    archive: { type: 'string', default: fileURLToPath(new URL('../../shared/data/cifar10-jpeg.tar.gz', import.meta.url)) },
    concurrency: { type: 'string', default: '4' },
    learn: { type: 'boolean', default: false },
  },
});
const archive = resolve(args.archive!);
const concurrency = Number(args.concurrency);
const seconds = (t0: number): number => Math.round((performance.now() - t0) / 10) / 100;
// The synthetic params' defaults (see the data params fragment).
const SYNTHETIC: SyntheticOptions = { seed: 0, trainPerClass: 500, testPerClass: 100, height: 32, width: 32, noiseStd: 8, minSizeFraction: 0.45, maxSizeFraction: 0.9, minContrast: 40 };
const LEARN = { trainPerClass: 300, testPerClass: 30, epochs: 6 };

const figures: Record<string, number | string | number[]> = {
  machine: `${cpus().length}x ${cpus()[0]?.model ?? 'cpu'}`, date: new Date().toISOString(), loadAverageAtStart: Math.round(loadavg()[0] * 10) / 10,
};
const out = mkdtempSync(join(tmpdir(), 'bench-data-'));
try {
  let t0 = performance.now();
  const folder = await importImageFolder(archive, { height: 32, width: 32, resize: false, classes: null, concurrency });
  const importS = seconds(t0);
  const images = folder.train.count + folder.test.count;
  console.log(`import ${archive}: ${images} images in ${importS} s (${Math.round(images / importS)} img/s, concurrency ${concurrency})`);
  Object.assign(figures, { importImages: images, importSeconds: importS, importImagesPerSecond: Math.round(images / importS), decodeConcurrency: concurrency });

  t0 = performance.now();
  await saveDataset(out, { name: 'cifar10', source: archive, synthetic: false, ...folder });
  const saveS = seconds(t0);
  t0 = performance.now();
  const back = await loadDataset(out);
  const loadS = seconds(t0);
  console.log(`save: ${saveS} s, load back: ${loadS} s (${back.train.count} train + ${back.test.count} test)`);
  Object.assign(figures, { saveSeconds: saveS, loadSeconds: loadS });

  t0 = performance.now();
  const syn = generateSynthetic(SYNTHETIC);
  const synS = seconds(t0);
  const synImages = syn.train.count + syn.test.count;
  console.log(`synthetic: ${synImages} images in ${synS} s (${Math.round(synImages / synS)} img/s)`);
  Object.assign(figures, { syntheticImages: synImages, syntheticSeconds: synS, syntheticImagesPerSecond: Math.round(synImages / synS) });

  if (args.learn) {
    const backend = await selectBackend('auto');
    const small = generateSynthetic({ ...SYNTHETIC, trainPerClass: LEARN.trainPerClass, testPerClass: LEARN.testPerClass });
    t0 = performance.now();
    const acc = await tinyCnnAccuracy(small, LEARN.epochs, 0);
    const learnS = seconds(t0);
    console.log(`tiny CNN on ${small.train.count} synthetic images (${backend.name}): test accuracy by epoch ${acc.map((a) => a.toFixed(2)).join(', ')} (chance 0.10) in ${learnS} s`);
    Object.assign(figures, { learnBackend: backend.name, learnTrainImages: small.train.count, learnTestAccuracyByEpoch: acc, learnSeconds: learnS });
  }
  console.log(JSON.stringify(figures));
} finally {
  rmSync(out, { recursive: true, force: true });
}
