/** The dry run's cost model, calibrated per machine and backend from a cached probe. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonObject, StageInstance } from '../../engine/stage.js';
import { calibrationPath, machineName, type Calibration } from '../../stages/calibration.js';
import { calibratedEstimator, estimateSeconds } from '../../stages/estimates.js';
import { REPO } from './helpers.js';

const params = (): JsonObject => {
  const { profiles: _p, defaultProfile: _d, $comment: _c, ...base } = JSON.parse(readFileSync(join(REPO, 'params.json'), 'utf8')) as JsonObject;
  return { ...base, compute: { backend: 'wasm' } };
};
const training: StageInstance = { id: 'train/x', params: { arch: 'small-cnn', recipe: { epochs: 2 }, curveTestImages: null } };

describe('calibrated cost model', () => {
  it('without a cached probe, a run (no probe allowed) uses throughput.json as it is and says so', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'calibration-'));
    const model = await calibratedEstimator(params(), { cacheDir, probe: false });
    expect(model.calibration).toMatch(/^none, throughput\.json as measured where bench:train ran \(no probe has run on this machine yet/);
    expect(model.estimate('train', params(), training)).toEqual(estimateSeconds('train', params(), training));
  });

  it("scales every estimate by this machine's cached probe and names it", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'calibration-'));
    const file = calibrationPath('wasm', cacheDir)!;
    expect(file).toContain(join(cacheDir, 'calibration'));
    const cached: Calibration = {
      machine: machineName(), backend: 'wasm', measuredTrainImgPerS: 100, referenceTrainImgPerS: 200, referenceDate: '2026-11-26T00:00:00Z', speedFactor: 0.5, probedAt: '2026-12-02T20:00:00Z',
    };
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(cached));
    const model = await calibratedEstimator(params(), { cacheDir, probe: false });
    const plain = estimateSeconds('train', params(), training)!;
    const scaled = model.estimate('train', params(), training)!;
    expect(scaled.seconds).toBeCloseTo(plain.seconds * 2, 9);
    expect(scaled.basis).toBe(`${plain.basis}, calibrated`);
    expect(model.calibration).toContain('small-cnn training at 100 img per CPU-s here vs 200 in throughput.json (2026-11-26), so estimates x2.00');
    expect(model.calibration).toContain(machineName());
    // Another backend has its own calibration (none cached for it here).
    expect(calibrationPath('cpu', cacheDir) ?? '').not.toBe(file);
  });
});
