/**
 * Experiments on the toy DAG (gen -> square -> score, gen -> sum), with a `score` stage that
 * writes metrics.json: sweeps expand to the cartesian product and share instances, a recorded
 * experiment survives gc, `exp diff` matches values computed by hand, and each bad input stops
 * before anything runs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../engine/cli.js';
import type { Command } from '../../engine/commands/command.js';
import { expCommand } from '../../engine/commands/exp.js';
import type { PipelineDefinition } from '../../engine/project.js';
import { flattenMetrics, metricMatcher } from '../../engine/experiments/metrics.js';
import { plotPoints } from '../../engine/experiments/plot-spec.js';
import type { ExperimentRecord } from '../../engine/experiments/record.js';
import { parseSweep, sweepVariants } from '../../engine/experiments/sweep.js';
import { sharedExecutor } from '../../engine/experiments/shared-executor.js';
import type { Executor, Job, JobOutcome } from '../../engine/executor.js';
import { toyProject } from './helpers.js';

function expProject(commands: Command[] = []) {
  const toy = toyProject();
  const def: PipelineDefinition = { ...toy.def, stageModules: [...toy.def.stageModules, 'stages/score.ts'], commands };
  const cli = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await runCli(def, argv, { stdout: { write: (t) => void (out += t), isTTY: false }, stderr: { write: (t) => void (err += t), isTTY: false } });
    return { code, out, err };
  };
  const record = (name: string): ExperimentRecord => JSON.parse(readFileSync(join(toy.root, 'experiments', `${name}.json`), 'utf8')) as ExperimentRecord;
  const artifacts = (kind: string): string[] => (existsSync(join(toy.root, 'artifacts', kind)) ? readdirSync(join(toy.root, 'artifacts', kind)) : []);
  return { root: toy.root, cli, record, artifacts };
}

describe('sweep expansion', () => {
  it('names one variant per point of the cartesian product, first axis slowest', () => {
    const axes = [parseSweep('gen.a.value=1,3'), parseSweep('sum.factor=2,5')];
    expect(sweepVariants('g', axes).map((v) => v.name)).toEqual(['g-value-1_factor-2', 'g-value-1_factor-5', 'g-value-3_factor-2', 'g-value-3_factor-5']);
    expect(sweepVariants('ratio', [parseSweep('attacks.definitions.badnets.ratio=0.05,0.1')]).map((v) => v.name)).toEqual(['ratio-0.05', 'ratio-0.1']);
    expect(parseSweep('a.b=[1,2],[3],x').values).toEqual([[1, 2], [3], 'x']);
  });
});

describe('the executor shared by a sweep\'s variants', () => {
  it('keeps the real slot limit over all variants, starts the longest chain first, and runs a shared key once', async () => {
    const order: string[] = [];
    let running = 0;
    let peak = 0;
    const gates = new Map<string, () => void>();
    // A controllable executor: each job holds its slot until the test opens its gate.
    const real: Executor = {
      slots: 2,
      run: (job) => {
        order.push(job.id);
        peak = Math.max(peak, ++running);
        return new Promise<JobOutcome>((res) => {
          gates.set(job.id, () => {
            running -= 1;
            res({ status: 'done', meta: { outputsDigest: job.key } } as unknown as JobOutcome);
          });
        });
      },
      close: async () => {},
    };
    const shared = sharedExecutor(() => real, 2);
    const depth: Record<string, number> = { a1: 1, a2: 1, deep: 5, b1: 2 };
    const hooks = { priority: (id: string) => depth[id] ?? 0, started: () => {} };
    const job = (id: string, key = id): Job => ({ id, kind: 'k', key }) as Job;
    const A = shared.view('A', hooks);
    const B = shared.view('B', hooks);
    const done = [A.run(job('a1')), A.run(job('a2')), B.run(job('b1')), B.run(job('deep')), B.run(job('a1-twin', 'a1'))];
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['a1', 'a2']);
    gates.get('a1')!();
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['a1', 'a2', 'deep']);
    gates.get('a2')!();
    await new Promise((r) => setTimeout(r, 10));
    gates.get('deep')!();
    await new Promise((r) => setTimeout(r, 10));
    gates.get('b1')!();
    const outcomes = await Promise.all(done);
    expect(order).toEqual(['a1', 'a2', 'deep', 'b1']);
    expect(peak).toBe(2);
    expect(shared.ran).toBe(4);
    expect(outcomes[4]).toBe(outcomes[0]);
    expect(shared.sharedFrom('B', 'k', 'a1')).toBe('A');
    expect(shared.sharedFrom('A', 'k', 'a1')).toBeUndefined();
  });
});

describe('metrics as data', () => {
  it('flattens nested objects with /, keeps numbers, strings and booleans, skips arrays and nulls', () => {
    expect(flattenMetrics({ asr: 0.5, claims: { '3': 'holds' }, ok: true, list: [1], none: null, seeds: { asr: { mean: 0.4, n: 2 } } })).toEqual({
      asr: 0.5,
      'claims/3': 'holds',
      ok: true,
      'seeds/asr/mean': 0.4,
      'seeds/asr/n': 2,
    });
  });
  it('matches metric names by glob, * crossing /', () => {
    const m = metricMatcher(['*badnets*: asr', 'report: {claims,x}/*']);
    expect(m('evaluate/vgg/badnets/standard/seed0/flip: asr')).toBe(true);
    expect(m('evaluate/vgg/badnets/standard/seed0/flip: asr2')).toBe(false);
    expect(m('report: claims/3')).toBe(true);
    expect(m('report: y/3')).toBe(false);
  });
  it('groups series that differ only in seedN into mean, min and max', () => {
    const rec = (name: string, ratio: number, metrics: Record<string, number>): ExperimentRecord =>
      ({ name, assignment: [{ path: 'a.ratio', value: ratio }], paramsChanged: [], metrics }) as unknown as ExperimentRecord;
    const points = plotPoints(
      [
        rec('r-0.1', 0.1, { 'ev/m/seed0/flip: asr': 0.2, 'ev/m/seed1/flip: asr': 0.4, 'ev/m/seed2/flip: asr': 0.9 }),
        rec('r-0.2', 0.2, { 'ev/m/seed0/flip: asr': 0.5, 'ev/m/seed0/none: asr': 1 }),
      ],
      'a.ratio',
      ['*: asr'],
    );
    expect(points).toEqual([
      { x: 0.1, series: 'ev/m/seed*/flip: asr', mean: 0.5, min: 0.2, max: 0.9, n: 3 },
      { x: 0.2, series: 'ev/m/seed*/flip: asr', mean: 0.5, min: 0.5, max: 0.5, n: 1 },
      { x: 0.2, series: 'ev/m/seed*/none: asr', mean: 1, min: 1, max: 1, n: 1 },
    ]);
  });
});

