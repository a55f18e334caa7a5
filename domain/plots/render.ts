/**
 * Vega-Lite spec -> SVG (vega's headless renderer) -> PNG (sharp/librsvg), with
 * the spec saved beside the figure so that users can restyle it. No browser and
 * no canvas package: vega lays text out with its estimated metrics, librsvg
 * draws it with the system fonts through fontconfig.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import sharp from 'sharp';
import { publicationConfig } from './theme.js';

export type VegaLiteSpec = Record<string, unknown>;

export interface RenderOptions {
  /** Pixel density of the PNG relative to the SVG's CSS pixels (2 = retina-like). */
  pngScale: number;
}

export const DEFAULT_RENDER: RenderOptions = { pngScale: 2 };

export interface RenderedFigure {
  svg: string;
  png: Buffer;
  /** The spec as rendered, theme included. */
  spec: VegaLiteSpec;
  pngWidth: number;
  pngHeight: number;
}

/** Refuses specs whose inline data holds NaN or infinities: they silently vanish from plots. */
export function assertFiniteData(spec: VegaLiteSpec): void {
  const visit = (node: unknown, path: string): void => {
    if (typeof node === 'number' && !Number.isFinite(node)) throw new Error(`figure spec: non-finite value ${node} at ${path}`);
    if (Array.isArray(node)) node.forEach((v, i) => visit(v, `${path}[${i}]`));
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) visit(v, `${path}.${k}`);
  };
  visit(spec, '$');
}

export function withTheme(spec: VegaLiteSpec): VegaLiteSpec {
  const config = { ...publicationConfig(), ...((spec.config as Record<string, unknown>) ?? {}) };
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec, config };
}

export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const themed = withTheme(spec);
  assertFiniteData(themed);
  const compiled = vegaLite.compile(themed as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function svgToPng(svg: string, scale: number): Promise<{ png: Buffer; width: number; height: number }> {
  if (!(scale > 0 && scale <= 8)) throw new RangeError(`svgToPng: scale ${scale} not in (0, 8]`);
  // librsvg renders at 72 dpi by default; density scales the raster without blurring text.
  const png = await sharp(Buffer.from(svg), { density: 72 * scale }).flatten({ background: '#ffffff' }).png().toBuffer();
  const meta = await sharp(png).metadata();
  return { png, width: meta.width ?? 0, height: meta.height ?? 0 };
}

export async function renderFigure(spec: VegaLiteSpec, options: RenderOptions = DEFAULT_RENDER): Promise<RenderedFigure> {
  const themed = withTheme(spec);
  const svg = await renderSvg(themed);
  const { png, width, height } = await svgToPng(svg, options.pngScale);
  return { svg, png, spec: themed, pngWidth: width, pngHeight: height };
}

/** Writes `<base>.svg`, `<base>.png` and `<base>.vl.json` into `dir`; returns the rendered figure. */
export async function saveFigure(dir: string, base: string, spec: VegaLiteSpec, options: RenderOptions = DEFAULT_RENDER): Promise<RenderedFigure> {
  const fig = await renderFigure(spec, options);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(join(dir, `${base}.svg`), fig.svg);
  await fs.writeFile(join(dir, `${base}.png`), fig.png);
  await fs.writeFile(join(dir, `${base}.vl.json`), JSON.stringify(fig.spec, null, 2) + '\n');
  return fig;
}

/** The width and height a PNG declares in its IHDR chunk (after checking the signature). */
export function pngSize(buf: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (buf.length < 24 || !buf.subarray(0, 8).equals(signature)) throw new Error('not a PNG (bad signature)');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}
