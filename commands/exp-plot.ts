/** Draws `exp plot`'s Vega-Lite spec with the figures' own renderer and theme (SVG, and a PNG beside it). */
import type { PlotRenderer } from '../engine/commands/exp.js';

export const renderExperimentPlot: PlotRenderer = async (spec) => {
  // Imported on use: vega and sharp cost a second of start-up that no other command should pay.
  const { renderFigure } = await import('../domain/plots/render.js');
  const fig = await renderFigure(spec);
  return { svg: fig.svg, png: fig.png };
};
