import { decode } from "fast-png";
import { describe, expect, it } from "vitest";
import type { Tensor } from "../../src/core/tensor.js";
import { fitText, GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidth } from "../../src/plot/font.js";
import { gallery, imageGrid } from "../../src/plot/grid.js";
import {
  blankRaster,
  drawText,
  encodeRaster,
  pixelAt,
  type Raster,
  type Rgb,
} from "../../src/plot/raster.js";
import { scatterPlot } from "../../src/plot/scatter.js";
import { PLOT_COLORS } from "../../src/plot/style.js";

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const points = (xy: number[]): Tensor => ({ shape: [xy.length / 2, 2], data: Float32Array.from(xy) });
/** The pixels of a raster equal to `color`, as "x,y" strings. */
const pixelsOf = (r: Raster, color: Rgb): Set<string> => {
  const out = new Set<string>();
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++)
      if (pixelAt(r, x, y).every((v, c) => v === color[c])) out.add(`${x},${y}`);
  }
  return out;
};

describe("scatterPlot", () => {
  const empty = scatterPlot(points([]), { size: 64, range: [-1, 1] });

  it("is a size × size light square with a one-pixel frame", () => {
    expect([empty.width, empty.height]).toEqual([64, 64]);
    expect(pixelAt(empty, 0, 10)).toEqual(PLOT_COLORS.frame);
    expect(pixelAt(empty, 63, 63)).toEqual(PLOT_COLORS.frame);
    expect(pixelAt(empty, 20, 40)).toEqual(PLOT_COLORS.background);
  });

  it("puts a dot where the point is (x right, y up) and nowhere else", () => {
    // (0.5, −0.5) in [−1, 1]² lands at pixel coordinates (48, 48): the corner shared by pixels 47 and 48.
    const r = scatterPlot(points([0.5, -0.5]), { size: 64, range: [-1, 1] });
    const changed: string[] = [];
    for (let y = 1; y < 63; y++) {
      for (let x = 1; x < 63; x++)
        if (pixelAt(r, x, y)[0] !== PLOT_COLORS.background[0]) changed.push(`${x},${y}`);
    }
    expect(changed.sort()).toEqual(["47,47", "47,48", "48,47", "48,48"]);
    // Coverage 1 + ½ − √½ at each, opacity ½: alpha = 1 − ½^0.793.
    const alpha = 1 - 0.5 ** (1.5 - Math.SQRT1_2);
    const expected = PLOT_COLORS.background.map((b, c) => Math.round(b + alpha * (PLOT_COLORS.dot[c] - b)));
    expect(pixelAt(r, 47, 48)).toEqual(expected);
  });

  it("saturates to the dot color where many points fall, and skips points outside the window or not finite", () => {
    const dense = scatterPlot(points(Array.from({ length: 400 }, () => 0)), { size: 64, range: [-1, 1] });
    expect(pixelAt(dense, 32, 32)).toEqual(PLOT_COLORS.dot);
    expect(scatterPlot(points([2, 0, 0, -1.5, Number.NaN, 0]), { size: 64, range: [-1, 1] })).toEqual(empty);
  });

  it("adds a title band above the plot and shifts the plot down by it", () => {
    const r = scatterPlot(points([0.5, -0.5]), { size: 64, range: [-1, 1], title: "T" });
    const band = 7 + 8;
    expect([r.width, r.height]).toEqual([64, 64 + band]);
    expect(pixelAt(r, 48, 48 + band)).not.toEqual(PLOT_COLORS.background);
    expect(pixelAt(r, 0, band)).toEqual(PLOT_COLORS.frame);
    // "T" is centred: 5 pixels wide at x = ⌊(64 − 5)/2⌋ = 29, top bar on row 4.
    expect(pixelAt(r, 29, 4)).toEqual(PLOT_COLORS.ink);
    expect(pixelAt(r, 31, 10)).toEqual(PLOT_COLORS.ink);
    expect(pixelAt(r, 29, 10)).toEqual(PLOT_COLORS.background);
  });
});

describe("imageGrid", () => {
  // Five 2 × 3 gray images, image k constant at byte 40·k (except pixel (1, 2), which is 255).
  const data = new Float32Array(5 * 6);
  for (let k = 0; k < 5; k++)
    for (let p = 0; p < 6; p++) data[k * 6 + p] = p === 5 ? 1 : (40 * k) / 127.5 - 1;
  const grid = imageGrid({ shape: [5, 1, 2, 3], data }, 2, 1, 2);

  it("has cols·W·s + (cols + 1)·padding columns and rows·H·s + (rows + 1)·padding rows", () => {
    expect([grid.width, grid.height]).toEqual([2 * 6 + 3, 3 * 4 + 4]);
    expect([imageGrid({ shape: [2, 1, 2, 3], data: data.subarray(0, 12) }, 8, 0).width]).toEqual([6]);
  });

  it("places image k at (padding + (k mod cols)·(W·s + padding), padding + ⌊k/cols⌋·(H·s + padding)), upscaled", () => {
    for (let k = 0; k < 5; k++) {
      const left = 1 + (k % 2) * 7;
      const top = 1 + Math.floor(k / 2) * 5;
      expect(pixelAt(grid, left, top)).toEqual([40 * k, 40 * k, 40 * k]);
      expect(pixelAt(grid, left + 3, top + 1)).toEqual([40 * k, 40 * k, 40 * k]);
      for (const [dx, dy] of [
        [4, 2],
        [5, 3],
        [5, 2],
      ]) {
        expect(pixelAt(grid, left + dx, top + dy)).toEqual(WHITE);
      }
      expect(pixelAt(grid, left - 1, top)).toEqual(PLOT_COLORS.background);
    }
    // The sixth cell is empty.
    expect(pixelAt(grid, 8, 11)).toEqual(PLOT_COLORS.background);
  });

  it("reads C = 3 as RGB", () => {
    const rgb = imageGrid({ shape: [1, 3, 1, 1], data: Float32Array.from([1, -1, 0]) }, 1, 0);
    expect(pixelAt(rgb, 0, 0)).toEqual([255, 0, 128]);
  });
});

