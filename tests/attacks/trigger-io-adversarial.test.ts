import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../domain/common/rng.js';
import { fourCornerTrigger, perturbationTrigger } from '../../domain/attacks/trigger.js';
import { saveTrigger, loadTrigger } from '../../domain/attacks/trigger-io.js';
import { poisonedBatches } from '../../domain/attacks/batches.js';
import { adversarialBatches } from '../../domain/attacks/adversarial.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('trigger files', () => {
  it('round-trips patch and perturbation triggers exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trigger-'));
    for (const t of [
      fourCornerTrigger({ imageShape: [8, 8, 3], value: 200, alpha: 0.5 }),
      perturbationTrigger(Float32Array.from({ length: 192 }, (_, i) => ((i % 7) - 3) / 100), [8, 8, 3], { radius: 0.03 }),
    ]) {
      await saveTrigger(dir, t);
      const back = await loadTrigger(dir);
      expect(back.shape).toEqual(t.shape);
      expect(Array.from(back.pattern)).toEqual(Array.from(t.pattern));
      expect(Array.from(back.mask)).toEqual(Array.from(t.mask));
      expect(back.description).toEqual(t.description);
    }
  });

  it('says which file is wrong', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trigger-'));
    await expect(loadTrigger(dir)).rejects.toThrow(/trigger\.json: cannot read the trigger/);
    await saveTrigger(dir, fourCornerTrigger({ imageShape: [8, 8, 3], value: 200, alpha: 1 }));
    await writeFile(join(dir, 'trigger.json'), JSON.stringify({ shape: [4, 4, 3], description: {} }));
    await expect(loadTrigger(dir)).rejects.toThrow(/trigger_pattern\.npy: expected float32 \[4,4,3\], found float32 \[8,8,3\]/);
  });
});

describe('adversarialBatches', () => {
  it('replaces each batch by a PGD version within eps, same labels and count, no leaks', () => {
    const rng = new Rng('img');
    const n = 12;
    const set = {
      images: Uint8Array.from({ length: n * 48 }, () => rng.int(0, 255)),
      labels: Uint8Array.from({ length: n }, (_, i) => i % 3),
      isPoisoned: new Uint8Array(n),
      shape: [4, 4, 3] as [number, number, number],
    };
    const base = poisonedBatches(set, { batchSize: 5, augment: { padding: 0, flipProbability: 0 } });
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 3] }), tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })] });
    const eps = 4 / 255;
    const adv = adversarialBatches(base, model, { epsilon: eps, stepSize: 1 / 255, steps: 3, randomStart: true });
    // A first pass builds the model's weights, which are not a leak.
    for (const b of adv(0, new Rng(1))) tf.dispose([b.x, b.y]);
    const plain = [...base(0, new Rng(9))];
    const seq = adv(0, new Rng(9));
    expect(seq.length).toBe(3);
    const before = tf.memory().numTensors;
    let k = 0;
    for (const { x, y } of seq) {
      expect(Array.from(y.dataSync())).toEqual(Array.from(plain[k].y.dataSync()));
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(x, plain[k].x))).dataSync()[0]);
      expect(diff).toBeGreaterThan(0);
      expect(diff).toBeLessThanOrEqual(eps + 1e-6);
      tf.dispose([x, y]);
      k++;
    }
    expect(k).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
  });
});
