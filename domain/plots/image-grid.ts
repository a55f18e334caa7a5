/**
 * PNG grids of small images (CIFAR-sized), optionally with a heat map drawn on
 * its own or over the image (saliency), with row and column labels. Pixels are
 * assembled in memory, upscaled by nearest neighbour so each image pixel stays
 * visible, and the labels are an SVG layer composited by sharp.
 */
import sharp from 'sharp';
import { normaliseByMax, viridis } from './colormap.js';
import { FONT } from './theme.js';

export interface GridImage {
  /** uint8 RGB, HWC, 0-255. */
  rgb?: Uint8Array;
  /** One non-negative value per pixel, HW; normalised by its own maximum. */
  heat?: Float32Array;
  height: number;
  width: number;
}

export interface ImageGridOptions {
  rows: GridImage[][];
  rowLabels?: string[];
  columnLabels?: string[];
  title?: string;
  /** Nearest-neighbour magnification of each image. */
  cellScale: number;
  /** Weight of the heat map where it is drawn over an image. */
  overlayAlpha: number;
  /** Gap between cells, in output pixels. */
  gap: number;
  fontSize: number;
}

export const DEFAULT_GRID: Omit<ImageGridOptions, 'rows'> = { cellScale: 4, overlayAlpha: 0.6, gap: 6, fontSize: 14 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function cellPixels(cell: GridImage, alpha: number): Uint8Array {
  const n = cell.height * cell.width;
  if (!cell.rgb && !cell.heat) throw new Error('image grid: a cell needs rgb, heat or both');
  if (cell.rgb && cell.rgb.length !== n * 3) throw new RangeError(`image grid: rgb has ${cell.rgb.length} values, expected ${n * 3} for ${cell.height}x${cell.width}x3`);
  if (cell.heat && cell.heat.length !== n) throw new RangeError(`image grid: heat has ${cell.heat.length} values, expected ${n} for ${cell.height}x${cell.width}`);
  const out = new Uint8Array(n * 3);
  const heat = cell.heat ? normaliseByMax(cell.heat) : undefined;
  for (let i = 0; i < n; i++) {
    const base: number[] = cell.rgb ? [cell.rgb[3 * i], cell.rgb[3 * i + 1], cell.rgb[3 * i + 2]] : [0, 0, 0];
    if (heat) {
      const c = viridis(heat[i]);
      const w = cell.rgb ? alpha : 1;
      for (let k = 0; k < 3; k++) out[3 * i + k] = Math.round((1 - w) * base[k] + w * c[k]);
    } else for (let k = 0; k < 3; k++) out[3 * i + k] = base[k];
  }
  return out;
}

export interface RenderedGrid {
  png: Buffer;
  width: number;
  height: number;
}

export async function renderImageGrid(options: Partial<ImageGridOptions> & { rows: GridImage[][] }): Promise<RenderedGrid> {
  const o: ImageGridOptions = { ...DEFAULT_GRID, ...options };
  const nRows = o.rows.length;
  if (nRows === 0) throw new Error('image grid: no rows');
  const nCols = Math.max(...o.rows.map((r) => r.length));
  if (nCols === 0) throw new Error('image grid: rows are empty');
  if (!Number.isInteger(o.cellScale) || o.cellScale < 1) throw new RangeError(`image grid: cellScale ${o.cellScale} must be a positive integer`);
  if (o.rowLabels && o.rowLabels.length !== nRows) throw new RangeError(`image grid: ${o.rowLabels.length} row labels for ${nRows} rows`);
  if (o.columnLabels && o.columnLabels.length !== nCols) throw new RangeError(`image grid: ${o.columnLabels.length} column labels for ${nCols} columns`);
  const h0 = o.rows[0][0].height;
  const w0 = o.rows[0][0].width;
  for (const row of o.rows) for (const c of row) if (c.height !== h0 || c.width !== w0) throw new RangeError(`image grid: cell ${c.height}x${c.width} differs from ${h0}x${w0}`);

  const cellH = h0 * o.cellScale;
  const imageW = w0 * o.cellScale;
  const charW = o.fontSize * 0.6;
  // Columns widen to fit their labels; images sit centred in them.
  const labelW = o.columnLabels ? Math.ceil(Math.max(...o.columnLabels.map((l) => l.length)) * charW) + 4 : 0;
  const cellW = Math.max(imageW, labelW);
  const pad = Math.floor((cellW - imageW) / 2);
  const left = o.rowLabels ? Math.ceil(Math.max(...o.rowLabels.map((l) => l.length)) * charW) + 2 * o.gap : o.gap;
  const titleH = o.title ? Math.ceil(o.fontSize * 1.8) : 0;
  const top = titleH + (o.columnLabels ? Math.ceil(o.fontSize * 1.8) : o.gap);
  const titleW = o.title ? Math.ceil(o.title.length * charW * 1.1) + 2 * o.gap : 0;
  const width = Math.max(titleW, left + nCols * cellW + (nCols - 1) * o.gap + o.gap);
  const height = top + nRows * cellH + (nRows - 1) * o.gap + o.gap;

  const canvas = new Uint8Array(width * height * 3).fill(255);
  o.rows.forEach((row, r) =>
    row.forEach((cell, c) => {
      const px = cellPixels(cell, o.overlayAlpha);
      const x0 = left + c * (cellW + o.gap) + pad;
      const y0 = top + r * (cellH + o.gap);
      for (let y = 0; y < cellH; y++) {
        const sy = Math.floor(y / o.cellScale);
        for (let x = 0; x < imageW; x++) {
          const sx = Math.floor(x / o.cellScale);
          const src = 3 * (sy * w0 + sx);
          const dst = 3 * ((y0 + y) * width + x0 + x);
          canvas[dst] = px[src];
          canvas[dst + 1] = px[src + 1];
          canvas[dst + 2] = px[src + 2];
        }
      }
    }),
  );

  const texts: string[] = [];
  const style = `font-family="${FONT}" font-size="${o.fontSize}" fill="#222"`;
  if (o.title) texts.push(`<text x="${o.gap}" y="${o.fontSize * 1.2}" ${style} font-weight="bold">${escapeXml(o.title)}</text>`);
  o.columnLabels?.forEach((l, c) => {
    const cx = left + c * (cellW + o.gap) + cellW / 2;
    texts.push(`<text x="${cx}" y="${titleH + o.fontSize * 1.2}" text-anchor="middle" ${style}>${escapeXml(l)}</text>`);
  });
  o.rowLabels?.forEach((l, r) => {
    const cy = top + r * (cellH + o.gap) + cellH / 2 + o.fontSize * 0.35;
    texts.push(`<text x="${left - o.gap}" y="${cy}" text-anchor="end" ${style}>${escapeXml(l)}</text>`);
  });
  let img = sharp(Buffer.from(canvas), { raw: { width, height, channels: 3 } });
  if (texts.length > 0) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${texts.join('')}</svg>`;
    img = sharp(await img.png().toBuffer()).composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
  }
  const png = await img.png().toBuffer();
  return { png, width, height };
}

/** Stacks PNGs vertically on white, left-aligned, with `gap` pixels between them. */
export async function stackPngs(pngs: Buffer[], gap: number): Promise<RenderedGrid> {
  if (pngs.length === 0) throw new Error('stackPngs: nothing to stack');
  if (pngs.length === 1) {
    const m = await sharp(pngs[0]).metadata();
    return { png: pngs[0], width: m.width ?? 0, height: m.height ?? 0 };
  }
  const metas = await Promise.all(pngs.map((p) => sharp(p).metadata()));
  const width = Math.max(...metas.map((m) => m.width ?? 0));
  const height = metas.reduce((s, m) => s + (m.height ?? 0), 0) + gap * (pngs.length - 1);
  let top = 0;
  const layers = pngs.map((input, i) => {
    const layer = { input, top, left: 0 };
    top += (metas[i].height ?? 0) + gap;
    return layer;
  });
  const png = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } }).composite(layers).png().toBuffer();
  return { png, width, height };
}

/** An SVG that shows a raster figure (image grids), so every figure has an .svg beside its .png. */
export function pngAsSvg(png: Buffer, width: number, height: number, title: string): string {
  const safe = title.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><title>${safe}</title><image width="${width}" height="${height}" xlink:href="data:image/png;base64,${png.toString('base64')}"/></svg>\n`;
}
