import fc from "fast-check";
import { describe, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { type BetaScheduleKind, ddpmPosterior, ddpmSchedule } from "../../src/discrete/index.js";

/** A random valid schedule, a timestep t ≥ 1 and a previous timestep s ∈ [−1, t − 1] (adjacent half the time). */
const caseArb = fc
  .record({
    kind: fc.constantFrom<BetaScheduleKind>("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid"),
    numTrainTimesteps: fc.integer({ min: 2, max: 1000 }),
    betaStart: fc.double({ min: 1e-6, max: 0.05, noNaN: true }),
    u: fc.double({ min: 0, max: 1, noNaN: true }),
    tu: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    su: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    adjacent: fc.boolean(),
  })
  .map(({ u, tu, su, adjacent, ...o }) => {
    const schedule = orThrow(ddpmSchedule({ ...o, betaEnd: o.betaStart + u * (0.2 - o.betaStart) }));
    const t = 1 + Math.floor(tu * (o.numTrainTimesteps - 1));
    const prev = adjacent ? t - 1 : -1 + Math.floor(su * (t + 1));
    return { schedule, t, prev };
  });

const close = (a: number, b: number, rel: number): boolean => Math.abs(a - b) <= rel * Math.abs(b);

describe("posterior properties (Ho et al. 2020, eq. 6–7)", () => {
  it("equals Bayes' rule: N(√ᾱ_s x_0, 1 − ᾱ_s) × N(x_t; √a x_s, 1 − a), a = ᾱ_t/ᾱ_s, normalized", () => {
    fc.assert(
      fc.property(caseArb, ({ schedule, t, prev }) => {
        if (prev < 0) return true; // the point mass at x_0, checked by the identities below
        const abS = schedule.alphaBars[prev];
        const a = prev === t - 1 ? schedule.alphas[t] : schedule.alphaBars[t] / abS;
        // naive 1 − ᾱ_s, 1 − a: relative error ≤ 2⁻⁵⁴/β_min ≈ 6e-11 for β ≥ 1e-6, hence 1e-9
        const precision = 1 / (1 - abS) + a / (1 - a);
        const p = orThrow(ddpmPosterior(schedule, t, prev));
        return (
          close(p.variance, 1 / precision, 1e-9) &&
          close(p.x0Coeff, Math.sqrt(abS) / (1 - abS) / precision, 1e-9) &&
          close(p.xtCoeff, Math.sqrt(a) / (1 - a) / precision, 1e-9)
        );
      }),
      { numRuns: 300 },
    );
  });

  it("is consistent with the marginals: c₀ + c_t·√ᾱ_t = √ᾱ_s and β̃ + c_t²·(1 − ᾱ_t) = 1 − ᾱ_s", () => {
    fc.assert(
      fc.property(caseArb, ({ schedule, t, prev }) => {
        const p = orThrow(ddpmPosterior(schedule, t, prev));
        const abS = prev < 0 ? 1 : schedule.alphaBars[prev];
        const uS = prev < 0 ? 0 : schedule.oneMinusAlphaBars[prev];
        const mean = p.x0Coeff + p.xtCoeff * Math.sqrt(schedule.alphaBars[t]);
        const variance = p.variance + p.xtCoeff ** 2 * schedule.oneMinusAlphaBars[t];
        return close(mean, Math.sqrt(abS), 1e-12) && Math.abs(variance - uS) <= 1e-9 * uS;
      }),
      { numRuns: 300 },
    );
  });

  it("has 0 ≤ β̃ ≤ min(β_{t|s}, 1 − ᾱ_s), c₀ ≥ 0 and 0 ≤ c_t < 1", () => {
    fc.assert(
      fc.property(caseArb, ({ schedule, t, prev }) => {
        const p = orThrow(ddpmPosterior(schedule, t, prev));
        const uS = prev < 0 ? 0 : schedule.oneMinusAlphaBars[prev];
        const betaTS = 1 - schedule.alphaBars[t] / (prev < 0 ? 1 : schedule.alphaBars[prev]);
        const slack = 1 + 1e-9;
        return (
          p.variance >= 0 &&
          p.variance <= Math.min(betaTS, uS) * slack &&
          p.x0Coeff >= 0 &&
          p.xtCoeff >= 0 &&
          p.xtCoeff < 1
        );
      }),
      { numRuns: 300 },
    );
  });
});
