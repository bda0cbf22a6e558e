import { describe, expect, it } from "vitest";
import { adaptiveQuadrature, gaussKronrod15, quadratureConverged } from "../../src/sde/index.js";

const tight = { relative: 1e-13, absolute: 0 };

describe("gaussKronrod15", () => {
  it("integrates monomials exactly up to degree 22 (K15) and the error estimate vanishes up to degree 13 (G7)", () => {
    for (let n = 0; n <= 22; n++) {
      const r = gaussKronrod15((u) => u ** n, 0, 2);
      const exact = 2 ** (n + 1) / (n + 1);
      expect(Math.abs(r.value - exact) / exact).toBeLessThan(4e-15);
      if (n <= 13) expect(r.error / exact).toBeLessThan(4e-15);
    }
    const r23 = gaussKronrod15((u) => u ** 24, -1, 1);
    expect(Math.abs(r23.value - 2 / 25)).toBeGreaterThan(1e-12);
  });
  it("negates on a reversed interval and is 0 on an empty one; magnitude is ∫|h|", () => {
    expect(gaussKronrod15(Math.exp, 1, 0).value).toBeCloseTo(-(Math.E - 1), 14);
    expect(gaussKronrod15(Math.exp, 0.5, 0.5).value).toBe(0);
    const odd = gaussKronrod15(Math.sin, -Math.PI, Math.PI);
    expect(Math.abs(odd.value)).toBeLessThan(1e-15);
    expect(odd.magnitude).toBeGreaterThan(3.9); // K15 of |sin|, which has a kink at 0: ≈ 4
    const positive = gaussKronrod15(Math.sin, 0, Math.PI);
    expect(positive.magnitude).toBe(positive.value);
  });
});

describe("adaptiveQuadrature", () => {
  it.each([
    ["√u on [0, 1] (endpoint singularity of the derivative)", Math.sqrt, 0, 1, 2 / 3],
    ["Runge 1/(1+25u²) on [−1, 1]", (u: number) => 1 / (1 + 25 * u * u), -1, 1, (2 / 5) * Math.atan(5)],
    ["sin on [0, π]", Math.sin, 0, Math.PI, 2],
    [
      "a narrow peak e^{−10⁴(u−0.3)²} on [0, 1]",
      (u: number) => Math.exp(-1e4 * (u - 0.3) ** 2),
      0,
      1,
      Math.sqrt(Math.PI) / 100,
    ],
    ["(1−u)⁻³ near its pole, on [0, 0.999]", (u: number) => (1 - u) ** -3, 0, 0.999, 0.5 * (1e6 - 1)],
  ])("%s", (_, h, a, b, exact) => {
    const r = adaptiveQuadrature(h, a, b, tight);
    expect(Math.abs(r.value - exact) / exact).toBeLessThan(1e-12);
    expect(r.error).toBeLessThanOrEqual(1e-13 * Math.abs(r.value));
  });
  it("integrates across a jump to near machine precision", () => {
    const r = adaptiveQuadrature((u) => (u < 1 / 3 ? 1 : 2), 0, 1, tight);
    expect(Math.abs(r.value - 5 / 3)).toBeLessThan(1e-12);
  });
  it("stops at the interval budget and on non-finite values without throwing", () => {
    let calls = 0;
    const noisy = (u: number): number => {
      calls++;
      return Math.sin(1e6 * u);
    };
    adaptiveQuadrature(noisy, 0, 1, tight, 20);
    expect(calls).toBe(15 * (1 + 2 * 19));
    expect(adaptiveQuadrature(() => Number.NaN, 0, 1, tight).value).toBeNaN();
    expect(adaptiveQuadrature((u) => 1 / u, 0, 1, tight).value).toBeGreaterThan(0);
  });
  it("returns 0 with no error for an identically zero integrand", () => {
    expect(adaptiveQuadrature(() => 0, 0, 1, { relative: 1e-12, absolute: 0 })).toEqual({
      value: 0,
      error: 0,
      magnitude: 0,
    });
  });
});

describe("quadratureConverged", () => {
  it("compares the error with max(absolute, relative·|value|, roundoff)", () => {
    const estimate = { value: 2, error: 1e-6, magnitude: 2 };
    expect(quadratureConverged(estimate, { relative: 1e-6, absolute: 0 })).toBe(true);
    expect(quadratureConverged(estimate, { relative: 1e-7, absolute: 0 })).toBe(false);
    expect(quadratureConverged(estimate, { relative: 0, absolute: 1e-6 })).toBe(true);
    expect(quadratureConverged({ value: 0, error: 1e-15, magnitude: 1 }, { relative: 0, absolute: 0 })).toBe(
      true,
    );
  });
});
