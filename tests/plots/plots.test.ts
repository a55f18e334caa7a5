import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { heatmap, lineChart, groupedBar } from '../../domain/plots/charts.js';
import { assertFiniteData, pngSize, saveFigure } from '../../domain/plots/render.js';
import { renderImageGrid } from '../../domain/plots/image-grid.js';
import { viridis } from '../../domain/plots/colormap.js';

const lineRows = [0, 1, 2, 3].flatMap((x) => [
  { shift: x, asr: 100 / (1 + x * x), model: 'VGG' },
  { shift: x, asr: 90 / (1 + x), model: 'ResNet' },
]);

async function expectValidFigure(dir: string, base: string): Promise<void> {
  const svg = readFileSync(join(dir, `${base}.svg`), 'utf8');
  expect(svg).toContain('<svg');
  expect(svg).not.toContain('NaN');
  const png = readFileSync(join(dir, `${base}.png`));
  const size = pngSize(png);
  const meta = await sharp(png).metadata();
  expect(meta.format).toBe('png');
  expect(size.width).toBe(meta.width);
  const svgW = Number(/width="(\d+(\.\d+)?)"/.exec(svg)![1]);
  // PNG at scale 2 of the SVG's declared width.
  expect(Math.abs(size.width - 2 * svgW)).toBeLessThanOrEqual(2);
  const spec = JSON.parse(readFileSync(join(dir, `${base}.vl.json`), 'utf8'));
  expect(spec.config).toBeDefined();
}

describe('figure rendering', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plots-'));

  it('renders a line chart to SVG, PNG and spec JSON with axis titles', async () => {
    const spec = lineChart(lineRows, { title: 'ASR vs shift', x: { field: 'shift', title: 'Shift (pixels)' }, y: { field: 'asr', title: 'ASR (%)', domain: [0, 100] }, series: { field: 'model', title: 'Model' } });
    await saveFigure(dir, 'line', spec);
    await expectValidFigure(dir, 'line');
    expect(readFileSync(join(dir, 'line.svg'), 'utf8')).toContain('Shift (pixels)');
  });

  it('renders a heat map and a grouped bar chart', async () => {
    const cells = [-1, 0, 1].flatMap((dx) => [-1, 0, 1].map((dy) => ({ dx, dy, asr: dx === 0 && dy === 0 ? 100 : 10 })));
    await saveFigure(dir, 'heat', heatmap(cells, { title: 'h', x: { field: 'dx', title: 'dx (pixels)' }, y: { field: 'dy', title: 'dy (pixels)' }, value: { field: 'asr', title: 'ASR (%)', domain: [0, 100] }, annotate: true }));
    await expectValidFigure(dir, 'heat');
    const bars = [{ d: 'None', a: 'BadNets', asr: 100 }, { d: 'Flip', a: 'BadNets', asr: 2 }, { d: 'None', a: 'Blended', asr: 99 }, { d: 'Flip', a: 'Blended', asr: 3 }];
    await saveFigure(dir, 'bar', groupedBar(bars, { title: 'b', category: { field: 'd', title: 'Defense' }, group: { field: 'a', title: 'Attack' }, value: { field: 'asr', title: 'ASR (%)' } }));
    await expectValidFigure(dir, 'bar');
  });

  it('rejects NaN in data and rows that lack a field', () => {
    expect(() => assertFiniteData({ data: { values: [{ a: Number.NaN }] } })).toThrow(/non-finite value NaN at \$\.data\.values\[0\]\.a/);
    expect(() => lineChart([{ a: 1 }], { title: 't', x: { field: 'a', title: 'a' }, y: { field: 'b', title: 'b' } })).toThrow(/lacks field 'b'/);
  });

  it('draws an image grid with overlays and labels at the expected size', async () => {
    const h = 8, w = 8;
    const rgb = new Uint8Array(h * w * 3).map((_, i) => (i * 7) % 256);
    const heat = new Float32Array(h * w).map((_, i) => i);
    const grid = await renderImageGrid({ rows: [[{ rgb, height: h, width: w }, { rgb, heat, height: h, width: w }], [{ heat, height: h, width: w }, { rgb, height: h, width: w }]], rowLabels: ['benign', 'attacked'], columnLabels: ['image', 'saliency'], cellScale: 4, gap: 4 });
    const size = pngSize(grid.png);
    expect(size).toEqual({ width: grid.width, height: grid.height });
    expect(size.width).toBeGreaterThan(2 * w * 4);
    // The heat-only cell's brightest pixel is viridis(1) (yellow); find it in the raster.
    const { data, info } = await sharp(grid.png).raw().toBuffer({ resolveWithObject: true });
    const [r, g, b] = viridis(1);
    let found = false;
    for (let i = 0; i < data.length; i += info.channels) if (data[i] === r && data[i + 1] === g && data[i + 2] === b) found = true;
    expect(found).toBe(true);
    // The two plain-RGB cells appear exactly, each source pixel as a 4x4 block (nearest-neighbour
    // upscaling); the overlaid cell is blended with the heat map, so it does not match.
    const scale = 4;
    const matchesAt = (x0: number, y0: number): boolean => {
      for (let y = 0; y < h * scale; y++) for (let x = 0; x < w * scale; x++) {
        const src = 3 * (Math.floor(y / scale) * w + Math.floor(x / scale));
        const dst = info.channels * ((y0 + y) * info.width + x0 + x);
        if (data[dst] !== rgb[src] || data[dst + 1] !== rgb[src + 1] || data[dst + 2] !== rgb[src + 2]) return false;
      }
      return true;
    };
    const exact: Array<[number, number]> = [];
    for (let y0 = 0; y0 + h * scale <= info.height; y0++) for (let x0 = 0; x0 + w * scale <= info.width; x0++) if (matchesAt(x0, y0)) exact.push([x0, y0]);
    expect(exact).toHaveLength(2);
    // Cell [1][1] is one cell right and one row down of cell [0][0].
    expect(exact[1][0]).toBeGreaterThan(exact[0][0] + w * scale);
    expect(exact[1][1]).toBeGreaterThan(exact[0][1] + h * scale);
  });

  it('rejects mismatched cells and label counts', async () => {
    await expect(renderImageGrid({ rows: [[{ rgb: new Uint8Array(5), height: 2, width: 2 }]] })).rejects.toThrow(/rgb has 5 values, expected 12/);
    await expect(renderImageGrid({ rows: [[{ heat: new Float32Array(4), height: 2, width: 2 }]], rowLabels: ['a', 'b'] })).rejects.toThrow(/2 row labels for 1 rows/);
  });
});
