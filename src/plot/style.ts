/**
 * The colors and the title band shared by the plots.
 *
 * @module
 */
import { GLYPH_HEIGHT } from "./font.js";
import type { Rgb } from "./raster.js";

/**
 * The palette of the plots: a light background, a gray frame, dark ink for titles and a blue for scatter dots.
 *
 * @category Data
 */
export const PLOT_COLORS: {
  /** The background of plots and the padding of grids. */
  readonly background: Rgb;
  /** The frame around a scatter plot. */
  readonly frame: Rgb;
  /** Title text. */
  readonly ink: Rgb;
  /** Scatter dots, at full opacity. */
  readonly dot: Rgb;
} = {
  background: [250, 250, 250],
  frame: [140, 140, 140],
  ink: [30, 30, 30],
  dot: [31, 78, 154],
};

/**
 * Space above and below a title, in pixels.
 *
 * @category Data
 */
export const TITLE_MARGIN = 4;

/**
 * The font scale for titles over a panel `width` pixels wide: 2 from 192 pixels up, else 1.
 *
 * @category Data
 */
export const titleScale = (width: number): number => (width >= 192 ? 2 : 1);

/**
 * The height of a title band at font `scale`: the glyph height and a margin above and below.
 *
 * @category Data
 */
export const titleBand = (scale: number): number => GLYPH_HEIGHT * scale + 2 * TITLE_MARGIN;
