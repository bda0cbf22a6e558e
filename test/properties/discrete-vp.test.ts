import fc from "fast-check";
import { describe, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { ddpmIndexOfTime, ddpmTimeOfIndex, vpDdpmSchedule } from "../../src/discrete/index.js";

describe("VP correspondence properties (Song et al. 2021, App. B)", () => {
  it("β_i = β̄(i/(N − 1))/N to 1e-15 relative for random β_min ≤ β_max < N", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-3, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 60, max: 3000 }),
        (betaMin, u, N) => {
          const betaMax = betaMin + u * (50 - betaMin);
          const s = orThrow(vpDdpmSchedule({ betaMin, betaMax, numSteps: N }));
          return s.betas.every((b, i) => {
            const expected = (betaMin + (i / (N - 1)) * (betaMax - betaMin)) / N;
            return Math.abs(b / expected - 1) <= 1e-15;
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it("index → time → index is the identity", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 1e6 })
          .chain((N) => fc.tuple(fc.constant(N), fc.integer({ min: 0, max: N - 1 }))),
        ([N, i]) => orThrow(ddpmIndexOfTime(N, orThrow(ddpmTimeOfIndex(N, i)))) === i,
      ),
      { numRuns: 500 },
    );
  });
});
