/**
 * A trigger on disk, so that every consumer of a trained model (evaluation, defenses, analyses)
 * stamps exactly the trigger it was trained with, perturbation triggers included:
 * trigger.json (description and shape), trigger_pattern.npy and trigger_mask.npy (float32 HWC).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { readNpy, writeNpy } from '../common/npy.js';
import type { Trigger, TriggerDescription } from './trigger.js';

export const TRIGGER_JSON = 'trigger.json';
export const TRIGGER_PATTERN = 'trigger_pattern.npy';
export const TRIGGER_MASK = 'trigger_mask.npy';

export async function saveTrigger(dir: string, trigger: Trigger): Promise<void> {
  await writeNpy(join(dir, TRIGGER_PATTERN), trigger.pattern, trigger.shape);
  await writeNpy(join(dir, TRIGGER_MASK), trigger.mask, trigger.shape);
  await fs.writeFile(join(dir, TRIGGER_JSON), JSON.stringify({ shape: trigger.shape, description: trigger.description }, null, 2) + '\n');
}

export async function loadTrigger(dir: string): Promise<Trigger> {
  const path = join(dir, TRIGGER_JSON);
  let meta: { shape: [number, number, number]; description: TriggerDescription };
  try {
    meta = JSON.parse(await fs.readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read the trigger (${(err as Error).message}); is '${dir}' a poisoned train artifact?`);
  }
  const pattern = await readNpy(join(dir, TRIGGER_PATTERN));
  const mask = await readNpy(join(dir, TRIGGER_MASK));
  for (const [name, arr] of [[TRIGGER_PATTERN, pattern], [TRIGGER_MASK, mask]] as const) {
    if (arr.dtype !== 'float32' || JSON.stringify(arr.shape) !== JSON.stringify(meta.shape)) {
      throw new Error(`${join(dir, name)}: expected float32 [${meta.shape}], found ${arr.dtype} [${arr.shape}]`);
    }
  }
  return { shape: meta.shape, pattern: pattern.data as Float32Array, mask: mask.data as Float32Array, description: meta.description };
}
