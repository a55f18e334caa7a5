import { describe, expect, it } from 'vitest';
import { canonicalJson, deepMerge, diffJson } from '../../engine/json.js';
import { importSpecifiers, packageName } from '../../engine/sources.js';
import { buildDag, chainDepths, resolveTargets, withAncestors, withDescendants } from '../../engine/graph.js';
import { effectiveParams, parseOverride, parseParamsFile } from '../../engine/params.js';
import { validateParams } from '../../engine/validate.js';
import { explainChange, describeReason, fingerprintKey, type Fingerprint } from '../../engine/fingerprint.js';
import { UserError } from '../../engine/errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './helpers.js';

describe('canonical JSON and merging', () => {
  it('ignores key order but not array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it('deep-merges objects and replaces arrays', () => {
    const merged = deepMerge({ a: { x: 1, y: [1, 2, 3] }, b: 'keep' }, { a: { y: [9] , z: true } });
    expect(merged).toEqual({ a: { x: 1, y: [9], z: true }, b: 'keep' });
  });

  it('diffs nested values by dotted path', () => {
    expect(diffJson({ t: { lr: 0.1, e: 3 } }, { t: { lr: 0.01, e: 3, wd: 5 } })).toEqual([
      { path: 't.lr', before: 0.1, after: 0.01 },
      { path: 't.wd', before: undefined, after: 5 },
    ]);
  });
});

describe('import scanning', () => {
  it('finds static, re-export, side-effect and dynamic imports, and skips type-only ones', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { T } from './types.js';",
      "export type { U } from './u.js';",
      "import * as tf from '@tensorflow/tfjs';",
      "import {\n  b,\n  c,\n} from '../b.js';",
      "export * from './re.js';",
      "export { d as e } from './d.js';",
      "import './side.js';",
      "const m = await import('./lazy.js');",
      "// import { gone } from './commented.js';",
      "/* import x from './block.js' */",
      "import { readFileSync } from 'node:fs';",
    ].join('\n');
    expect(importSpecifiers(text).sort()).toEqual(
      ['./a.js', '@tensorflow/tfjs', '../b.js', './re.js', './d.js', './side.js', './lazy.js', 'node:fs'].sort(),
    );
    expect(packageName('@tensorflow/tfjs/dist/x')).toBe('@tensorflow/tfjs');
    expect(packageName('picomatch')).toBe('picomatch');
    expect(packageName('node:fs')).toBeUndefined();
    expect(packageName('path')).toBeUndefined();
  });
});

const inst = (id: string, deps: Record<string, string> = {}, aliases: string[] = []) => ({ id, params: {}, deps, aliases });

describe('DAG', () => {
  it('orders dependencies first and selects ids, aliases and globs', () => {
    const dag = buildDag([
      { kind: 'k', module: 'm.ts', instances: [inst('c', { x: 'b' }, ['figure:c']), inst('b', { x: 'a' }), inst('a'), inst('d', { x: 'a' })] },
    ]);
    expect(dag.order.indexOf('a')).toBeLessThan(dag.order.indexOf('b'));
    expect(dag.order.indexOf('b')).toBeLessThan(dag.order.indexOf('c'));
    expect(resolveTargets(dag, ['figure:c'])).toEqual(['c']);
    expect(resolveTargets(dag, ['figure:*']).sort()).toEqual(['c']);
    expect(resolveTargets(dag, ['{b,d}'])).toEqual(expect.arrayContaining(['b', 'd']));
    expect(withAncestors(dag, ['c'])).toEqual(['a', 'b', 'c']);
    expect(withDescendants(dag, ['b'])).toEqual(['b', 'c']);
    expect(() => resolveTargets(dag, ['figure:cc'])).toThrow(/unknown target "figure:cc".*closest ids: figure:c/);
    expect(() => resolveTargets(dag, ['zz*'])).toThrow(/matches no instance/);
  });

  it('gives each selected instance the length of its longest chain of selected dependents (the scheduler runs the deepest first)', () => {
    const dag = buildDag([
      { kind: 'k', module: 'm.ts', instances: [inst('c', { x: 'b' }), inst('b', { x: 'a' }), inst('a'), inst('d', { x: 'a' }), inst('e')] },
    ]);
    expect(Object.fromEntries(chainDepths(dag, dag.order))).toEqual({ a: 3, b: 2, c: 1, d: 1, e: 1 });
    // Only the selection counts: without c, b is a sink.
    expect(Object.fromEntries(chainDepths(dag, ['a', 'b', 'd']))).toEqual({ a: 2, b: 1, d: 1 });
  });

  it('names the culprits of a cycle, a dangling dependency, a duplicate id and a clashing alias', () => {
    expect(() => buildDag([{ kind: 'k', module: 'm.ts', instances: [inst('a', { x: 'b' }), inst('b', { y: 'a' })] }])).toThrow(/cycle: .*a.*b|cycle: .*b.*a/);
    expect(() => buildDag([{ kind: 'k', module: 'm.ts', instances: [inst('a', { x: 'train/resnt' }), inst('train/resnet')] }])).toThrow(
      /"a" depends on "train\/resnt".*closest existing id: "train\/resnet"/,
    );
    expect(() =>
      buildDag([
        { kind: 'k', module: 'm.ts', instances: [inst('a')] },
        { kind: 'j', module: 'n.ts', instances: [inst('a')] },
      ]),
    ).toThrow(/two instances have the id "a".*"k".*"j"/);
    expect(() => buildDag([{ kind: 'k', module: 'm.ts', instances: [inst('a', {}, ['x']), inst('b', {}, ['x'])] }])).toThrow(/alias "x".*"a".*"b"/);
    expect(() => buildDag([{ kind: 'bad/kind', module: 'm.ts', instances: [] }])).toThrow(/kind name "bad\/kind"/);
  });
});

