/**
 * The raster: an RGB picture as plain data (width, height, 3 bytes per pixel, row-major from the top-left), the
 * target of every plot, and its encoding as PNG bytes.
 *
 * @module
 */
import { encode } from "fast-png";
import { paintText } from "./canvas.js";

/**
 * An 8-bit RGB color [r, g, b], each 0–255.
 *
 * @category Data
 */
export type Rgb = readonly [r: number, g: number, b: number];

/**
 * An RGB picture: pixel (x, y), with x the column from the left and y the row from the top, has its red, green and
 * blue bytes at `data[3·(y·width + x) + c]`, c = 0, 1, 2.
 *
 * @category Data
 */
export interface Raster {
  /** Columns, an integer ≥ 1. */
  readonly width: number;
  /** Rows, an integer ≥ 1. */
  readonly height: number;
  /** 3·width·height bytes: R, G, B of each pixel, rows top to bottom, pixels left to right. */
  readonly data: Uint8Array;
}

/**
 * A raster of `width` × `height` pixels (integers ≥ 1) filled with `color`.
 *
 * @category Data
 */
export const blankRaster = (width: number, height: number, color: Rgb): Raster => {
  const data = new Uint8Array(3 * width * height);
  for (let p = 0; p < width * height; p++) data.set(color, 3 * p);
  return { width, height, data };
};

/**
 * The color of pixel (x, y) of a raster (x from the left, y from the top, both inside the raster).
 *
 * @category Data
 */
export const pixelAt = (raster: Raster, x: number, y: number): Rgb => {
  const i = 3 * (y * raster.width + x);
  return [raster.data[i], raster.data[i + 1], raster.data[i + 2]];
};

/**
 * The raster as an 8-bit RGB PNG file (W3C PNG Specification, color type 2), encoded by fast-png.
 *
 * @category I/O
 */
export const encodeRaster = (raster: Raster): Uint8Array =>
  encode({ width: raster.width, height: raster.height, data: raster.data, depth: 8, channels: 3 });

/**
 * A copy of `raster` with `text` drawn in the built-in 5 × 7 font (`glyph`): the top-left corner of the
 * first glyph at pixel (x, y), each font pixel a `scale` × `scale` square (integer scale ≥ 1), glyphs 6·scale
 * apart; clipped to the raster.
 *
 * @category Data
 */
export const drawText = (
  raster: Raster,
  text: string,
  position: {
    /** Column of the text's left edge. */
    readonly x: number;
    /** Row of the text's top edge. */
    readonly y: number;
  },
  color: Rgb,
  scale = 1,
): Raster => {
  const out = { width: raster.width, height: raster.height, data: raster.data.slice() };
  paintText(out, text, position.x, position.y, color, scale);
  return out;
};
