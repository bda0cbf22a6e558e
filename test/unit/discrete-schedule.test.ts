import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { type DdpmScheduleOptions, ddpmSchedule } from "../../src/discrete/index.js";

/** The message of a Left, or a marker that makes the assertion fail on a Right. */
const leftMessage = <A>(r: E.Either<{ readonly message: string }, A>): string =>
  E.isLeft(r) ? r.left.message : "<Right>";

/** Nichol & Dhariwal (2021) eq. 17: f(τ) = cos²((τ + s)/(1 + s)·π/2), s = 0.008. */
const cosineF = (tau: number): number => Math.cos(((tau + 0.008) / 1.008) * (Math.PI / 2)) ** 2;

describe("ddpmSchedule: linear (Ho et al. 2020, §4)", () => {
  const s = orThrow(ddpmSchedule());

  it("defaults to diffusers' DDPMScheduler: linear, T = 1000, 1e-4 … 0.02, with exact endpoints", () => {
    expect(s.kind).toBe("linear");
    expect(s.betas.length).toBe(1000);
    expect(s.betas[0]).toBe(1e-4);
    expect(s.betas[999]).toBe(0.02);
  });

  it("is NumPy's linspace: β_i = i·((β_end − β_start)/(T − 1)) + β_start, bit for bit", () => {
    const step = (0.02 - 1e-4) / 999;
    for (let i = 0; i < 999; i++) expect(s.betas[i]).toBe(i * step + 1e-4);
    // by hand: β_1 = 1e-4 + 0.0199/999 = 1.19919919…e-4
    expect(s.betas[1]).toBeCloseTo(1.1991991991991992e-4, 18);
  });

  it("has α = 1 − β and ᾱ = the running product, computed independently", () => {
    let product = 1;
    for (let t = 0; t < 1000; t++) {
      expect(s.alphas[t]).toBe(1 - s.betas[t]);
      product *= 1 - s.betas[t];
      expect(s.alphaBars[t]).toBe(product);
    }
  });

  it("ends at ᾱ_999 = exp Σ log(1 − β_i) ≈ 4.04e-5 (the DDPM terminal signal power)", () => {
    let logSum = 0;
    for (const b of s.betas) logSum += Math.log1p(-b);
    expect(Math.abs(s.alphaBars[999] / Math.exp(logSum) - 1)).toBeLessThan(1e-12);
    expect(s.alphaBars[999]).toBeGreaterThan(4.0e-5);
    expect(s.alphaBars[999]).toBeLessThan(4.1e-5);
  });

  it("stores 1 − ᾱ without cancellation: exactly β_0 at t = 0, and 1 − ᾱ_t to 1e-15 elsewhere", () => {
    expect(s.oneMinusAlphaBars[0]).toBe(s.betas[0]);
    for (let t = 0; t < 1000; t++)
      expect(Math.abs(s.oneMinusAlphaBars[t] - (1 - s.alphaBars[t]))).toBeLessThan(1e-15);
  });
});

describe("ddpmSchedule: other kinds", () => {
  it("scaled_linear is linspace(√β_start, √β_end, T)²: √β affine in the index", () => {
    const s = orThrow(ddpmSchedule({ kind: "scaled_linear", betaStart: 0.00085, betaEnd: 0.012 }));
    expect(s.kind).toBe("scaled_linear");
    expect(Math.abs(s.betas[0] / 0.00085 - 1)).toBeLessThan(3e-16);
    expect(Math.abs(s.betas[999] / 0.012 - 1)).toBeLessThan(3e-16);
    const root = (i: number): number => Math.sqrt(s.betas[i]);
    for (let i = 1; i < 999; i++)
      expect(Math.abs(root(i + 1) - 2 * root(i) + root(i - 1))).toBeLessThan(1e-16);
  });

  it("squaredcos_cap_v2 telescopes to ᾱ_t = f((t + 1)/T)/f(0) while uncapped, and caps β at 0.999", () => {
    const T = 1000;
    const s = orThrow(ddpmSchedule({ kind: "squaredcos_cap_v2", numTrainTimesteps: T }));
    let capped = false;
    for (let t = 0; t < T; t++) {
      expect(s.betas[t]).toBeLessThanOrEqual(0.999);
      capped ||= s.betas[t] === 0.999;
      if (!capped)
        expect(Math.abs(s.alphaBars[t] / (cosineF((t + 1) / T) / cosineF(0)) - 1)).toBeLessThan(1e-11);
    }
    // f(1) = cos²(π/2) ≈ 4e-33, so the last β is 1 − f(1)/f(0.999) ≈ 1 and capped.
    expect(s.betas[T - 1]).toBe(0.999);
    expect(s.betas[0]).toBeCloseTo(1 - cosineF(1 / T) / cosineF(0), 15);
  });

  it("sigmoid is symmetric: β_i + β_{T−1−i} = β_start + β_end, and the middle β is their mean", () => {
    const T = 1001;
    const s = orThrow(
      ddpmSchedule({ kind: "sigmoid", numTrainTimesteps: T, betaStart: 1e-4, betaEnd: 0.02 }),
    );
    for (let i = 0; i < T; i++)
      expect(Math.abs(s.betas[i] + s.betas[T - 1 - i] - 0.0201)).toBeLessThan(1e-17);
    expect(s.betas[500]).toBeCloseTo(0.01005, 17);
    // sigmoid(±6) = 1/(1 + e^∓6)
    expect(s.betas[0]).toBeCloseTo(1e-4 + 0.0199 / (1 + Math.exp(6)), 17);
  });

  it("takes explicit βs (trainedBetas), of any length ≥ 1, as a copy", () => {
    const given = [0.1, 0.2, 0.3];
    const s = orThrow(ddpmSchedule({ betas: given }));
    expect(s.kind).toBe("trained");
    expect(Array.from(s.betas)).toEqual(given);
    expect(Array.from(s.alphaBars)).toEqual([0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.7]);
    expect(orThrow(ddpmSchedule({ betas: [0.5], numTrainTimesteps: 1 })).alphaBars[0]).toBe(0.5);
    // explicit βs win over a kind, as in diffusers
    const mixed = orThrow(
      ddpmSchedule({ betas: Float64Array.of(0.1, 0.2), kind: "sigmoid" } as DdpmScheduleOptions),
    );
    expect(mixed.kind).toBe("trained");
  });

  it("builds the smallest schedule, T = 2, for every kind", () => {
    for (const kind of ["linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid"] as const) {
      const s = orThrow(ddpmSchedule({ kind, numTrainTimesteps: 2 }));
      expect(s.betas.length).toBe(2);
      expect(s.alphaBars[1]).toBeLessThan(s.alphaBars[0]);
    }
  });
});

