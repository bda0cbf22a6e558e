/**
 * Painting primitives that write into a raster's bytes in place, clipped to the raster. Internal to src/plot: the
 * exported plot functions call them only on rasters they have just created, so every public function stays pure.
 *
 * @module
 */
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from "./font.js";
import type { Raster, Rgb } from "./raster.js";

/** Sets pixel (x, y) to `color` when it lies inside the raster. */
const paintPixel = (target: Raster, x: number, y: number, color: Rgb): void => {
  if (x < 0 || y < 0 || x >= target.width || y >= target.height) return;
  target.data.set(color, 3 * (y * target.width + x));
};

/**
 * Fills the w × h rectangle with top-left corner (x, y).
 *
 * @category Data
 */
export const paintRect = (target: Raster, x: number, y: number, w: number, h: number, color: Rgb): void => {
  for (let i = y; i < y + h; i++) for (let j = x; j < x + w; j++) paintPixel(target, j, i, color);
};

/**
 * Draws the one-pixel outline of the w × h rectangle with top-left corner (x, y).
 *
 * @category Data
 */
export const paintFrame = (target: Raster, x: number, y: number, w: number, h: number, color: Rgb): void => {
  paintRect(target, x, y, w, 1, color);
  paintRect(target, x, y + h - 1, w, 1, color);
  paintRect(target, x, y, 1, h, color);
  paintRect(target, x + w - 1, y, 1, h, color);
};

/**
 * Copies `source` into `target` with its top-left corner at (x, y), clipped to `target`.
 *
 * @category Data
 */
export const paintRaster = (target: Raster, source: Raster, x: number, y: number): void => {
  const j0 = Math.max(0, -x);
  const j1 = Math.min(source.width, target.width - x);
  if (j1 <= j0) return;
  for (let i = Math.max(0, -y); i < Math.min(source.height, target.height - y); i++) {
    const row = source.data.subarray(3 * (i * source.width + j0), 3 * (i * source.width + j1));
    target.data.set(row, 3 * ((y + i) * target.width + x + j0));
  }
};

/**
 * Draws `text` in the 5 × 7 font with the top-left corner of its first glyph at (x, y), each font pixel a
 * `scale` × `scale` square; glyphs advance by 6·scale.
 *
 * @category Data
 */
export const paintText = (
  target: Raster,
  text: string,
  x: number,
  y: number,
  color: Rgb,
  scale: number,
): void => {
  Array.from(text).forEach((char, k) => {
    const rows = glyph(char);
    const left = x + k * (GLYPH_WIDTH + 1) * scale;
    for (let i = 0; i < GLYPH_HEIGHT; i++) {
      for (let j = 0; j < GLYPH_WIDTH; j++) {
        if (rows[i][j] === "#") paintRect(target, left + j * scale, y + i * scale, scale, scale, color);
      }
    }
  });
};
