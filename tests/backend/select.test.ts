import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, selectBackend } from '../../domain/backend/select.js';

const absent = async (specifier: string): Promise<unknown> => {
  throw new Error(`Cannot find package '${specifier}'`);
};

describe('selectBackend', () => {
  it('auto skips the absent tfjs-node packages, says why, and lands on wasm with the training kernels', async () => {
    const info = await selectBackend('auto', { env: {}, importModule: absent });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(Object.keys(info.skipped ?? {})).toEqual(['tensorflow-gpu', 'tensorflow']);
    expect(info.skipped?.tensorflow).toContain('@tensorflow/tfjs-node');
    expect(info.simd).toBe(true);
    expect(info.trainingKernels).toContain('Conv2DBackpropFilter');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    const meta = describeBackend(info);
    expect(meta.backend).toBe('wasm');
    expect(meta.tfjs).toBe(tf.version.tfjs);
  });

  it('an explicit backend that cannot load is an error that says why', async () => {
    await expect(selectBackend('tensorflow-gpu', { env: {}, importModule: absent }))
      .rejects.toThrow(/'tensorflow-gpu' was requested.*@tensorflow\/tfjs-node-gpu.*Cannot find package/);
  });

  it('the environment override wins over the params choice', async () => {
    const info = await selectBackend('wasm', { env: { TRIGGER_LAB_BACKEND: 'cpu' }, importModule: absent });
    expect(info.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('an unknown choice names the bad value and the allowed ones', async () => {
    await expect(selectBackend('auto', { env: { TRIGGER_LAB_BACKEND: 'cuda' } }))
      .rejects.toThrow(/TRIGGER_LAB_BACKEND: unknown backend 'cuda'; allowed: auto, tensorflow-gpu, tensorflow, wasm, cpu/);
  });
});