const schema = JSON.parse(readFileSync(join(REPO, 'tests/engine/fixtures/schema.json'), 'utf8'));

async function validationMessage(params: object): Promise<string> {
  try {
    await validateParams(params as never, schema, 'test');
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('expected a validation error');
}

describe('params', () => {
  const file = parseParamsFile(
    { gen: { a: { value: 1 } }, sum: { factor: 2 }, defaultProfile: 'quick', profiles: { quick: { sum: { factor: 3 } }, paper: { gen: { b: { value: 5 } } } } },
    'params.json',
  );

  it('applies the default profile, an explicit one, and --set overrides in order', () => {
    expect(effectiveParams(file, { overrides: [] })).toEqual({ profile: 'quick', params: { gen: { a: { value: 1 } }, sum: { factor: 3 } } });
    expect(effectiveParams(file, { profile: 'paper', overrides: ['sum.factor=7', 'mode=fast'] }).params).toEqual({
      gen: { a: { value: 1 }, b: { value: 5 } },
      sum: { factor: 7 },
      mode: 'fast',
    });
    expect(parseOverride('a.b=[1,2]').value).toEqual([1, 2]);
    expect(parseOverride('a=hello world').value).toBe('hello world');
  });

  it('rejects an unknown profile listing the known ones, and a malformed --set', () => {
    expect(() => effectiveParams(file, { profile: 'papr', overrides: [] })).toThrow(/--profile: unknown profile "papr"; known profiles: quick, paper \(closest: paper\)/);
    expect(() => effectiveParams(file, { overrides: ['novalue'] })).toThrow(/expected dotted.key=value/);
    expect(() => effectiveParams(file, { overrides: ['sum.factor.x=1'] })).toThrow(/sum.factor is 3, not an object/);
  });

  it('names the path, the bad value and what is allowed', async () => {
    expect(await validationMessage({ gen: { a: { value: 'x' } }, sum: { factor: 1 } })).toMatch(/gen\.a\.value: "x" is a string; expected number/);
    expect(await validationMessage({ gen: {}, sum: { factor: 0 } })).toMatch(/sum\.factor: 0 is out of range; allowed: >= 1/);
    expect(await validationMessage({ gen: { a: { value: 2000 } }, sum: { factor: 1 } })).toMatch(/gen\.a\.value: 2000 is out of range; allowed: <= 1000/);
    expect(await validationMessage({ gen: {}, sum: { factor: 1 }, mode: 'fsat' })).toMatch(/mode: "fsat" is not allowed; allowed values: "fast", "careful" \(did you mean "fast"\?\)/);
    expect(await validationMessage({ gen: {}, sum: { factor: 1, fctor: 2 } })).toMatch(/sum\.fctor: unknown key "fctor"; known keys: factor, behaviour \(did you mean "factor"\?\)/);
    expect(await validationMessage({ gen: {} })).toMatch(/sum: required key is missing/);
    await expect(validateParams({ gen: {}, sum: { factor: 1 } }, schema, 'test')).resolves.toBeUndefined();
  });
});

describe('fingerprints', () => {
  const fp: Fingerprint = { kind: 'k', sources: { 'a.ts': '1', 'b.ts': '2' }, packages: { tfjs: '4.22.0' }, params: { lr: 0.1 }, upstream: { x: { id: 'u', outputsDigest: 'd1' } } };

  it('keys ignore key order and change with any part', () => {
    const reordered = { upstream: fp.upstream, params: fp.params, packages: fp.packages, sources: { 'b.ts': '2', 'a.ts': '1' }, kind: 'k' };
    expect(fingerprintKey(reordered)).toBe(fingerprintKey(fp));
    expect(fingerprintKey({ ...fp, params: { lr: 0.2 } })).not.toBe(fingerprintKey(fp));
    expect(fingerprintKey({ ...fp, packages: { tfjs: '4.23.0' } })).not.toBe(fingerprintKey(fp));
  });

  it('explains a change by param, source, package and upstream', () => {
    const now: Fingerprint = { ...fp, sources: { 'a.ts': '9', 'c.ts': '3' }, packages: { tfjs: '4.23.0' }, params: { lr: 0.01 }, upstream: { x: { id: 'u', outputsDigest: 'd2' } } };
    const text = explainChange(fp, now).map(describeReason);
    expect(text).toEqual([
      'param lr: 0.1 -> 0.01',
      'source a.ts modified',
      'source b.ts removed',
      'source c.ts added',
      'package tfjs 4.22.0 -> 4.23.0',
      'upstream x (u) changed',
    ]);
    expect(explainChange(undefined, fp).map(describeReason)).toEqual(['never run']);
    expect(explainChange(fp, fp)).toEqual([]);
  });
});

describe('fast keys', () => {
  it('keyerFor gives exactly fingerprintKey', async () => {
    const { keyerFor } = await import('../../engine/fingerprint.js');
    const fp: Fingerprint = { kind: 'evaluate', sources: { 'z.ts': 'a', 'a.ts': 'b' }, packages: { b: '1', a: '2' }, params: { y: [1, { b: 2, a: 1 }], x: 'é' }, upstream: { m: { id: 'train/x', outputsDigest: 'd' } } };
    expect(keyerFor(fp.kind, fp.sources, fp.packages)(fp.params, fp.upstream)).toBe(fingerprintKey(fp));
    expect(keyerFor(fp.kind, fp.sources, fp.packages)(null, {})).toBe(fingerprintKey({ ...fp, params: null, upstream: {} }));
  });
});
