import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { type DdpmTimestepsOptions, ddpmTimesteps } from "../../src/discrete/index.js";

const leftMessage = <A>(r: E.Either<{ readonly message: string }, A>): string =>
  E.isLeft(r) ? r.left.message : "<Right>";

const steps = (options: DdpmTimestepsOptions): number[] => Array.from(orThrow(ddpmTimesteps(options)));

describe("ddpmTimesteps: diffusers' timestep_spacing, derived by hand", () => {
  it("T = 1000, N = 10", () => {
    // linspace(0, 999, 10) = 0, 111, …, 999 (step 111 exactly), reversed
    expect(steps({ numInferenceSteps: 10, spacing: "linspace" })).toEqual([
      999, 888, 777, 666, 555, 444, 333, 222, 111, 0,
    ]);
    // ⌊1000/10⌋ = 100: k·100, reversed (the default spacing)
    expect(steps({ numInferenceSteps: 10 })).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    expect(steps({ numInferenceSteps: 10, spacing: "leading", stepsOffset: 1 })).toEqual([
      901, 801, 701, 601, 501, 401, 301, 201, 101, 1,
    ]);
    // round(1000 − 100k) − 1
    expect(steps({ numInferenceSteps: 10, spacing: "trailing" })).toEqual([
      999, 899, 799, 699, 599, 499, 399, 299, 199, 99,
    ]);
  });

  it("rounds halves to even as NumPy does (Math.round would not)", () => {
    // linspace(0, 5, 3) = [0, 2.5, 5] → [0, 2, 5]
    expect(steps({ numTrainTimesteps: 6, numInferenceSteps: 3, spacing: "linspace" })).toEqual([5, 2, 0]);
    // arange(5, 0, −2.5) = [5, 2.5] → [5, 2] → −1
    expect(steps({ numTrainTimesteps: 5, numInferenceSteps: 2, spacing: "trailing" })).toEqual([4, 1]);
  });

  it("gives exactly N trailing steps where NumPy's arange gives N + 1 (T = 15, N = 13)", () => {
    // 15 − k·15/13 = 15, 13.85, 12.69, 11.54, 10.38, 9.23, 8.08, 6.92, 5.77, 4.62, 3.46, 2.31, 1.15
    expect(steps({ numTrainTimesteps: 15, numInferenceSteps: 13, spacing: "trailing" })).toEqual([
      14, 13, 12, 11, 9, 8, 7, 6, 5, 4, 2, 1, 0,
    ]);
  });

  it("T = 1000, N = 7 (uneven)", () => {
    // linspace(0, 999, 7): step 166.5 → 0, 166.5, 333, 499.5, 666, 832.5, 999 → halves to even: 166, 500, 832
    expect(steps({ numInferenceSteps: 7, spacing: "linspace" })).toEqual([999, 832, 666, 500, 333, 166, 0]);
    // ⌊1000/7⌋ = 142
    expect(steps({ numInferenceSteps: 7, spacing: "leading" })).toEqual([852, 710, 568, 426, 284, 142, 0]);
    // 1000 − k·142.857… = 1000, 857.14, 714.29, 571.43, 428.57, 285.71, 142.86
    expect(steps({ numInferenceSteps: 7, spacing: "trailing" })).toEqual([999, 856, 713, 570, 428, 285, 142]);
  });

  it("N = T visits every index; N = 1 a single one", () => {
    const all = Array.from({ length: 50 }, (_, k) => 49 - k);
    for (const spacing of ["linspace", "leading", "trailing"] as const) {
      expect(steps({ numTrainTimesteps: 50, numInferenceSteps: 50, spacing })).toEqual(all);
    }
    expect(steps({ numInferenceSteps: 1, spacing: "linspace" })).toEqual([0]);
    expect(steps({ numInferenceSteps: 1, spacing: "leading" })).toEqual([0]);
    expect(steps({ numInferenceSteps: 1, spacing: "trailing" })).toEqual([999]);
    expect(steps({ numTrainTimesteps: 1, numInferenceSteps: 1, spacing: "trailing" })).toEqual([0]);
  });

  it("returns an Int32Array", () => {
    expect(orThrow(ddpmTimesteps({ numInferenceSteps: 3 }))).toBeInstanceOf(Int32Array);
  });
});

describe("ddpmTimesteps: bad input is a Left that names the field", () => {
  const cases: ReadonlyArray<readonly [DdpmTimestepsOptions, string]> = [
    [
      { numInferenceSteps: 1001 },
      "DDPM timesteps: numInferenceSteps must be an integer in [1, numTrainTimesteps=1000], got numInferenceSteps=1001",
    ],
    [{ numInferenceSteps: 0 }, "got numInferenceSteps=0"],
    [{ numInferenceSteps: 2.5 }, "got numInferenceSteps=2.5"],
    [{ numInferenceSteps: Number.NaN }, "got numInferenceSteps=NaN"],
    [{ numInferenceSteps: 5, numTrainTimesteps: 0 }, "numTrainTimesteps must be an integer in [1, 16777216]"],
    [{ numInferenceSteps: 5, numTrainTimesteps: Number.POSITIVE_INFINITY }, "got numTrainTimesteps=Infinity"],
    [{ numInferenceSteps: 5, stepsOffset: -1 }, "stepsOffset must be an integer ≥ 0, got stepsOffset=-1"],
    [{ numInferenceSteps: 5, spacing: "trailing", stepsOffset: 0.5 }, "got stepsOffset=0.5"],
    [
      { numInferenceSteps: 10, stepsOffset: 100 },
      'stepsOffset must be ≤ 99 so that the largest "leading" timestep 900 + stepsOffset ≤ numTrainTimesteps − 1',
    ],
    [
      { numInferenceSteps: 10, spacing: "uniform" } as unknown as DdpmTimestepsOptions,
      'spacing must be one of "linspace", "leading", "trailing", got spacing="uniform"',
    ],
  ];
  it.each(cases)("%o", (options, message) => {
    expect(leftMessage(ddpmTimesteps(options))).toContain(message);
  });
});
