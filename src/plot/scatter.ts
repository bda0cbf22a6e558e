/**
 * Scatter plots of 2-D samples: density-accumulated, anti-aliased dots on a light square with a frame.
 *
 * @module
 */
import type { Tensor } from "../core/tensor.js";
import { paintFrame, paintText } from "./canvas.js";
import { fitText, textWidth } from "./font.js";
import { blankRaster, type Raster } from "./raster.js";
import { PLOT_COLORS, TITLE_MARGIN, titleBand, titleScale } from "./style.js";

/**
 * The options of {@link scatterPlot}.
 *
 * @category Data
 */
export interface ScatterOptions {
  /** Side of the square plot area in pixels, an integer ≥ 8. */
  readonly size: number;
  /** The window [lo, hi] (lo < hi) shown on both axes; points outside it are not drawn. */
  readonly range: readonly [lo: number, hi: number];
  /** A title drawn in a band above the plot (which then is `size` + band pixels tall). */
  readonly title?: string;
  /** Dot radius in pixels, > 0; default max(1, size/256). */
  readonly radius?: number;
  /** Opacity α ∈ (0, 1] of one dot; default 0.5. */
  readonly opacity?: number;
}

/**
 * Draws points [N, 2] (x right, y up) as dots on a `size` × `size` square showing [lo, hi]²: point (x, y) is
 * centred at pixel coordinates (u, v) = ((x − lo)/(hi − lo)·size, (hi − y)/(hi − lo)·size), pixel (j, i) covering
 * [j, j + 1) × [i, i + 1). Each dot adds its coverage c = clamp(r + ½ − d, 0, 1) at distance d from the pixel
 * centre to the pixel's density D, and the pixel is blended toward the dot color with alpha 1 − (1 − α)^D (the
 * result of stacking D dots of opacity α), so that dense regions saturate and sparse points stay visible.
 * Non-finite points and points outside the window are skipped. A one-pixel frame outlines the square; a title,
 * when given, is drawn centred in a band above it.
 *
 * @category Data
 */
export const scatterPlot = (points: Tensor, options: ScatterOptions): Raster => {
  const { size, range, title } = options;
  const [lo, hi] = range;
  const radius = options.radius ?? Math.max(1, size / 256);
  const opacity = options.opacity ?? 0.5;
  const density = new Float64Array(size * size);
  const reach = Math.ceil(radius + 1);
  const n = points.shape[0];
  for (let k = 0; k < n; k++) {
    const x = points.data[2 * k];
    const y = points.data[2 * k + 1];
    if (!(x >= lo && x <= hi && y >= lo && y <= hi)) continue;
    const u = ((x - lo) / (hi - lo)) * size;
    const v = ((hi - y) / (hi - lo)) * size;
    const j0 = Math.floor(u);
    const i0 = Math.floor(v);
    for (let i = Math.max(0, i0 - reach); i <= Math.min(size - 1, i0 + reach); i++) {
      for (let j = Math.max(0, j0 - reach); j <= Math.min(size - 1, j0 + reach); j++) {
        const coverage = radius + 0.5 - Math.hypot(j + 0.5 - u, i + 0.5 - v);
        if (coverage > 0) density[i * size + j] += Math.min(1, coverage);
      }
    }
  }
  const scale = titleScale(size);
  const top = title === undefined ? 0 : titleBand(scale);
  const out = blankRaster(size, size + top, PLOT_COLORS.background);
  const { background, dot } = PLOT_COLORS;
  for (let p = 0; p < size * size; p++) {
    if (density[p] === 0) continue;
    const alpha = 1 - (1 - opacity) ** density[p];
    const o = 3 * (top * size + p);
    for (let c = 0; c < 3; c++)
      out.data[o + c] = Math.round(background[c] + alpha * (dot[c] - background[c]));
  }
  paintFrame(out, 0, top, size, size, PLOT_COLORS.frame);
  if (title !== undefined) {
    const text = fitText(title, scale, size);
    const left = Math.floor((size - textWidth(text, scale)) / 2);
    paintText(out, text, left, TITLE_MARGIN, PLOT_COLORS.ink, scale);
  }
  return out;
};

/**
 * A symmetric plot range [−r, r] for points [N, 2]: r is the 99.9th percentile of |coordinate| over both axes,
 * padded by 10%, so a few far outliers do not shrink the picture.
 *
 * @category Data
 */
export const symmetricRange = (points: Tensor): readonly [lo: number, hi: number] => {
  const sorted = Float64Array.from(points.data, Math.abs).sort();
  const r = 1.1 * sorted[Math.floor(0.999 * (sorted.length - 1))];
  return [-r, r];
};
