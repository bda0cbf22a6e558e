/**
 * The guide docs/guides/diffusion-in-five-minutes.md must run exactly as written: its ```ts blocks, joined in
 * order with one blank line between them, are examples/diffusion-in-five-minutes.ts verbatim; that file runs
 * (with `scoreflow` resolved to the sources, writing its pictures into a temporary directory) and prints the
 * page's ```text blocks line for line; the pictures the page shows exist; and the printed numbers hold the math
 * of Ho et al. (2020) that the page claims, recomputed here from the formulas.
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

const page = readRepoFile("docs/guides/diffusion-in-five-minutes.md");

/** Ho et al.'s linear schedule, recomputed: β_i = 10⁻⁴ + i·(0.02 − 10⁻⁴)/999 and ᾱ_i = ∏_{j ≤ i} (1 − β_j). */
const betas = Array.from({ length: 1000 }, (_, i) => 1e-4 + (i * (0.02 - 1e-4)) / 999);
const alphaBars = betas.map((_, i) => betas.slice(0, i + 1).reduce((p, b) => p * (1 - b), 1));

const images = temporaryDirectory("guide-five-minutes-");
const lines = printedBeforeAll("examples/diffusion-in-five-minutes.ts", ["--write-images", images]);

/** The printed line `offset` lines after the first one that starts (after spaces) with `prefix`. */
const printedAt = (prefix: string, offset = 0): string => printedLine(lines, prefix, offset);

describe("guide: diffusion in five minutes", () => {
  it("shows examples/diffusion-in-five-minutes.ts verbatim, section by section", () => {
    const blocks = fencedBlocks(page, "ts");
    expect(blocks.length).toBeGreaterThan(4);
    expect(blocks.join("\n")).toBe(readRepoFile("examples/diffusion-in-five-minutes.ts"));
  });

  it("prints what the page says it prints", () => {
    expect(fencedLines(page, "text")).toEqual(lines);
  });

  it("writes the pictures the page shows, and the page's copies are in docs/img", () => {
    const shown = Array.from(page.matchAll(/\(\.\.\/img\/(guide-five-minutes-[a-z]+\.png)\)/g), (m) => m[1]);
    expect(shown).toEqual([
      "guide-five-minutes-forward.png",
      "guide-five-minutes-reverse.png",
      "guide-five-minutes-samples.png",
    ]);
    for (const name of shown) {
      expect(existsSync(join(root, "docs/img", name)), name).toBe(true);
      const png = decode(readFileSync(join(images, name)));
      expect([png.channels, png.width > 192, png.height > 192]).toEqual([3, true, true]);
    }
  });

  it("prints the linear schedule: β_t, ᾱ_t, √ᾱ_t, √(1 − ᾱ_t) and the one-step √α_t", () => {
    for (const t of [1, 100, 250, 500, 750, 1000]) {
      const [step, beta, alphaBar, signal, noise, oneStep] = numbersIn(printedAt(`${t} `));
      const i = t - 1;
      expect(step).toBe(t);
      expect(beta).toBeCloseTo(betas[i], 5);
      expect(alphaBar).toBeCloseTo(alphaBars[i], 5);
      expect(signal).toBeCloseTo(Math.sqrt(alphaBars[i]), 4);
      expect(noise).toBeCloseTo(Math.sqrt(1 - alphaBars[i]), 4);
      expect(oneStep).toBeCloseTo(Math.sqrt(1 - betas[i]), 4);
    }
  });

  it("shows the chain of eq. 2 and one draw of eq. 4 agreeing with eq. 4, and the notes' formula not", () => {
    for (const t of [100, 500, 1000]) {
      // Each row ends with mean (x, y) and var (x, y); 2000 points.
      const [exact, chain, draw, notes] = [1, 2, 3, 4].map((k) =>
        numbersIn(printedAt(`t = ${t}:`, k)).slice(-4),
      );
      for (const sample of [chain, draw])
        for (let k = 0; k < 2; k++) {
          const variance = exact[2 + k];
          // Four standard errors: √(v/n) for a mean, v·√(2/n) for a variance (Gaussian approximation).
          expect(Math.abs(sample[k] - exact[k])).toBeLessThan(4 * Math.sqrt(variance / 2000));
          expect(Math.abs(sample[2 + k] - variance)).toBeLessThan(4 * variance * Math.sqrt(2 / 2000));
        }
      // eq. 4's variance along x is ᾱ·v₀ + 1 − ᾱ, the notes' α·v₀ + 1 − α, with v₀ the data's (read at t = 100).
      const at100 = numbersIn(printedAt("t = 100:", 1)).slice(-4);
      const v0 = (at100[2] - (1 - alphaBars[99])) / alphaBars[99];
      expect(notes[2]).toBeCloseTo((1 - betas[t - 1]) * v0 + betas[t - 1], 2);
    }
    const [exact, , , notes] = [1, 2, 3, 4].map((k) => numbersIn(printedAt("t = 1000:", k)).slice(-4));
    expect(exact[2]).toBeCloseTo(1, 3);
    expect(notes[2] - exact[2]).toBeGreaterThan(1.5);
  });

  it("prints the posterior of eq. 6–7, the weight of eq. 12 and the identities that tie it to eq. 4 and 11", () => {
    const rows = lines.filter((line) => /^\s*\d+\s+\d\.\d{3}e-\d/.test(line));
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      const [t, c0, ct, variance, beta, weight] = numbersIn(row);
      const [a, aPrev, b] = [alphaBars[t - 1], alphaBars[t - 2], betas[t - 1]];
      const tilde = ((1 - aPrev) / (1 - a)) * b;
      const close = (printed: number, exact: number) =>
        expect(Math.abs(printed / exact - 1)).toBeLessThan(1e-3);
      close(c0, (Math.sqrt(aPrev) * b) / (1 - a));
      close(ct, (Math.sqrt(1 - b) * (1 - aPrev)) / (1 - a));
      close(variance, tilde);
      close(beta, b);
      expect(weight).toBeCloseTo(b ** 2 / (2 * tilde * (1 - b) * (1 - a)), 4);
    }
    const identities = lines.filter((line) => line.includes("largest error over t = 2 … 1000"));
    expect(identities).toHaveLength(4);
    for (const line of identities) expect(numbersIn(line).at(-1)!).toBeLessThan(1e-14);
  });

  it("trains: L_simple falls below its start and well below 1, the loss of ε̂ = 0", () => {
    const losses = lines.filter((line) => /^\s*\d+–\d+\s/.test(line)).map((line) => numbersIn(line).at(-1)!);
    expect(losses).toHaveLength(5);
    expect(losses.at(-1)!).toBeLessThan(losses[0]);
    expect(losses.at(-1)!).toBeLessThan(0.35);
  });

  it("samples: near the floor, far closer than a moment-matched Gaussian or the noise", () => {
    const distance = (prefix: string) => numbersIn(printedAt(prefix)).at(-1)!;
    const floor = distance("fresh draws");
    const ddpm = distance("DDPM samples");
    expect(ddpm).toBeLessThan(1.5 * floor);
    expect(distance("a Gaussian")).toBeGreaterThan(2 * ddpm);
    expect(distance("the starting noise")).toBeGreaterThan(4 * ddpm);
  });
});
