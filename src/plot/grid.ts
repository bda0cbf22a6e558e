/**
 * Grids of images and galleries of titled panels.
 *
 * @module
 */
import type { Tensor } from "../core/tensor.js";
import { unitToByte } from "../data/pixels.js";
import { paintRaster, paintText } from "./canvas.js";
import { fitText, textWidth } from "./font.js";
import { blankRaster, type Raster } from "./raster.js";
import { PLOT_COLORS, TITLE_MARGIN, titleBand, titleScale } from "./style.js";

/**
 * Tiles a batch of images [N, C, H, W] with values in [−1, 1] (C = 3 read as RGB; any other C shows channel 0 as
 * gray) on a grid of min(columns, N) columns and ⌈N / columns⌉ rows, each image upscaled by the integer `scale`
 * (nearest neighbour) and separated and surrounded by `padding` pixels of background. The raster is
 * cols·W·scale + (cols + 1)·padding wide and rows·H·scale + (rows + 1)·padding tall; image k has its top-left
 * corner at (padding + (k mod cols)·(W·scale + padding), padding + ⌊k / cols⌋·(H·scale + padding)). A value x
 * becomes the byte clamp(round((x + 1)·127.5), 0, 255).
 *
 * Parameters: N ≥ 1, columns ≥ 1, padding ≥ 0 and scale ≥ 1, all integers.
 *
 * @category Data
 */
export const imageGrid = (images: Tensor, columns: number, padding: number, scale = 1): Raster => {
  const [n, channels, h, w] = images.shape;
  const cols = Math.min(columns, n);
  const rows = Math.ceil(n / cols);
  const cellW = w * scale;
  const cellH = h * scale;
  const width = cols * cellW + (cols + 1) * padding;
  const out = blankRaster(width, rows * cellH + (rows + 1) * padding, PLOT_COLORS.background);
  const plane = h * w;
  const rgb = channels === 3;
  for (let k = 0; k < n; k++) {
    const left = padding + (k % cols) * (cellW + padding);
    const top = padding + Math.floor(k / cols) * (cellH + padding);
    const base = k * channels * plane;
    for (let i = 0; i < cellH; i++) {
      for (let j = 0; j < cellW; j++) {
        const p = Math.floor(i / scale) * w + Math.floor(j / scale);
        const o = 3 * ((top + i) * width + left + j);
        for (let c = 0; c < 3; c++)
          out.data[o + c] = unitToByte(images.data[base + (rgb ? c * plane : 0) + p]);
      }
    }
  }
  return out;
};

/**
 * One panel of a {@link gallery}: a picture and the title drawn above it.
 *
 * @category Data
 */
export interface GalleryPanel {
  /** The title, in the built-in 5 × 7 font (cut to the panel's width). */
  readonly title: string;
  /** The picture. */
  readonly raster: Raster;
}

/** Pixels between panels and around the gallery. */
const GAP = 8;

/**
 * Lays out titled panels on a grid of min(columns, N) columns, row-major. Every cell is as wide as the widest
 * panel and as tall as the tallest plus a title band; each panel is centred horizontally in its cell under its
 * title, and cells are 8 pixels apart and from the border. Titles use font scale 2 when cells are at least 192
 * pixels wide, else 1. Parameters: columns an integer ≥ 1.
 *
 * @category Data
 */
export const gallery = (panels: readonly GalleryPanel[], columns: number): Raster => {
  const cols = Math.max(1, Math.min(columns, panels.length));
  const rows = Math.ceil(panels.length / cols);
  const cellW = Math.max(0, ...panels.map((p) => p.raster.width));
  const scale = titleScale(cellW);
  const band = titleBand(scale);
  const cellH = band + Math.max(0, ...panels.map((p) => p.raster.height));
  const out = blankRaster(GAP + cols * (cellW + GAP), GAP + rows * (cellH + GAP), PLOT_COLORS.background);
  panels.forEach(({ title, raster }, k) => {
    const left = GAP + (k % cols) * (cellW + GAP);
    const top = GAP + Math.floor(k / cols) * (cellH + GAP);
    const text = fitText(title, scale, cellW);
    paintText(
      out,
      text,
      left + Math.floor((cellW - textWidth(text, scale)) / 2),
      top + TITLE_MARGIN,
      PLOT_COLORS.ink,
      scale,
    );
    paintRaster(out, raster, left + Math.floor((cellW - raster.width) / 2), top + band);
  });
  return out;
};