describe('exp run', () => {
  it('runs a two-axis sweep as one run: shared instances once, one record per variant', async () => {
    const p = expProject();
    const dry = await p.cli('exp', 'run', 'g', '--sweep', 'gen.a.value=1,3', '--sweep', 'sum.factor=2,5', '--dry-run', '--json');
    expect(dry.code, dry.err).toBe(0);
    const plan = JSON.parse(dry.out) as { variants: { variant: string; instances: number; new: number; sharedWithEarlier: number }[]; wouldRunInAll: number };
    // Each variant: gen, square, score for a and b, and sum (7). gen/b, square/b, score/b are common to all;
    // the a-chain differs with gen.a.value, sum with both axes.
    expect(plan.variants.map((v) => [v.variant, v.instances, v.new, v.sharedWithEarlier])).toEqual([
      ['g-value-1_factor-2', 7, 7, 0],
      ['g-value-1_factor-5', 7, 1, 6],
      ['g-value-3_factor-2', 7, 4, 3],
      ['g-value-3_factor-5', 7, 1, 6],
    ]);
    expect(plan.wouldRunInAll).toBe(13);
    expect(p.artifacts('gen')).toEqual([]);

    const run = await p.cli('exp', 'run', 'g', '--sweep', 'gen.a.value=1,3', '--sweep', 'sum.factor=2,5', '--json', '-j', '2');
    expect(run.code, run.err).toBe(0);
    expect((JSON.parse(run.out) as { ranInAll: number }).ranInAll).toBe(13);
    expect(p.artifacts('gen').length).toBe(3);
    expect(p.artifacts('sum').length).toBe(4);
    const recs = ['g-value-1_factor-2', 'g-value-1_factor-5', 'g-value-3_factor-2', 'g-value-3_factor-5'].map(p.record);
    expect(new Set(recs.map((r) => r.instances['gen/b'].key)).size).toBe(1);
    expect(new Set(recs.map((r) => r.instances.sum.key)).size).toBe(4);
    expect(recs[2].assignment).toEqual([{ path: 'gen.a.value', value: 3 }, { path: 'sum.factor', value: 2 }]);
    expect(recs[2].paramsChanged).toEqual([
      { path: 'gen.a.value', before: 1, after: 3 },
      { path: 'sum.factor', before: 10, after: 2 },
    ]);
    expect(recs[2].metrics).toMatchObject({ 'score/a: value': 9, 'score/a: half/v': 4.5, 'score/a: label': 'big', 'score/a: odd': true, 'score/b: value': 4 });
    expect(Object.keys(recs[2].metrics).some((m) => m.includes('list'))).toBe(false);
    expect(recs[2].sweep).toBe('g');

    // Everything is cached now: a rerun under --force runs nothing new and records again.
    const again = await p.cli('exp', 'run', 'g', '--sweep', 'gen.a.value=1,3', '--sweep', 'sum.factor=2,5', '--json', '--force');
    expect(again.code, again.err).toBe(0);
    expect((JSON.parse(again.out) as { ranInAll: number }).ranInAll).toBe(0);

    const show = await p.cli('exp', 'show', '--sweep', 'g', '--metrics', 'score/a: value', '--format', 'csv');
    expect(show.code, show.err).toBe(0);
    expect(show.out).toBe(
      ['experiment,profile,gen.a.value,sum.factor,score/a: value', 'g-value-1_factor-2,,1,2,1', 'g-value-1_factor-5,,1,5,1', 'g-value-3_factor-2,,3,2,9', 'g-value-3_factor-5,,3,5,9', ''].join('\n'),
    );
  }, 120_000);

  it('diffs two experiments: metrics against values computed by hand, instances with why', async () => {
    const p = expProject();
    expect((await p.cli('exp', 'run', 'one', '--set', 'gen.a.value=2')).code).toBe(0);
    expect((await p.cli('exp', 'run', 'two', '--set', 'gen.a.value=3', '--set', 'sum.factor=4')).code).toBe(0);
    const r = await p.cli('exp', 'diff', 'one', 'two', '--format', 'json');
    expect(r.code, r.err).toBe(0);
    const d = JSON.parse(r.out) as Record<string, unknown>;
    // one: a=2 -> square 4 -> score value 4, half 2, small, not odd. two: a=3 -> 9, 4.5, big, odd.
    expect(d.metrics).toEqual([
      { metric: 'score/a: half/v', a: 2, b: 4.5, delta: 2.5 },
      { metric: 'score/a: label', a: 'small', b: 'big' },
      { metric: 'score/a: odd', a: false, b: true },
      { metric: 'score/a: value', a: 4, b: 9, delta: 5 },
    ]);
    const why = (d.instances as { id: string; reasons: { type: string; path?: string; name?: string; change?: string }[] }[]).map((i) => [i.id, i.reasons]);
    expect(why).toEqual([
      ['gen/a', [{ type: 'param', path: 'value', before: 2, after: 3 }]],
      ['score/a', [{ type: 'upstream', name: 'x', id: 'square/a', change: 'changed' }]],
      ['square/a', [{ type: 'upstream', name: 'x', id: 'gen/a', change: 'changed' }]],
      ['sum', [{ type: 'param', path: 'factor', before: 10, after: 4 }, { type: 'upstream', name: 'a', id: 'gen/a', change: 'changed' }]],
    ]);
    const text = await p.cli('exp', 'diff', 'one', 'two', '--metrics', 'score/*: value');
    expect(text.out).toContain('1 metrics differ');
    expect(text.out).toMatch(/score\/a: value\s+4\s+9\s+5/);
    expect(text.out).toMatch(/gen\/a\s+param value: 2 -> 3/);

    // The baseline is the plain repro of the profile, resolved from the cache.
    expect((await p.cli('repro')).code).toBe(0);
    const b = JSON.parse((await p.cli('exp', 'diff', 'baseline', 'two', '--format', 'json', '--metrics', 'score/a: value')).out) as { metrics: unknown };
    expect(b.metrics).toEqual([{ metric: 'score/a: value', a: 1, b: 9, delta: 8 }]);
  }, 120_000);

  it('keeps what a recorded experiment references through gc, unless --experiments none', async () => {
    const p = expProject();
    expect((await p.cli('exp', 'run', 'seven', '--set', 'gen.a.value=7', 'score/a')).code).toBe(0);
    const key = p.record('seven').instances['gen/a'].key;
    const gc = await p.cli('gc');
    expect(gc.code, gc.err).toBe(0);
    expect(p.artifacts('gen')).toContain(key);
    expect(p.artifacts('score').length).toBe(1);
    const dropped = await p.cli('gc', '--experiments', 'none');
    expect(dropped.code, dropped.err).toBe(0);
    expect(p.artifacts('gen')).not.toContain(key);
    expect(p.artifacts('score')).toEqual([]);
    // exp diff still reads the record's metrics; why an instance changed needs the artifacts.
    expect((await p.cli('exp', 'run', 'eight', '--set', 'gen.a.value=8', 'score/a')).code).toBe(0);
    const d = await p.cli('exp', 'diff', 'seven', 'eight');
    expect(d.out).toMatch(/score\/a: value\s+49\s+64\s+15/);
    expect(d.out).toContain('no longer in the cache');
    const removed = await p.cli('exp', 'remove', 'seven');
    expect(removed.code).toBe(0);
    expect(existsSync(join(p.root, 'experiments', 'seven.json'))).toBe(false);
  }, 120_000);

  it('stops each bad input before anything runs, with a clear message', async () => {
    const p = expProject();
    const cases: [string[], RegExp][] = [
      [['exp', 'show', 'nope'], /unknown experiment "nope"; none is recorded/],
      [['exp', 'run', 'x', '--sweep', 'gen.c.value=1,2'], /--sweep gen\.c\.value: no such param in the effective params \(closest: gen\.a\.value\)/],
      [['exp', 'run', 'x', '--sweep', 'gen.a.value=1,-5'], /invalid params \(.*--sweep gen\.a\.value=-5 \(variant x--5\)\):\n.*gen\.a\.value.*>= 0/],
      [['exp', 'run', 'x', '--sweep', 'mode=fast,slow'], /--sweep mode: no such param/],
      [['exp', 'run', 'x', '--sweep', 'gen.a.value=1,1'], /the value 1 is given twice/],
      [['exp', 'run', 'x', '--sweep', 'gen.a.value'], /expected dotted\.key=v1,v2/],
      [['exp', 'run', 'baseline'], /"baseline" is the plain repro/],
      [['exp', 'run', '../x'], /experiment name "\.\.\/x"/],
      [['exp', 'run', 'x', 'nosuch/target'], /unknown target "nosuch\/target"/],
      [['exp', 'frobnicate'], /unknown subcommand "frobnicate"/],
      [['exp', 'show', '--x', 'a'], /exp show does not take --x/],
      [['exp', 'show', '--format', 'xml'], /--format "xml": expected one of table, md, csv, json/],
      [['gc', '--experiments', 'some'], /--experiments "some": expected all .* or none/],
    ];
    for (const [argv, message] of cases) {
      const r = await p.cli(...argv);
      expect(r.code, `${argv.join(' ')}: ${r.err}`).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(message);
    }
    expect(p.artifacts('gen')).toEqual([]);

    expect((await p.cli('exp', 'run', 'x', 'gen/a')).code).toBe(0);
    const taken = await p.cli('exp', 'run', 'x', '--sweep', 'gen.a.value=1,2', 'gen/a');
    expect(taken.code).toBe(0); // the variants are x-1 and x-2: x itself is not overwritten
    const again = await p.cli('exp', 'run', 'x', '--set', 'gen.a.value=5', 'gen/a');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/experiment x already recorded in .*; pass --force/);
    expect(p.artifacts('gen').length).toBe(2);
    expect((await p.cli('exp', 'run', 'x', '--set', 'gen.a.value=5', 'gen/a', '--force')).code).toBe(0);
    const d = await p.cli('exp', 'diff', 'x', 'nope');
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/unknown experiment "nope"; recorded: x, x-1, x-2 \(closest: x\)/);
  }, 120_000);

  it('plots a metric against the swept param through the pipeline\'s renderer, one line per series', async () => {
    const specs: Record<string, unknown>[] = [];
    // The engine builds the Vega-Lite spec; rendering is the pipeline's (here: keep the spec, write a stand-in SVG).
    const p = expProject([expCommand({ renderPlot: async (spec) => (specs.push(spec), { svg: '<svg xmlns="http://www.w3.org/2000/svg"/>' }) })]);
    expect((await p.cli('exp', 'run', 'a', '--sweep', 'gen.a.value=1,2,3', 'score/a')).code).toBe(0);
    const bad = await p.cli('exp', 'plot', 'a', '--x', 'gen.b.value', '--y', 'score/*: value');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--x gen\.b\.value: none of a-1, a-2, a-3 sets it; their swept params: gen\.a\.value/);
    const none = await p.cli('exp', 'plot', 'a', '--x', 'gen.a.value', '--y', 'nothing: here');
    expect(none.err).toMatch(/--y nothing: here: matches no numeric metric/);
    const r = await p.cli('exp', 'plot', 'a', '--x', 'gen.a.value', '--y', 'score/a: {value,half/v}', '--out', 'fig/a.svg');
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(p.root, 'fig', 'a.svg'))).toBe(true);
    const spec = JSON.parse(readFileSync(join(p.root, 'fig', 'a.vl.json'), 'utf8')) as { title: unknown; data: { values: { x: number; series: string; mean: number }[] } };
    // The legend drops the instance prefix the series share; the subtitle names it.
    expect(spec.title).toEqual({ text: 'sweep a', subtitle: 'score/' });
    expect(specs).toHaveLength(1);
    expect(spec.data.values.map((v) => [v.series, v.x, v.mean])).toEqual([
      ['a: value', 1, 1],
      ['a: half/v', 1, 0.5],
      ['a: value', 2, 4],
      ['a: half/v', 2, 2],
      ['a: value', 3, 9],
      ['a: half/v', 3, 4.5],
    ]);
  }, 120_000);
});
