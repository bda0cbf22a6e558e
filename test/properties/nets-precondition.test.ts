import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import {
  edmPreconditioning,
  preconditioningCoefficients,
  vePreconditioning,
  vpPreconditioning,
} from "../../src/nets/precondition.js";

const sigma = fc.double({ min: 1e-3, max: 100, noNaN: true });
const sigmaData = fc.double({ min: 0.05, max: 5, noNaN: true });

describe("EDM preconditioning (Karras et al. 2022, Table 1 and Appendix B.6)", () => {
  it("gives the network unit-variance input and unit-variance training target for data of std σ_d", () => {
    fc.assert(
      fc.property(sigma, sigmaData, (s, d) => {
        const c = preconditioningCoefficients(orThrow(edmPreconditioning(d)), s);
        // Var(c_in·(y + n)) = c_in²(σ_d² + σ²); target F* = (y − c_skip(y + n))/c_out has
        // Var = ((1 − c_skip)²σ_d² + c_skip²σ²)/c_out².
        const inputVariance = c.cIn ** 2 * (d * d + s * s);
        const targetVariance = ((1 - c.cSkip) ** 2 * d * d + c.cSkip ** 2 * s * s) / c.cOut ** 2;
        expect(inputVariance).toBeCloseTo(1, 10);
        expect(targetVariance).toBeCloseTo(1, 10);
        expect(c.cNoise).toBeCloseTo(Math.log(s) / 4, 12);
      }),
    );
  });

  it("makes c_skip the optimal skip weight: it minimizes the target variance over c_skip", () => {
    fc.assert(
      fc.property(sigma, sigmaData, (s, d) => {
        const c = preconditioningCoefficients(orThrow(edmPreconditioning(d)), s);
        // d/dc [(1 − c)²σ_d² + c²σ²] = 0 at c = σ_d²/(σ² + σ_d²).
        return Math.abs(c.cSkip * (s * s + d * d) - d * d) <= 1e-12 * (s * s + d * d);
      }),
    );
  });

  it("at σ = σ_d: c_skip = ½, c_out = σ_d/√2, c_in = 1/(σ_d√2)", () => {
    const c = preconditioningCoefficients(orThrow(edmPreconditioning(0.5)), 0.5);
    expect(c.cSkip).toBeCloseTo(0.5, 15);
    expect(c.cOut).toBeCloseTo(0.5 / Math.SQRT2, 15);
    expect(c.cIn).toBeCloseTo(1 / (0.5 * Math.SQRT2), 14);
  });

  it("refuses σ_d ≤ 0", () => {
    const bad = edmPreconditioning(0);
    expect(E.isLeft(bad) && bad.left.field).toBe("sigmaData");
  });
});

describe("VP and VE preconditioning", () => {
  it("VP: c_noise = (M − 1)·t inverts σ(t) = √(exp(½β_d t² + β_min t) − 1)", () => {
    const p = orThrow(vpPreconditioning(0.1, 19.9));
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1, noNaN: true }), (t) => {
        const s = Math.sqrt(Math.expm1(0.5 * 19.8 * t * t + 0.1 * t));
        const c = preconditioningCoefficients(p, s);
        expect(c.cNoise / 999).toBeCloseTo(t, 10);
        expect(c.cOut).toBe(-s);
        expect(c.cSkip).toBe(1);
        return Math.abs(c.cIn - 1 / Math.sqrt(1 + s * s)) < 1e-15;
      }),
    );
  });

  it("VE: D = x̂ + σ·F with input unscaled and c_noise = ln(σ/2)", () => {
    fc.assert(
      fc.property(sigma, (s) => {
        const c = preconditioningCoefficients(vePreconditioning, s);
        return c.cSkip === 1 && c.cOut === s && c.cIn === 1 && Math.abs(c.cNoise - Math.log(s / 2)) < 1e-15;
      }),
    );
  });

  it("refuses β_max ≤ β_min and non-integer step counts", () => {
    expect(E.isLeft(vpPreconditioning(1, 0.5))).toBe(true);
    expect(E.isLeft(vpPreconditioning(0.1, 20, 2.5))).toBe(true);
  });
});