describe("font", () => {
  const T = ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."];

  it("draws the pixels of the glyph T, at scale 1 and 2; lowercase as uppercase; unknown characters as a box", () => {
    expect([GLYPH_WIDTH, GLYPH_HEIGHT]).toEqual([5, 7]);
    expect(glyph("t")).toEqual(T);
    expect(glyph("@")).toEqual(["#####", "#...#", "#...#", "#...#", "#...#", "#...#", "#####"]);
    const expectedAt = (s: number, x0: number, y0: number) => {
      const set = new Set<string>();
      T.forEach((row, i) => {
        for (let j = 0; j < 5; j++) {
          if (row[j] !== "#") continue;
          for (let a = 0; a < s; a++)
            for (let b = 0; b < s; b++) set.add(`${x0 + j * s + b},${y0 + i * s + a}`);
        }
      });
      return set;
    };
    const canvas = blankRaster(20, 20, WHITE);
    expect(pixelsOf(drawText(canvas, "T", { x: 3, y: 2 }, BLACK), BLACK)).toEqual(expectedAt(1, 3, 2));
    expect(pixelsOf(drawText(canvas, "t", { x: 1, y: 1 }, BLACK, 2), BLACK)).toEqual(expectedAt(2, 1, 1));
    expect(pixelsOf(canvas, BLACK).size).toBe(0);
  });

  it("advances 6·scale per character and clips at the raster edge", () => {
    expect(textWidth("", 1)).toBe(0);
    expect(textWidth("AB", 1)).toBe(11);
    expect(textWidth("x²", 2)).toBe(22);
    expect(fitText("ABCDE", 1, 16)).toBe("AB");
    expect(fitText("ABCDE", 1, 17)).toBe("ABC");
    const two = drawText(blankRaster(20, 9, WHITE), "TT", { x: 0, y: 0 }, BLACK);
    expect(pixelAt(two, 6, 0)).toEqual(BLACK);
    expect(pixelAt(two, 5, 0)).toEqual(WHITE);
    expect(
      pixelsOf(drawText(blankRaster(4, 4, WHITE), "W", { x: 2, y: -3 }, BLACK), BLACK).size,
    ).toBeGreaterThan(0);
  });
});

describe("gallery", () => {
  const panel = (w: number, h: number, v: number): Raster => blankRaster(w, h, [v, v, v]);
  const panels = [
    { title: "A", raster: panel(10, 10, 10) },
    { title: "B", raster: panel(20, 5, 20) },
    { title: "C", raster: panel(4, 4, 30) },
  ];
  const g = gallery(panels, 2);
  // Cells 20 wide and 15 + 10 tall (title band 7 + 2·4), 8 pixels apart and from the border.

  it("lays out titled cells on a grid, each panel centred under its title", () => {
    expect([g.width, g.height]).toEqual([8 + 2 * 28, 8 + 2 * 33]);
    expect(pixelAt(g, 13, 23)).toEqual([10, 10, 10]);
    expect(pixelAt(g, 22, 32)).toEqual([10, 10, 10]);
    expect(pixelAt(g, 12, 23)).toEqual(PLOT_COLORS.background);
    expect(pixelAt(g, 36, 23)).toEqual([20, 20, 20]);
    expect(pixelAt(g, 16, 56)).toEqual([30, 30, 30]);
    expect(pixelAt(g, 19, 59)).toEqual([30, 30, 30]);
  });

  it("draws each title centred in its band", () => {
    // "A" in the first cell: x from 8 + ⌊(20 − 5)/2⌋ = 15, rows 12–18; its top row is ".###.".
    expect(pixelAt(g, 15, 12)).toEqual(PLOT_COLORS.background);
    expect(pixelAt(g, 16, 12)).toEqual(PLOT_COLORS.ink);
    expect(pixelAt(g, 15, 18)).toEqual(PLOT_COLORS.ink);
  });
});

describe("encodeRaster", () => {
  it("encodes an RGB PNG that decodes to the same pixels", () => {
    const r = scatterPlot(points([0.1, 0.2, -0.3, 0.4]), { size: 40, range: [-1, 1], title: "x=1" });
    const png = decode(encodeRaster(r));
    expect([png.width, png.height, png.channels, png.depth]).toEqual([r.width, r.height, 3, 8]);
    expect(Array.from(png.data)).toEqual(Array.from(r.data));
  });
});
