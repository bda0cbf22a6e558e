import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import type { Tensor } from "../../src/core/tensor.js";
import { TOY_NAMES, TOYS, type ToyName, toyDataset } from "../../src/data/toys.js";

const N = 20_000;
const key = orThrow(rngKey(7));

/** E[g(t)] for t ~ U(a, b), by composite Simpson quadrature (4000 panels: error far below 1e-9 here). */
const uniformMean = (g: (t: number) => number, a: number, b: number): number => {
  const m = 4000;
  const h = (b - a) / m;
  let s = g(a) + g(b);
  for (let k = 1; k < m; k++) s += (k % 2 === 1 ? 4 : 2) * g(a + k * h);
  return (s * h) / 3 / (b - a);
};

/** Mean and variance of each axis implied by the definition of each toy (see the TSDoc of each sampler). */
const moments = (name: ToyName): { mean: [number, number]; variance: [number, number] } => {
  switch (name) {
    case "checkerboard":
      return { mean: [0, 0], variance: [16 / 3, 16 / 3] };
    case "swissRoll": {
      const a = 1.5 * Math.PI;
      const b = 4.5 * Math.PI;
      const mx = uniformMean((t) => t * Math.cos(t), a, b);
      const my = uniformMean((t) => t * Math.sin(t), a, b);
      const vx = uniformMean((t) => (t * Math.cos(t)) ** 2, a, b) - mx * mx + 1;
      const vy = uniformMean((t) => (t * Math.sin(t)) ** 2, a, b) - my * my + 1;
      return { mean: [mx / 5, my / 5], variance: [vx / 25, vy / 25] };
    }
    case "twoMoons": {
      // p = ½·upper + ½·lower, θ ~ U(0, π); then 2p + (−1, −0.2), plus 2·N(0, 0.1²).
      const ex = (f: (c: number) => number) =>
        0.5 * uniformMean((t) => f(Math.cos(t)), 0, Math.PI) +
        0.5 * uniformMean((t) => f(1 - Math.cos(t)), 0, Math.PI);
      const ey = (f: (s: number) => number) =>
        0.5 * uniformMean((t) => f(Math.sin(t)), 0, Math.PI) +
        0.5 * uniformMean((t) => f(0.5 - Math.sin(t)), 0, Math.PI);
      const mx = ex((c) => c);
      const my = ey((s) => s);
      return {
        mean: [2 * mx - 1, 2 * my - 0.2],
        variance: [4 * (ex((c) => c * c) - mx * mx + 0.01), 4 * (ey((s) => s * s) - my * my + 0.01)],
      };
    }
    case "eightGaussians": {
      // E[d_x²] over the eight directions is 1/2; the noise adds 0.25; 1.999396 = 1.414², the reference divisor squared.
      const v = (16 * 0.5 + 0.25) / 1.999396;
      return { mean: [0, 0], variance: [v, v] };
    }
    case "pinwheel":
      return { mean: [0, 0], variance: [2.2, 2.2] };
  }
};

/** Sample mean, variance and fourth central moment of column `axis`. */
const columnStats = (x: Tensor, axis: number) => {
  const n = x.shape[0];
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x.data[2 * i + axis];
  mean /= n;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = x.data[2 * i + axis] - mean;
    m2 += d * d;
    m4 += d ** 4;
  }
  return { mean, variance: m2 / (n - 1), m4: m4 / n };
};

describe("toy distributions", () => {
  for (const name of TOY_NAMES) {
    it(`${name}: per-axis means and standard deviations within 4 standard errors of the definition`, () => {
      const x = TOYS[name](key, N);
      expect(x.shape).toEqual([N, 2]);
      expect(x.data).toBeInstanceOf(Float32Array);
      expect(x.data.every(Number.isFinite)).toBe(true);
      const expected = moments(name);
      for (const axis of [0, 1]) {
        const s = columnStats(x, axis);
        const sigma = Math.sqrt(expected.variance[axis]);
        expect(Math.abs(s.mean - expected.mean[axis])).toBeLessThan((4 * sigma) / Math.sqrt(N));
        // Delta method: sd(ŝ) ≈ √((μ₄ − σ⁴)/n) / (2σ).
        const seStd = Math.sqrt((s.m4 - s.variance ** 2) / N) / (2 * sigma);
        expect(Math.abs(Math.sqrt(s.variance) - sigma)).toBeLessThan(4 * seStd);
      }
    });
  }

  it("checkerboard: every point lies in a filled square of [−4, 4]², each of the 8 squares with frequency 1/8", () => {
    const x = TOYS.checkerboard(key, N);
    const counts = new Map<string, number>();
    let outside = 0;
    for (let i = 0; i < N; i++) {
      const [px, py] = [x.data[2 * i], x.data[2 * i + 1]];
      const [cx, cy] = [Math.floor(px / 2), Math.floor(py / 2)];
      if (Math.abs(px) > 4 || Math.abs(py) > 4 || (((cx + cy) % 2) + 2) % 2 !== 0) outside++;
      counts.set(`${cx},${cy}`, (counts.get(`${cx},${cy}`) ?? 0) + 1);
    }
    expect(outside).toBe(0);
    expect(counts.size).toBe(8);
    const se = Math.sqrt(N * (1 / 8) * (7 / 8));
    for (const c of counts.values()) expect(Math.abs(c - N / 8)).toBeLessThan(4 * se);
  });

  it("pinwheel: the polar angle of a point is −(2πc/5 + 0.25·exp(r)) for its radius r = |p|/2, up to the tangential noise", () => {
    const x = TOYS.pinwheel(key, N);
    const arm = (2 * Math.PI) / 5;
    let total = 0;
    for (let i = 0; i < N; i++) {
      const [px, py] = [x.data[2 * i], x.data[2 * i + 1]];
      const residual = -Math.atan2(py, px) - 0.25 * Math.exp(Math.hypot(px, py) / 2);
      total += Math.abs(residual - arm * Math.round(residual / arm));
    }
    // |residual| ≈ |f₂/f₁| ≈ 0.1·|ε₂|, mean ≈ 0.08; the opposite curl would give ≈ 0.3 (uniform over an arm).
    expect(total / N).toBeLessThan(0.12);
  });

  it("eightGaussians: the nearest centre is each of the eight with frequency 1/8", () => {
    const x = TOYS.eightGaussians(key, N);
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < N; i++) {
      const angle = Math.atan2(x.data[2 * i + 1], x.data[2 * i]);
      counts[(Math.round(angle / (Math.PI / 4)) + 8) % 8]++;
    }
    const se = Math.sqrt(N * (1 / 8) * (7 / 8));
    // Misassignment across the sector boundary is negligible: the centres are 2.83/0.35 ≈ 8 noise sds from it.
    for (const c of counts) expect(Math.abs(c - N / 8)).toBeLessThan(4 * se);
  });
});

describe("toyDataset", () => {
  it("draws the named toy", () => {
    for (const name of TOY_NAMES) {
      expect(orThrow(toyDataset(name, key, 10))).toEqual(TOYS[name](key, 10));
    }
  });

  it("rejects an unknown name and an n that is not an integer ≥ 1", () => {
    const bad = toyDataset("spirals", key, 10);
    expect(E.isLeft(bad) && bad.left.field).toBe("name");
    expect(E.isLeft(bad) && bad.left.message).toContain("checkerboard");
    for (const n of [0, -3, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const r = toyDataset("pinwheel", key, n);
      expect(E.isLeft(r) && r.left.field).toBe("n");
    }
  });
});
