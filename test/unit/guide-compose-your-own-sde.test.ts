/**
 * The guide docs/guides/compose-your-own-sde.md must run exactly as written: its ```ts blocks, joined in order
 * with one blank line between them, are examples/compose-your-own-sde.ts verbatim; that file runs (with
 * `scoreflow` resolved to the sources, writing its picture into a temporary directory) and prints the page's
 * ```text blocks line for line; the picture the page shows exists; and the printed numbers hold the math the
 * page claims: the closed-form marginals of the sqrt-linear β, λ = 2·log(s/σ), the scaled_linear chain, and a
 * trained model whose samples sit near the data floor under its own SDE and far from it under another.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decode } from "fast-png";
import { describe, expect, it } from "vitest";
import {
  fencedBlocks,
  fencedLines,
  numbersIn,
  printedBeforeAll,
  printedLine,
  readRepoFile,
  root,
  temporaryDirectory,
} from "../support/guide-page.js";

const page = readRepoFile("docs/guides/compose-your-own-sde.md");

/** The sqrt-linear β's closed form: ∫₀ᵗβ = ((a + b·t)³ − a³)/(3b), s = exp(−½∫β), σ² = 1 − s². */
const [a, b] = [Math.sqrt(0.1), Math.sqrt(20) - Math.sqrt(0.1)];
const integral = (t: number) => ((a + b * t) ** 3 - a ** 3) / (3 * b);
const scale = (t: number) => Math.exp(-0.5 * integral(t));
const std = (t: number) => Math.sqrt(-Math.expm1(-integral(t)));

const images = temporaryDirectory("guide-compose-sde-");
const lines = printedBeforeAll("examples/compose-your-own-sde.ts", ["--write-images", images]);

/** The first printed line that starts (after spaces) with `prefix`. */
const printed = (prefix: string): string => printedLine(lines, prefix);

describe("guide: compose your own SDE", () => {
  it("shows examples/compose-your-own-sde.ts verbatim, section by section", () => {
    const blocks = fencedBlocks(page, "ts");
    expect(blocks.length).toBeGreaterThan(4);
    expect(blocks.join("\n")).toBe(readRepoFile("examples/compose-your-own-sde.ts"));
  });

  it("prints what the page says it prints", () => {
    expect(fencedLines(page, "text")).toEqual(lines);
  });

  it("writes the picture the page shows, and the page's copy is in docs/img", () => {
    expect(page).toContain("](../img/guide-compose-sde-samplers.png)");
    expect(existsSync(join(root, "docs/img/guide-compose-sde-samplers.png"))).toBe(true);
    const png = decode(readFileSync(join(images, "guide-compose-sde-samplers.png")));
    expect([png.channels, png.width > 256, png.height > 256]).toEqual([3, true, true]);
  });

  it("integrates s(t) and σ(t) to the closed form, and prints λ = 2·log(s/σ)", () => {
    for (const t of [0.001, 0.1, 0.25, 0.5, 0.75, 1]) {
      const [time, s, sigma, errorS, errorSigma, lambda] = numbersIn(printed(`${t.toFixed(3)} `));
      expect(time).toBe(t);
      expect(s).toBeCloseTo(scale(t), 6);
      expect(sigma).toBeCloseTo(std(t), 6);
      expect(Math.max(errorS, errorSigma)).toBeLessThan(1e-12);
      expect(lambda).toBeCloseTo(2 * Math.log(scale(t) / std(t)), 3);
    }
    expect(numbersIn(printed("largest relative error of s")).at(-1)!).toBeLessThan(1e-12);
    expect(numbersIn(printed("sqrt-linear VP on")).at(-1)!).toBeCloseTo(std(1), 6);
  });

  it("matches diffusers' scaled_linear chain: β exactly, √ᾱ to O(1/N)", () => {
    expect(numbersIn(printed("β_i against")).at(-1)!).toBeLessThan(1e-14);
    const gap = numbersIn(printed("√ᾱ_i against")).at(-1)!;
    expect(gap).toBeGreaterThan(1e-4);
    expect(gap).toBeLessThan(1 / 500);
  });

  it("trains: the loss falls", () => {
    const [first, last] = [printed("mean loss over steps 1–100"), printed("mean loss over steps 901")].map(
      (line) => numbersIn(line).at(-1)!,
    );
    expect(last).toBeLessThan(0.8 * first);
  });

  it("samples every family near the floor, and the same network under the VP record far from it", () => {
    const ratio = (line: string) => numbersIn(line).at(-1)!;
    const families = lines.filter((line) => /, NFE \d+\s/.test(line));
    expect(families).toHaveLength(5);
    const gaussian = ratio(printed("a Gaussian"));
    expect(gaussian).toBeGreaterThan(2);
    for (const line of families) expect(ratio(line)).toBeLessThan(Math.min(1.5, gaussian / 2));
    expect(ratio(printed("DPM-Solver++(2M) with the VP record"))).toBeGreaterThan(gaussian);
    const nfe = Object.fromEntries(
      families.map((line) => [line.trim().split(/[ ,]/)[0], numbersIn(line).at(-3)!]),
    );
    expect(nfe).toMatchObject({ DDPM: 50, DDIM: 25, Reverse: 51, EDM: 35 });
  });
});
