import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { gridKarras, gridQuadratic, gridUniform, gridUniformIn, timeGrid } from "../../src/solvers/index.js";

const leftMessage = <A>(r: E.Either<{ readonly message: string }, A>): string =>
  E.isLeft(r) ? r.left.message : "<Right>";

describe("gridUniform", () => {
  it("t_k = t0 + (t1 − t0)·k/n with exact endpoints, length n + 1", () => {
    const ts = orThrow(gridUniform(0.1, 0.7, 3));
    expect(ts).toBeInstanceOf(Float64Array);
    expect(Array.from(ts)).toEqual([0.1, 0.1 + (0.6 * 1) / 3, 0.1 + (0.6 * 2) / 3, 0.7]);
    // (0.1 + 0.6 ≠ 0.7 in float64; the end is stored exactly regardless)
    expect(ts[3]).toBe(0.7);
  });

  it("runs backwards from T down to ε", () => {
    const ts = orThrow(gridUniform(1, 1e-3, 1000));
    expect(ts.length).toBe(1001);
    expect(ts[0]).toBe(1);
    expect(ts[1000]).toBe(1e-3);
    for (let k = 1; k <= 1000; k++) expect(ts[k]).toBeLessThan(ts[k - 1]);
    // No accumulated drift: the midpoint is exactly where the formula puts it
    expect(ts[500]).toBe(1 + ((1e-3 - 1) * 500) / 1000);
  });

  it("n = 1 is the two endpoints", () => {
    expect(Array.from(orThrow(gridUniform(-2, 3, 1)))).toEqual([-2, 3]);
  });

  it("rejects bad input with a named field", () => {
    expect(leftMessage(gridUniform(0, 1, 0))).toBe("gridUniform: n must be an integer ≥ 1, got n=0");
    expect(leftMessage(gridUniform(0, 1, 2.5))).toContain("n must be an integer ≥ 1");
    expect(leftMessage(gridUniform(Number.NaN, 1, 4))).toBe(
      "gridUniform: t0 must be a finite number, got t0=NaN",
    );
    expect(leftMessage(gridUniform(0, Number.POSITIVE_INFINITY, 4))).toContain("t1 must be a finite number");
    expect(leftMessage(gridUniform(1, 1, 4))).toBe("gridUniform: t1 must differ from t0, got t0=1, t1=1");
    // More steps than float64 can place between the endpoints
    expect(leftMessage(gridUniform(1, 1 + 4 * Number.EPSILON, 100))).toContain("strictly monotone");
  });
});

describe("gridQuadratic", () => {
  it("t_k = t0 + (t1 − t0)·(k/n)², densest at t0", () => {
    const ts = orThrow(gridQuadratic(0, 1, 4));
    expect(Array.from(ts)).toEqual([0, 1 / 16, 4 / 16, 9 / 16, 1]);
    const back = orThrow(gridQuadratic(1, 0.001, 10));
    expect(back[0]).toBe(1);
    expect(back[10]).toBe(0.001);
    for (let k = 1; k <= 10; k++) {
      expect(back[k]).toBeCloseTo(1 + (0.001 - 1) * (k / 10) ** 2, 15);
      if (k > 1) expect(back[k - 1] - back[k]).toBeGreaterThan(back[k - 2] - back[k - 1]);
    }
  });

  it("rejects bad input", () => {
    expect(leftMessage(gridQuadratic(0, 0, 3))).toContain("t1 must differ from t0");
    expect(leftMessage(gridQuadratic(0, 1, -1))).toContain("n must be an integer ≥ 1");
  });
});

