/**
 * `npm run bench:data`: imports the team's JPEG copy of CIFAR-10 (60,000 images),
 * stores it in the dataset format, loads it back, and times the synthetic
 * generator. The last line is one JSON object with the figures.
 * Usage: tsx bench/data.ts [archive] [decodeConcurrency]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset, saveDataset } from '../domain/data/format.js';
import { importImageFolder } from '../domain/data/imageFolder.js';
import { generateSynthetic } from '../domain/data/synthetic.js';

const archive = resolve(process.argv[2] ?? fileURLToPath(new URL('../../shared/data/cifar10-jpeg.tar.gz', import.meta.url)));
const concurrency = Number(process.argv[3] ?? 4);
const seconds = (t0: number): number => Math.round((performance.now() - t0) / 10) / 100;

const out = mkdtempSync(join(tmpdir(), 'bench-data-'));
try {
  let t0 = performance.now();
  const folder = await importImageFolder(archive, { height: 32, width: 32, resize: false, classes: null, concurrency });
  const importS = seconds(t0);
  const images = folder.train.count + folder.test.count;
  console.log(`import ${archive}: ${images} images in ${importS} s (${Math.round(images / importS)} img/s, concurrency ${concurrency})`);

  t0 = performance.now();
  await saveDataset(out, { name: 'cifar10', source: archive, synthetic: false, ...folder });
  const saveS = seconds(t0);
  t0 = performance.now();
  const back = await loadDataset(out);
  const loadS = seconds(t0);
  console.log(`save: ${saveS} s, load back: ${loadS} s (${back.train.count} train + ${back.test.count} test)`);

  t0 = performance.now();
  const syn = generateSynthetic({ seed: 0, trainPerClass: 500, testPerClass: 100, height: 32, width: 32, noiseStd: 8, minSizeFraction: 0.45, maxSizeFraction: 0.9, minContrast: 40 });
  const synS = seconds(t0);
  const synImages = syn.train.count + syn.test.count;
  console.log(`synthetic: ${synImages} images in ${synS} s (${Math.round(synImages / synS)} img/s)`);

  console.log(JSON.stringify({
    machine: `${cpus().length}x ${cpus()[0]?.model ?? 'cpu'}`, date: new Date().toISOString(),
    importImages: images, importSeconds: importS, importImagesPerSecond: Math.round(images / importS), decodeConcurrency: concurrency,
    saveSeconds: saveS, loadSeconds: loadS, syntheticImages: synImages, syntheticSeconds: synS, syntheticImagesPerSecond: Math.round(synImages / synS),
  }));
} finally {
  rmSync(out, { recursive: true, force: true });
}
