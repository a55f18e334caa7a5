/**
 * One look for every figure of the report: readable fonts, colour-blind-safe
 * categorical colours (Okabe-Ito) and a perceptually uniform sequential scheme,
 * consistent sizes. Figures override only what they must.
 */

/** Okabe & Ito (2008), distinguishable under the common colour-vision deficiencies. */
export const OKABE_ITO = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'] as const;

/** A sequential scheme that stays readable in grey scale and for colour-blind readers. */
export const SEQUENTIAL_SCHEME = 'viridis';

export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

export interface FigureSize {
  width: number;
  height: number;
}

export const DEFAULT_SIZE: FigureSize = { width: 360, height: 240 };

/** The Vega-Lite `config` block merged into every spec. */
export function publicationConfig(): Record<string, unknown> {
  return {
    font: FONT,
    background: 'white',
    padding: 8,
    view: { stroke: null },
    title: { fontSize: 15, fontWeight: 'bold', anchor: 'start', offset: 10 },
    axis: {
      labelFontSize: 12,
      titleFontSize: 13,
      titleFontWeight: 'normal',
      gridColor: '#e6e6e6',
      domainColor: '#444',
      tickColor: '#444',
      labelColor: '#222',
      titleColor: '#222',
      labelLimit: 320,
    },
    legend: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal', symbolSize: 120, labelLimit: 320 },
    header: { labelFontSize: 13, titleFontSize: 13 },
    range: { category: [...OKABE_ITO], heatmap: { scheme: SEQUENTIAL_SCHEME } },
    line: { strokeWidth: 2.2 },
    point: { size: 60, filled: true },
  };
}