describe("ddpmSchedule: bad input is a Left that names the field", () => {
  const cases: ReadonlyArray<readonly [DdpmScheduleOptions, string]> = [
    [
      { numTrainTimesteps: 1 },
      "DDPM schedule: numTrainTimesteps must be an integer in [2, 16777216], got numTrainTimesteps=1",
    ],
    [
      { numTrainTimesteps: 1.5 },
      "numTrainTimesteps must be an integer in [2, 16777216], got numTrainTimesteps=1.5",
    ],
    [{ numTrainTimesteps: Number.NaN }, "got numTrainTimesteps=NaN"],
    [{ numTrainTimesteps: Number.POSITIVE_INFINITY }, "got numTrainTimesteps=Infinity"],
    [{ numTrainTimesteps: -10 }, "got numTrainTimesteps=-10"],
    [{ numTrainTimesteps: 2 ** 24 + 1 }, "got numTrainTimesteps=16777217"],
    [
      { betaStart: Number.NaN },
      "DDPM schedule: betaStart must lie in the open interval (0, 1), got betaStart=NaN",
    ],
    [{ betaStart: -1e-4 }, "betaStart must lie in the open interval (0, 1), got betaStart=-0.0001"],
    [{ betaStart: 0 }, "got betaStart=0"],
    [{ betaEnd: 1 }, "betaEnd must lie in the open interval (0, 1), got betaEnd=1"],
    [{ betaEnd: Number.NEGATIVE_INFINITY }, "got betaEnd=-Infinity"],
    [
      { betaStart: 0.02, betaEnd: 1e-4 },
      "DDPM schedule: betaEnd must be ≥ betaStart, got betaStart=0.02, betaEnd=0.0001",
    ],
    [{ kind: "squaredcos_cap_v2", betaStart: Number.NaN }, "got betaStart=NaN"],
    [{ kind: "cosine" } as unknown as DdpmScheduleOptions, 'kind must be one of "linear", "scaled_linear"'],
    [{ betas: [] }, "DDPM schedule: betas.length must be an integer in [1, 16777216], got betas.length=0"],
    [{ betas: [0.1, Number.NaN] }, "betas[1] must lie in the open interval (0, 1), got betas[1]=NaN"],
    [{ betas: [0.1, 1] }, "got betas[1]=1"],
    [{ betas: [0, 0.1] }, "got betas[0]=0"],
    [{ betas: [0.1, -0.2] }, "got betas[1]=-0.2"],
    [
      { betas: [0.1, 0.2], numTrainTimesteps: 1000 },
      "numTrainTimesteps must equal betas.length when betas are given",
    ],
    // float64 limits: α = 1 − 1e-17 rounds to 1; 0.1^2000 underflows to 0
    [
      { betas: [0.1, 1e-17] },
      "betas[1] must exceed 2⁻⁵⁴ so that α = 1 − β < 1 in float64, got betas[1]=1e-17",
    ],
    [
      { numTrainTimesteps: 2000, betaStart: 0.9, betaEnd: 0.9 },
      "must be > 0 (the product ∏ α_i underflowed)",
    ],
    // ᾱ_102 ≈ 1e-309 is subnormal: ᾱ_102·β_103 is below half its ulp, so ᾱ_103 = ᾱ_102
    [{ betas: [...Array<number>(103).fill(0.999), 1e-15] }, "alphaBars[103] must be < alphaBars[102]"],
  ];
  it.each(cases)("%o", (options, message) => {
    expect(leftMessage(ddpmSchedule(options))).toContain(message);
  });
});
