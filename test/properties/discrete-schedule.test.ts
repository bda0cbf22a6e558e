import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import {
  type BetaScheduleKind,
  type DdpmSchedule,
  ddpmClippedLogVariance,
  ddpmForwardStep,
  ddpmMarginal,
  ddpmPosterior,
  ddpmSchedule,
} from "../../src/discrete/index.js";

const kindArb = fc.constantFrom<BetaScheduleKind>("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid");

/** Valid options: T in 2…2000, 1e-6 ≤ β_start ≤ β_end ≤ 0.2 (ᾱ_{T−1} ≥ 0.8²⁰⁰⁰ ≈ 1e-194, no underflow). */
const validOptions = fc
  .record({
    kind: kindArb,
    numTrainTimesteps: fc.integer({ min: 2, max: 2000 }),
    betaStart: fc.double({ min: 1e-6, max: 0.05, noNaN: true }),
    u: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ u, ...o }) => ({ ...o, betaEnd: o.betaStart + u * (0.2 - o.betaStart) }));

/** The invariants every schedule must satisfy, ᾱ recomputed independently as a running product. */
const invariantsHold = (s: DdpmSchedule): boolean => {
  const T = s.betas.length;
  let product = 1;
  for (let t = 0; t < T; t++) {
    product *= 1 - s.betas[t];
    const ok =
      s.betas[t] > 0 &&
      s.betas[t] < 1 &&
      s.alphas[t] === 1 - s.betas[t] &&
      s.alphaBars[t] === product &&
      s.alphaBars[t] > 0 &&
      s.alphaBars[t] < (t === 0 ? 1 : s.alphaBars[t - 1]) &&
      s.oneMinusAlphaBars[t] > 0 &&
      s.oneMinusAlphaBars[t] <= 1 &&
      // both carry ≤ t roundings of relative size 2⁻⁵³ (products for ᾱ, sums for 1 − ᾱ)
      Math.abs(s.oneMinusAlphaBars[t] - (1 - s.alphaBars[t])) <= (t + 1) * 2 ** -52;
    if (!ok) return false;
  }
  return true;
};

/** Everything the forward process and posterior return at t = 0 and t = T − 1 is finite. */
const finiteAtEnds = (s: DdpmSchedule): boolean =>
  [0, s.betas.length - 1].every((t) => {
    const step = orThrow(ddpmForwardStep(s, t));
    const marginal = orThrow(ddpmMarginal(s, t));
    const posterior = orThrow(ddpmPosterior(s, t));
    return [
      step.scale,
      step.std,
      marginal.scale,
      marginal.std,
      posterior.x0Coeff,
      posterior.xtCoeff,
      posterior.variance,
      ddpmClippedLogVariance(posterior),
    ].every(Number.isFinite);
  });

describe("ddpmSchedule properties", () => {
  it("every kind, random T and β range: ᾱ strictly decreasing in (0, 1), = ∏ α_i, finite at both ends", () => {
    fc.assert(
      fc.property(validOptions, (options) => {
        const s = orThrow(ddpmSchedule(options));
        expect(s.kind).toBe(options.kind);
        expect(s.betas.length).toBe(options.numTrainTimesteps);
        expect(invariantsHold(s)).toBe(true);
        expect(finiteAtEnds(s)).toBe(true);
        if (options.kind === "squaredcos_cap_v2") expect(s.betas.every((b) => b <= 0.999)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it("linear and scaled_linear hit β_start and β_end (to one rounding of the square)", () => {
    fc.assert(
      fc.property(validOptions, ({ numTrainTimesteps: T, betaStart, betaEnd }) => {
        const linear = orThrow(ddpmSchedule({ kind: "linear", numTrainTimesteps: T, betaStart, betaEnd }));
        const scaled = orThrow(
          ddpmSchedule({ kind: "scaled_linear", numTrainTimesteps: T, betaStart, betaEnd }),
        );
        return (
          linear.betas[0] === betaStart &&
          linear.betas[T - 1] === betaEnd &&
          Math.abs(scaled.betas[0] / betaStart - 1) <= 3e-16 &&
          Math.abs(scaled.betas[T - 1] / betaEnd - 1) <= 3e-16
        );
      }),
      { numRuns: 100 },
    );
  });

  it("explicit βs in (0, 0.5] round-trip and satisfy the invariants", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-6, max: 0.5, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (betas) => {
          const s = orThrow(ddpmSchedule({ betas }));
          return (
            s.kind === "trained" && Array.from(s.betas).every((b, i) => b === betas[i]) && invariantsHold(s)
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it("any numbers at all (NaN, ±∞, negative, inverted): never throws; a Left names a field, a Right is valid", () => {
    const anyNumber = fc.oneof(
      fc.double(),
      fc.double({ min: 0, max: 1 }),
      fc.integer({ min: -5, max: 3000 }),
    );
    fc.assert(
      fc.property(kindArb, anyNumber, anyNumber, anyNumber, (kind, numTrainTimesteps, betaStart, betaEnd) => {
        const r = ddpmSchedule({ kind, numTrainTimesteps, betaStart, betaEnd });
        return E.isLeft(r)
          ? /^DDPM schedule: (numTrainTimesteps|betaStart|betaEnd|alphaBars\[\d+\]|betas\[\d+\]) /.test(
              r.left.message,
            )
          : invariantsHold(r.right);
      }),
      { numRuns: 300 },
    );
  });
});
