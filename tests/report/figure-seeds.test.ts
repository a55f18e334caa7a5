/**
 * Replicate seeds in the figures: the builders' comparison lines give the mean over seeds with its
 * min-max range, the charts draw the mean with a min-max bar (checked on the data Vega itself
 * computes from the spec), and the figure stage reads every seed's artifacts, writes one data row
 * per seed and publishes each seed's facts under `seed{N}/`. Expected numbers are worked by hand.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { ArtifactMeta, JsonObject, UpstreamArtifact } from '../../engine/stage.js';
import { effectiveParams, parseParamsFile, readJsonFile } from '../../engine/params.js';
import { generateSynthetic } from '../../domain/data/synthetic.js';
import { saveDataset } from '../../domain/data/format.js';
import { withTheme, type VegaLiteSpec } from '../../domain/plots/render.js';
import { figure12, figure2, figure8Chart, type AblationPoint, type SensitivityData } from '../../domain/report/figures.js';
import figureStage, { instancesGiven as figureInstances } from '../../stages/figure.js';

/** Every row of every dataset Vega computes for the spec (aggregates included, e.g. mean_asr). */
async function computedRows(spec: VegaLiteSpec): Promise<Record<string, unknown>[]> {
  const compiled = vegaLite.compile(withTheme(spec) as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  await view.runAsync();
  const rows = (compiled.data ?? []).flatMap((d) => view.data(d.name) as Record<string, unknown>[]);
  view.finalize();
  return rows;
}

/**
 * The value ranges the drawn error bars span: every rule mark of the chart with a y2 end, mapped
 * back through the (shared) y scale, as [low, high] rounded to 0.01.
 */
async function drawnBars(spec: VegaLiteSpec): Promise<number[][]> {
  const compiled = vegaLite.compile(withTheme(spec) as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  await view.runAsync();
  const y = view.scale('y') as unknown as { invert: (px: number) => number };
  const out: number[][] = [];
  const visit = (node: { marktype?: string; role?: string; items?: unknown[]; y?: number; y2?: number }, inRule: boolean): void => {
    const rule = node.marktype === 'rule' && node.role === 'mark';
    if (inRule && node.y !== undefined && node.y2 !== undefined && node.y !== node.y2) {
      out.push([y.invert(node.y), y.invert(node.y2)].sort((a, b) => a - b).map((v) => Math.round(v * 100) / 100));
    }
    for (const child of node.items ?? []) visit(child as typeof node, inRule || rule);
  };
  visit((view.scenegraph() as unknown as { root: Parameters<typeof visit>[0] }).root, false);
  view.finalize();
  return out;
}

/** Enhanced BadNets under ShrinkPad-s, two seeds, ASR in percent; s_max 4. */
const ASR: Record<number, Record<number, number>> = { 0: { 0: 90, 2: 80, 4: 70, 6: 10 }, 1: { 0: 100, 2: 90, 4: 80, 6: 30 } };
const points: AblationPoint[] = [0, 1].flatMap((seed) => [0, 2, 4, 6].map((x) => ({ model: 'vgg', seed, attack: 'badnets', variant: 'enhanced' as const, x, defense: x ? `ShrinkPad-${x}` : 'no defense', asr: ASR[seed][x] })));

describe('figures over replicate seeds', () => {
  it('figure 12: the line gives the mean over seeds of the per-seed means, with their range', () => {
    const built = figure12(points, 4);
    // s <= 4: seed 0 (90+80+70)/3 = 80, seed 1 (100+90+80)/3 = 90 -> 85 [80, 90]; s > 4: 10 and 30 -> 20 [10, 30].
    expect(built.lines[0]).toContain('mean ASR 85.0% (80.0–90.0%, n=2) for s ≤ 4 and 20.0% (10.0–30.0%, n=2) for s > 4');
    expect(built.rows).toHaveLength(8);
    expect(built.rows.filter((r) => r.seed === 1)).toHaveLength(4);
    expect(built.caption).toMatch(/mean over 2 seeds/);
  });

  it('figure 12: the chart plots the mean with a min-max bar, as Vega computes them', async () => {
    const rows = await computedRows(figure12(points, 4).spec);
    const at = (shrink: number) => rows.filter((r) => r.shrink === shrink && r.attack === 'badnets+');
    expect(at(6).find((r) => 'mean_asr' in r)?.mean_asr).toBe(20);
    const bar = at(6).find((r) => 'min_asr' in r);
    expect([bar?.min_asr, bar?.max_asr]).toEqual([10, 30]);
    expect(at(2).find((r) => 'mean_asr' in r)?.mean_asr).toBe(85);
    // The drawn error bars: one per (attack, size), spanning seed 0's to seed 1's ASR.
    expect(await drawnBars(figure12(points, 4).spec)).toEqual(expect.arrayContaining([[90, 100], [80, 90], [70, 80], [10, 30]]));
  });

  it('figure 2: the heat map shows the mean cell, the line the mean and range of the unmoved ASR', async () => {
    const grid = (centre: number, side: number) => [-1, 0, 1].flatMap((dx) => [-1, 0, 1].map((dy) => ({ dx, dy, asr: dx === 0 && dy === 0 ? centre : side + dx })));
    const data: SensitivityData[] = [
      { model: 'vgg', seed: 0, plainAsr: 96, originalValue: 255, grid: grid(96, 20), values: [] },
      { model: 'vgg', seed: 1, plainAsr: 100, originalValue: 255, grid: grid(100, 40), values: [] },
    ];
    const built = figure2(data);
    // Ring 1's maximum is the side value at dx = 1: 21 and 41 -> 31 [21, 41].
    expect(built.lines).toEqual(['vgg: ASR 98.0% (96.0–100.0%, n=2) at the training location; at most 31.0% (21.0–41.0%, n=2) at 1 pixel, not in the grid at 2 pixels away']);
    const rows = await computedRows(built.spec);
    expect(rows.find((r) => r.dx === 0 && r.dy === 0 && 'mean_asr' in r)?.mean_asr).toBe(98);
    expect(rows.find((r) => r.dx === -1 && r.dy === 1 && 'mean_asr' in r)?.mean_asr).toBe(29);
  });

  it('figure 8: bars are the mean over seeds with a min-max bar', async () => {
    const built = figure8Chart([
      { model: 'vgg', seed: 0, attack: 'badnets', standard: { digitalAsr: 100, capturedAsr: 10 }, enhanced: { digitalAsr: 100, capturedAsr: 60 } },
      { model: 'vgg', seed: 1, attack: 'badnets', standard: { digitalAsr: 98, capturedAsr: 20 }, enhanced: { digitalAsr: 96, capturedAsr: 90 } },
    ]);
    expect(built.lines[0]).toContain('badnets 15.0% (10.0–20.0%, n=2) and badnets+ 75.0% (60.0–90.0%, n=2)');
    const rows = await computedRows(built.spec);
    const captured = rows.filter((r) => r.attack === 'badnets+' && r.condition === 'simulated capture');
    expect(captured.find((r) => 'mean_asr' in r)?.mean_asr).toBe(75);
    const bar = captured.find((r) => 'min_asr' in r);
    expect([bar?.min_asr, bar?.max_asr]).toEqual([60, 90]);
    expect((await drawnBars(built.spec)).sort((a, b) => a[0] - b[0] || a[1] - b[1])).toEqual([[10, 20], [60, 90], [96, 100], [98, 100]]);
  });
});

describe('the figure stage over two seeds', () => {
  const root = mkdtempSync(join(tmpdir(), 'figure-seeds-'));
  const file = parseParamsFile(readJsonFile('params.json', 'params.json'), 'params.json');
  const params = effectiveParams(file, { profile: 'smoke', overrides: ['training.seeds=[0,1]'] }).params;
  const meta = (id: string): ArtifactMeta => ({ id, kind: id.split('/')[0], key: id, params: null, upstream: {}, outputs: {}, startedAt: '', endedAt: '', durationMs: 5, environment: { backend: 'cpu' }, extra: {} });
  let dataDir: string;

  beforeAll(async () => {
    dataDir = join(root, 'data');
    mkdirSync(dataDir);
    await saveDataset(dataDir, generateSynthetic({ seed: 0, trainPerClass: 1, testPerClass: 1, height: 8, width: 8, noiseStd: 8, minSizeFraction: 0.45, maxSizeFraction: 0.9, minContrast: 40 }));
  });

  it('figure 12 reads both seeds: one data row per seed, per-seed facts, the mean and range in its line', async () => {
    const evaluated = new Set<string>();
    for (const seed of [0, 1]) for (const variant of ['standard', 'enhanced']) for (const d of ['none', 'shrinkpad-2', 'shrinkpad-4', 'shrinkpad-6']) evaluated.add(`evaluate/small-cnn/badnets/${variant}/seed${seed}/${d}`);
    const inst = figureInstances(params, { trained: new Set(), evaluated }).find((i) => i.id === 'figure/fig12')!;
    expect(inst.params.seeds).toEqual([0, 1]);
    expect(Object.keys(inst.deps!).filter((n) => n.startsWith('ev:'))).toHaveLength(16);
    const inputs: Record<string, UpstreamArtifact> = { data: { id: 'data', kind: 'data', key: 'data', dir: dataDir, meta: meta('data') } };
    for (const [name, id] of Object.entries(inst.deps!)) {
      if (name === 'data') continue;
      const [, seed, , , variant, x] = name.split(':');
      const dir = join(root, id.replace(/\//g, '_'));
      mkdirSync(dir);
      // metrics.json holds fractions; the figure shows percent.
      const asr = variant === 'enhanced' ? ASR[Number(seed)][Number(x)] / 100 : 0.5;
      writeFileSync(join(dir, 'metrics.json'), JSON.stringify({ cleanAccuracy: 0.9, asr, targetRateClean: 0.1 }));
      inputs[name] = { id, kind: 'evaluate', key: id, dir, meta: meta(id) };
    }
    const outDir = join(root, 'fig12');
    mkdirSync(outDir);
    await figureStage.run({ id: inst.id, kind: 'figure', key: inst.id, params: inst.params, outDir, checkpointDir: join(outDir, '.ckpt'), inputs, progress: () => {}, log: () => {}, recordMeta: () => {}, signal: new AbortController().signal });
    const csv = readFileSync(join(outDir, 'data.csv'), 'utf8').trim().split('\n');
    expect(csv[0].split(',')).toContain('seed');
    expect(csv).toHaveLength(1 + 16);
    const facts = JSON.parse(readFileSync(join(outDir, 'facts.json'), 'utf8')) as Record<string, number>;
    expect(facts['seed0/ablation/small-cnn/badnets/enhanced/shrinkpad/6']).toBeCloseTo(10, 10);
    expect(facts['seed1/ablation/small-cnn/badnets/enhanced/shrinkpad/6']).toBeCloseTo(30, 10);
    expect(facts['seed1/ablation/sMax']).toBe(4);
    expect(Object.keys(facts).every((k) => /^seed[01]\//.test(k))).toBe(true);
    const entry = JSON.parse(readFileSync(join(outDir, 'entry.json'), 'utf8')) as { lines: string[]; provenance: { seed: string } };
    expect(entry.lines[0]).toContain('mean ASR 85.0% (80.0–90.0%, n=2) for s ≤ 4 and 20.0% (10.0–30.0%, n=2) for s > 4');
    expect(entry.provenance.seed).toBe('0, 1 (n=2)');
  });
});
