/** Data-dependent params bounds (stages/params-check.ts), checked before anything runs. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { checkParams } from '../../stages/params-check.js';
import { effectiveParams, parseParamsFile } from '../../engine/params.js';
import type { JsonObject } from '../../engine/stage.js';
import { REPO } from './helpers.js';

const base = (): JsonObject => JSON.parse(readFileSync(join(REPO, 'params.json'), 'utf8')) as JsonObject;
const withData = (p: JsonObject, data: JsonObject): JsonObject => ({ ...p, data: { ...(p.data as JsonObject), ...data } });
const withTarget = (p: JsonObject, target: number): JsonObject => ({ ...p, attacks: { ...(p.attacks as JsonObject), target } });

describe('params bounds that depend on the data set', () => {
  it('accepts the committed params and every profile', () => {
    expect(checkParams(base())).toEqual([]);
    const file = parseParamsFile(base(), 'params.json');
    for (const profile of Object.keys(file.profiles)) expect([profile, checkParams(effectiveParams(file, { profile, overrides: [] }).params)]).toEqual([profile, []]);
  });

  it('checks the target class against the data set class count', () => {
    expect(checkParams(withTarget(base(), 9))).toEqual([]);
    expect(checkParams(withTarget(base(), 10))).toEqual(['attacks.target: 10 is out of range; allowed: 0 to 9 (CIFAR-10 has 10 classes)']);
    const synthetic = withData(base(), { source: 'synthetic' });
    expect(checkParams(withTarget(synthetic, 12))).toEqual(['attacks.target: 12 is out of range; allowed: 0 to 9 (the synthetic data set has 10 classes)']);
    const three = withData(base(), { source: 'imagefolder', classes: ['a', 'b', 'c'] });
    expect(checkParams(withTarget(three, 3))).toEqual(['attacks.target: 3 is out of range; allowed: 0 to 2 (data.classes names 3 classes)']);
    // Image folders with classes from folder names: only the data can tell, so the data stage checks it.
    expect(checkParams(withTarget(withData(base(), { source: 'imagefolder', classes: null }), 40))).toEqual([]);
  });

  it('checks pixel positions and sizes against the image side', () => {
    const p = base();
    const attacks = p.attacks as { definitions: Record<string, JsonObject> };
    const name = Object.keys(attacks.definitions).find((n) => Array.isArray(attacks.definitions[n].layout) && 'bottomRight' in attacks.definitions[n])!;
    attacks.definitions[name] = { ...attacks.definitions[name], layout: [[1, 0, 1], [0, 1, 0], [1, 0, 1]], bottomRight: [32, 5] };
    const analyses = p.analyses as { cdrp: JsonObject; sensitivity: JsonObject };
    analyses.cdrp.shrinkSize = 16;
    analyses.sensitivity.dx = [-40, 0];
    const small = withData(p, { imageSize: 16 });
    expect(checkParams(small)).toEqual([
      `attacks.definitions.${name}.bottomRight: [32, 5] is outside the image; allowed: 0 to 15 (data.imageSize is 16)`,
      'analyses.cdrp.shrinkSize: 16 shrinks the image to nothing; allowed: 1 to 15 (data.imageSize is 16)',
      'analyses.sensitivity.dx: -40 moves the trigger off the image; allowed: -15 to 15 (data.imageSize is 16)',
    ]);
    attacks.definitions[name].bottomRight = [1, 10];
    expect(checkParams(p)).toContain(`attacks.definitions.${name}.bottomRight: [1, 10] leaves the 3x3 trigger partly outside the image; allowed: row >= 2, col >= 2`);
  });

  it('the pipeline refuses a bad --set before anything runs, naming the bound', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'params-bounds-'));
    const env = { TRIGGER_LAB_ARTIFACTS: join(scratch, 'artifacts'), TRIGGER_LAB_LOCKFILE: join(scratch, 'lock.json'), TRIGGER_LAB_REPORTS: join(scratch, 'reports') };
    const r = await execa(process.execPath, ['--import', 'tsx', 'pipeline.ts', 'params', '--set', 'attacks.target=12'], { cwd: REPO, env, reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('attacks.target: 12 is out of range; allowed: 0 to 9 (CIFAR-10 has 10 classes)');
  });
});
