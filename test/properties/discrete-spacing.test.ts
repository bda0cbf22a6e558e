import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { ddpmTimesteps, type TimestepSpacing } from "../../src/discrete/index.js";
import { linspace, roundHalfEven } from "../../src/discrete/numpy.js";

const spacingArb = fc.constantFrom<TimestepSpacing>("linspace", "leading", "trailing");

/** T in 1…5000, N in 1…T, and for "leading" a valid stepsOffset. */
const caseArb = fc
  .record({
    T: fc.integer({ min: 1, max: 5000 }),
    nu: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    ou: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    spacing: spacingArb,
  })
  .map(({ T, nu, ou, spacing }) => {
    const N = 1 + Math.floor(nu * T);
    const room = T - 1 - (N - 1) * Math.floor(T / N);
    return { T, N, spacing, stepsOffset: spacing === "leading" ? Math.floor(ou * (room + 1)) : 0 };
  });

describe("ddpmTimesteps properties", () => {
  it("N strictly decreasing indices in [0, T − 1], with each spacing's fixed ends", () => {
    fc.assert(
      fc.property(caseArb, ({ T, N, spacing, stepsOffset }) => {
        const ts = orThrow(
          ddpmTimesteps({ numTrainTimesteps: T, numInferenceSteps: N, spacing, stepsOffset }),
        );
        const shape =
          ts.length === N && ts.every((v, k) => v >= 0 && v <= T - 1 && (k === 0 || v < ts[k - 1]));
        const ends =
          spacing === "linspace"
            ? ts[N - 1] === 0 && (N === 1 || ts[0] === T - 1)
            : spacing === "trailing"
              ? ts[0] === T - 1
              : ts[N - 1] === stepsOffset &&
                ts.every((v, k) => k === 0 || ts[k - 1] - v === Math.floor(T / N));
        return shape && ends;
      }),
      { numRuns: 500 },
    );
  });

  it("N > T, or a leading offset past T − 1, is a Left", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 100 }),
        spacingArb,
        (T, extra, spacing) => {
          const tooMany = ddpmTimesteps({ numTrainTimesteps: T, numInferenceSteps: T + extra, spacing });
          const offset = ddpmTimesteps({
            numTrainTimesteps: T,
            numInferenceSteps: 1,
            spacing: "leading",
            stepsOffset: T - 1 + extra,
          });
          return E.isLeft(tooMany) && E.isLeft(offset) && offset.left.field === "stepsOffset";
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("NumPy primitives", () => {
  it("roundHalfEven: an integer within ½ of x, and even when exactly ½ away", () => {
    const halves = fc.integer({ min: -1e6, max: 1e6 }).map((k) => k + 0.5);
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: -1e9, max: 1e9, noNaN: true }), halves), (x) => {
        const r = roundHalfEven(x);
        const d = Math.abs(r - x);
        return Number.isInteger(r) && d <= 0.5 && (d < 0.5 || r % 2 === 0);
      }),
      { numRuns: 500 },
    );
  });

  it("linspace: num points, exact endpoint, i·step + start in between (NumPy's fallback when step underflows)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        fc.integer({ min: 2, max: 500 }),
        (start, stop, num) => {
          const y = linspace(start, stop, num);
          const step = (stop - start) / (num - 1);
          return (
            y.length === num &&
            y[num - 1] === stop &&
            y.every(
              (v, i) =>
                i === num - 1 || v === (step === 0 ? (i / (num - 1)) * (stop - start) : i * step) + start,
            )
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
