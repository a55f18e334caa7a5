/** A tiny learnable task for loop tests: the label is the quadrant holding a bright square on dim noise. */
import { Rng } from '../../domain/common/rng.js';
import type { LabelledImages } from '../../domain/common/types.js';

export function quadrantImages(count: number, size: number, seed: number): LabelledImages {
  const rng = new Rng(seed);
  const channels = 3;
  const images = new Uint8Array(count * size * size * channels);
  const labels = new Uint8Array(count);
  const half = size / 2;
  for (let n = 0; n < count; n++) {
    const label = rng.int(0, 3);
    labels[n] = label;
    const top = label < 2 ? 0 : half;
    const left = label % 2 === 0 ? 0 : half;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = y >= top && y < top + half && x >= left && x < left + half;
        for (let c = 0; c < channels; c++) {
          images[((n * size + y) * size + x) * channels + c] = inside ? rng.int(150, 255) : rng.int(0, 100);
        }
      }
    }
  }
  return { images, labels, count, height: size, width: size, channels };
}
