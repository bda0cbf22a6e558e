import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { ddpmClippedLogVariance, ddpmPosterior, ddpmSchedule } from "../../src/discrete/index.js";

const leftMessage = <A>(r: E.Either<{ readonly message: string }, A>): string =>
  E.isLeft(r) ? r.left.message : "<Right>";

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

/**
 * Bayes by hand: prior x_s | x_0 ~ N(√ᾱ_s·x_0, 1 − ᾱ_s) times the likelihood x_t | x_s ~ N(√a·x_s, 1 − a),
 * a = ᾱ_t/ᾱ_s, normalized. Precision P = 1/(1 − ᾱ_s) + a/(1 − a); mean = (√ᾱ_s x_0/(1 − ᾱ_s) + √a x_t/(1 − a))/P.
 * Uses the naive 1 − ᾱ of the stored ᾱ, whose relative error is ≤ 2⁻⁵³/(1 − ᾱ) ≲ 1e-12 here: tolerance 1e-10.
 */
const bayes = (alphaBarS: number, alphaBarT: number, a = alphaBarT / alphaBarS) => {
  const precision = 1 / (1 - alphaBarS) + a / (1 - a);
  return {
    x0Coeff: Math.sqrt(alphaBarS) / (1 - alphaBarS) / precision,
    xtCoeff: Math.sqrt(a) / (1 - a) / precision,
    variance: 1 / precision,
  };
};

describe("ddpmPosterior: q(x_{t−1} | x_t, x_0) (Ho et al. 2020, eq. 6–7)", () => {
  for (const kind of ["linear", "squaredcos_cap_v2"] as const) {
    it(`${kind}: equals the product of Gaussians q(x_t | x_{t−1})·q(x_{t−1} | x_0), normalized`, () => {
      const s = orThrow(ddpmSchedule({ kind }));
      for (let t = 1; t < 1000; t++) {
        const p = orThrow(ddpmPosterior(s, t));
        const q = bayes(s.alphaBars[t - 1], s.alphaBars[t], s.alphas[t]);
        expect(relErr(p.x0Coeff, q.x0Coeff)).toBeLessThan(1e-10);
        expect(relErr(p.xtCoeff, q.xtCoeff)).toBeLessThan(1e-10);
        expect(relErr(p.variance, q.variance)).toBeLessThan(1e-10);
      }
    });
  }

  it("is the point mass at x_0 at t = 0 (ᾱ_{−1} = 1): c₀ = 1, c_t = 0, β̃_0 = 0 exactly", () => {
    const s = orThrow(ddpmSchedule({ betaStart: 3e-7 }));
    expect(orThrow(ddpmPosterior(s, 0))).toEqual({ x0Coeff: 1, xtCoeff: 0, variance: 0 });
    expect(ddpmClippedLogVariance(orThrow(ddpmPosterior(s, 0)))).toBe(Math.log(1e-20));
  });

  it("matches diffusers' coefficients in closed form at t = 1 of the default schedule", () => {
    const s = orThrow(ddpmSchedule());
    const [b0, b1] = [s.betas[0], s.betas[1]];
    // ᾱ_0 = 1 − β_0, 1 − ᾱ_0 = β_0, 1 − ᾱ_1 = β_0 + β_1 − β_0β_1
    const c = b0 + b1 - b0 * b1;
    const p = orThrow(ddpmPosterior(s, 1));
    expect(relErr(p.x0Coeff, (Math.sqrt(1 - b0) * b1) / c)).toBeLessThan(1e-14);
    expect(relErr(p.xtCoeff, (Math.sqrt(1 - b1) * b0) / c)).toBeLessThan(1e-14);
    expect(relErr(p.variance, (b0 / c) * b1)).toBeLessThan(1e-14);
  });

  it("strided (prev = s < t − 1): Bayes with the multi-step kernel α_{t|s} = ᾱ_t/ᾱ_s (Nichol & Dhariwal, eq. 19–20)", () => {
    const s = orThrow(ddpmSchedule());
    for (const [t, prev] of [
      [999, 899],
      [500, 250],
      [100, 0],
      [37, 3],
    ] as const) {
      const p = orThrow(ddpmPosterior(s, t, prev));
      const q = bayes(s.alphaBars[prev], s.alphaBars[t]);
      expect(relErr(p.x0Coeff, q.x0Coeff)).toBeLessThan(1e-10);
      expect(relErr(p.xtCoeff, q.xtCoeff)).toBeLessThan(1e-10);
      expect(relErr(p.variance, q.variance)).toBeLessThan(1e-10);
    }
    // prev = −1 jumps straight to x_0
    expect(orThrow(ddpmPosterior(s, 400, -1))).toEqual({ x0Coeff: 1, xtCoeff: 0, variance: 0 });
  });

  it("agrees with the ratio form ᾱ_t/ᾱ_{t−1} for the adjacent step (stored α_t is the same number)", () => {
    const s = orThrow(ddpmSchedule({ kind: "scaled_linear", betaStart: 0.00085, betaEnd: 0.012 }));
    for (let t = 1; t < 1000; t += 37) {
      const p = orThrow(ddpmPosterior(s, t));
      const q = bayes(s.alphaBars[t - 1], s.alphaBars[t]);
      expect(relErr(p.variance, q.variance)).toBeLessThan(1e-9);
      expect(relErr(p.x0Coeff, q.x0Coeff)).toBeLessThan(1e-9);
    }
  });

  it("ddpmClippedLogVariance is log β̃ wherever β̃ > 1e-20", () => {
    const s = orThrow(ddpmSchedule());
    for (const t of [1, 2, 500, 999]) {
      const p = orThrow(ddpmPosterior(s, t));
      expect(ddpmClippedLogVariance(p)).toBe(Math.log(p.variance));
    }
  });

  it("rejects bad t and prev with a Left that names the field", () => {
    const s = orThrow(ddpmSchedule({ numTrainTimesteps: 10 }));
    expect(leftMessage(ddpmPosterior(s, 10))).toBe(
      "DDPM posterior: t must be an integer in [0, 9], got t=10",
    );
    expect(leftMessage(ddpmPosterior(s, Number.NaN))).toBe(
      "DDPM posterior: t must be an integer in [0, 9], got t=NaN",
    );
    expect(leftMessage(ddpmPosterior(s, 5, 5))).toBe(
      "DDPM posterior: prev must be an integer in [-1, 4], got prev=5",
    );
    expect(leftMessage(ddpmPosterior(s, 5, -2))).toContain("got prev=-2");
    expect(leftMessage(ddpmPosterior(s, 5, 2.5))).toContain("got prev=2.5");
  });
});