describe("gridKarras (Karras et al. 2022, eq. 5)", () => {
  const eq5 = (sigmaMin: number, sigmaMax: number, rho: number, N: number, i: number): number =>
    (sigmaMax ** (1 / rho) + (i / (N - 1)) * (sigmaMin ** (1 / rho) - sigmaMax ** (1 / rho))) ** rho;

  it("matches eq. 5 pointwise, from σ_max to σ_min exactly (EDM defaults)", () => {
    const ts = orThrow(gridKarras({ sigmaMin: 0.002, sigmaMax: 80, n: 18 }));
    expect(ts.length).toBe(19);
    expect(ts[0]).toBe(80);
    expect(ts[18]).toBe(0.002);
    for (let i = 0; i <= 18; i++)
      expect(Math.abs(ts[i] - eq5(0.002, 80, 7, 19, i)) / ts[i]).toBeLessThan(1e-13);
  });

  it("appendZero: N = n points of eq. 5 then σ = 0 (k-diffusion get_sigmas_karras)", () => {
    const ts = orThrow(gridKarras({ sigmaMin: 0.1, sigmaMax: 10, n: 5, rho: 3, appendZero: true }));
    expect(ts.length).toBe(6);
    for (let i = 0; i < 5; i++) expect(Math.abs(ts[i] - eq5(0.1, 10, 3, 5, i)) / ts[i]).toBeLessThan(1e-13);
    expect(ts[4]).toBe(0.1);
    expect(ts[5]).toBe(0);
  });

  it("ρ = 1 is uniform in σ", () => {
    const ts = orThrow(gridKarras({ sigmaMin: 1, sigmaMax: 5, n: 4, rho: 1 }));
    expect(Array.from(ts)).toEqual([5, 4, 3, 2, 1]);
  });

  it("rejects bad input", () => {
    expect(leftMessage(gridKarras({ sigmaMin: 0, sigmaMax: 80, n: 10 }))).toBe(
      "gridKarras: sigmaMin must be a finite number > 0, got sigmaMin=0",
    );
    expect(leftMessage(gridKarras({ sigmaMin: 80, sigmaMax: 0.002, n: 10 }))).toBe(
      "gridKarras: sigmaMax must be > sigmaMin, got sigmaMin=80, sigmaMax=0.002",
    );
    expect(leftMessage(gridKarras({ sigmaMin: 1, sigmaMax: 1, n: 10 }))).toContain(
      "sigmaMax must be > sigmaMin",
    );
    expect(leftMessage(gridKarras({ sigmaMin: 0.1, sigmaMax: 1, n: 10, rho: -7 }))).toContain(
      "rho must be a finite number > 0",
    );
    expect(leftMessage(gridKarras({ sigmaMin: 0.1, sigmaMax: 1, n: 10, rho: Number.NaN }))).toContain("rho");
    expect(leftMessage(gridKarras({ sigmaMin: 0.1, sigmaMax: 1, n: 1, appendZero: true }))).toBe(
      "gridKarras: n must be ≥ 2 when appendZero is set, got n=1",
    );
    expect(leftMessage(gridKarras({ sigmaMin: 0.1, sigmaMax: Number.POSITIVE_INFINITY, n: 3 }))).toContain(
      "sigmaMax",
    );
  });
});

describe("gridUniformIn", () => {
  it("is uniform in φ: a log-SNR-like log grid is geometric in t", () => {
    const ts = orThrow(gridUniformIn(Math.log, Math.exp, 1e-3, 1, 3));
    expect(ts[0]).toBe(1e-3);
    expect(ts[3]).toBe(1);
    expect(ts[1]).toBeCloseTo(1e-2, 15);
    expect(ts[2]).toBeCloseTo(1e-1, 15);
  });

  it("works with a decreasing φ and backwards time (VP log-SNR, T → ε)", () => {
    // VP with β(t) = 0.1 + 19.9t: λ(t) = −log(e^{B(t)} − 1), B(t) = 0.1t + 9.95t²
    const B = (t: number): number => 0.1 * t + 9.95 * t * t;
    const lambda = (t: number): number => -Math.log(Math.expm1(B(t)));
    const lambdaInverse = (l: number): number => {
      const b = Math.log1p(Math.exp(-l));
      return (-0.1 + Math.sqrt(0.01 + 4 * 9.95 * b)) / (2 * 9.95);
    };
    const ts = orThrow(gridUniformIn(lambda, lambdaInverse, 1, 1e-3, 20));
    const l0 = lambda(1);
    const l1 = lambda(1e-3);
    for (let k = 0; k <= 20; k++) expect(lambda(ts[k])).toBeCloseTo(l0 + ((l1 - l0) * k) / 20, 8);
    for (let k = 1; k <= 20; k++) expect(ts[k]).toBeLessThan(ts[k - 1]);
  });

  it("rejects a wrong inverse, a flat or non-finite φ, and a φ not invertible on [t0, t1]", () => {
    expect(leftMessage(gridUniformIn(Math.log, Math.sqrt, 1, 2, 4))).toContain(
      "phiInverse must invert phi at t0 and t1",
    );
    expect(
      leftMessage(
        gridUniformIn(
          () => 3,
          (p) => p,
          0,
          1,
          4,
        ),
      ),
    ).toContain("phi must be finite and differ");
    expect(leftMessage(gridUniformIn(Math.log, Math.exp, 0, 1, 4))).toContain("phi must be finite");
    // sin is not monotone on [0, 3]: asin(sin 3) ≠ 3
    expect(leftMessage(gridUniformIn((t) => Math.sin(t), Math.asin, 0, 3, 8))).toContain("phiInverse");
  });
});

describe("timeGrid", () => {
  it("copies a valid grid into a Float64Array", () => {
    const input = [3, 2, 0.5];
    const ts = orThrow(timeGrid(input));
    expect(ts).toBeInstanceOf(Float64Array);
    expect(Array.from(ts)).toEqual(input);
  });

  it("rejects short, non-finite and non-monotone grids", () => {
    expect(leftMessage(timeGrid([1]))).toBe("timeGrid: grid must hold at least 2 times, got grid.length=1");
    expect(leftMessage(timeGrid([0, Number.NaN, 1]))).toBe(
      "timeGrid: grid[1] must be finite, got grid[1]=NaN",
    );
    expect(leftMessage(timeGrid([0, 0.5, 0.5, 1]))).toBe(
      "timeGrid: grid[2] must continue the strictly monotone direction of grid[0] → grid[1], got grid[1]=0.5, grid[2]=0.5",
    );
    expect(leftMessage(timeGrid([0, 1, 0.5]))).toContain("grid[2]");
    expect(leftMessage(timeGrid([2, 2]))).toContain("grid[1]");
  });
});
