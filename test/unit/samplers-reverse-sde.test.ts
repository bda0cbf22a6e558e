import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import { type GaussianMixture, mixtureOracle } from "../../src/oracle/index.js";
import { type DiffusionModel, denoiserOf, predictAs } from "../../src/samplers/model.js";
import {
  type ReverseSdeSamplerOptions,
  reverseSdeSteps,
  sampleReverseSde,
} from "../../src/samplers/reverse-sde.js";
import { edmSde, type LinearSde, subVpSde, veSde, vpSde } from "../../src/sde/index.js";
import { gridKarras, gridUniform, runSteps, type SolverStep, sdeHeun } from "../../src/solvers/index.js";
import {
  type Bias,
  distributionViolations,
  maxAbsDiff,
  mixture16,
  ring,
  scoreModel,
  space,
  standardNoise,
} from "../support/samplers-deterministic.js";
import { firstRows } from "../support/samplers-stochastic.js";

const vp = orThrow(vpSde());
const ve = orThrow(veSde());
const key = orThrow(rngKey(21));
const uniform = (sde: LinearSde, n: number): Float64Array => orThrow(gridUniform(sde.tMax, sde.tMin, n));

// -------------------------------------------------------------------------------------------------------------
// Distribution. Euler–Maruyama, 100 uniform steps. The discretization bias, measured with n = 20000 (ring) and
// n = 5000 (16-D) on the same grids: every mean, covariance entry and weight within 2.5 standard errors at that
// size (max |Δ mean|, |Δ cov|, |Δ weight| = 2.2e-2, 8.8e-3, 6.5e-3 on the VP ring; 2.5e-2, 3.2e-3, 6.1e-3 on the
// VE ring; 5.1e-2, 8.2e-2, 7.6e-3 in 16-D VP), so below one standard error at the sizes used here
// (n = 3000: SE ≈ 0.026 on the ring's mean, 0.006 on a weight; n = 1000 in 16-D). The allowances below cover
// that bias; the Monte-Carlo part is 4.5 SE (distributionViolations).
// With denoiseFinal the target is p₀: Tweedie's E[x₀ | x_tMin] shrinks each component's covariance by about
// σ(tMin)² ≈ 1.1e-4 (VP) and 1.7e-8 (VE), far below the allowance.
// -------------------------------------------------------------------------------------------------------------

describe("sampleReverseSde: distribution of the samples (exact oracle score)", () => {
  const cases: ReadonlyArray<
    readonly [name: string, sde: LinearSde, gm: GaussianMixture, n: number, denoise: boolean, bias: Bias]
  > = [
    ["ring, VP, denoised → p₀", vp, ring, 3000, true, { mean: 0.01, cov: 0.02, weights: 0.005 }],
    ["ring, VE, denoised → p₀", ve, ring, 3000, true, { mean: 0.01, cov: 0.02, weights: 0.005 }],
    [
      "16-D, VP, not denoised → p_tMin",
      vp,
      mixture16,
      1000,
      false,
      { mean: 0.02, cov: 0.05, weights: 0.005 },
    ],
  ];
  it.each(cases)("%s", (_name, sde, gm, n, denoiseFinal, bias) => {
    const result = orThrow(
      sampleReverseSde(space, sde, scoreModel(sde, gm), standardNoise(5, n, gm.dim), {
        grid: uniform(sde, 100),
        key,
        denoiseFinal,
      }),
    );
    const target = denoiseFinal ? gm : mixtureOracle(sde, gm).marginal(sde.tMin);
    expect(distributionViolations(result.y, target, bias)).toEqual([]);
    expect(result.nfe).toBe(denoiseFinal ? 101 : 100);
  });

  it("runs with stochastic Heun (sdeHeun) and on sub-VP and EDM SDEs", () => {
    // Heun, 50 steps on the VP ring: measured bias within 2.5 SE at n = 20000 (2.4e-2 on a covariance entry).
    const heun = orThrow(
      sampleReverseSde(space, vp, scoreModel(vp, ring), standardNoise(6, 2000, 2), {
        grid: uniform(vp, 50),
        key,
        solver: sdeHeun,
      }),
    );
    expect(distributionViolations(heun.y, ring, { mean: 0.01, cov: 0.02, weights: 0.005 })).toEqual([]);
    expect(heun.nfe).toBe(2 * 50 + 1);
    // EDM's time is σ ∈ [0.002, 80]: a uniform grid would jump from σ = 0.8 to 0.002 in its last step, so it
    // takes the Karras grid (ρ = 7) that its sampler uses.
    const edm = orThrow(edmSde());
    const grids: ReadonlyArray<readonly [LinearSde, Float64Array]> = [
      [orThrow(subVpSde()), orThrow(gridUniform(1, 1e-3, 100))],
      [edm, orThrow(gridKarras({ sigmaMin: edm.tMin, sigmaMax: edm.tMax, n: 100 }))],
    ];
    for (const [sde, grid] of grids) {
      const result = orThrow(
        sampleReverseSde(space, sde, scoreModel(sde, ring), standardNoise(7, 1500, 2), { grid, key }),
      );
      expect(distributionViolations(result.y, ring, { mean: 0.02, cov: 0.05, weights: 0.01 })).toEqual([]);
    }
  });
});

describe("sampleReverseSde: composition and determinism", () => {
  const sde = vp;
  const exact = scoreModel(sde, ring);
  const noise = standardNoise(8, 64, 2);
  const options: ReverseSdeSamplerOptions = { grid: uniform(sde, 20), key };

  it("gives the same samples for every parameterization of the same model", () => {
    const reference = orThrow(sampleReverseSde(space, sde, exact, noise, options)).y;
    const models: ReadonlyArray<DiffusionModel<Tensor64>> = [
      { parameterization: "eps", predict: predictAs(space, sde, exact, "eps") },
      { parameterization: "x0", predict: predictAs(space, sde, exact, "x0") },
      { parameterization: "v", predict: predictAs(space, sde, exact, "v") },
      { parameterization: "denoiser", denoise: denoiserOf(space, sde, exact) },
    ];
    for (const model of models) {
      const y = orThrow(sampleReverseSde(space, sde, model, noise, options)).y;
      expect(maxAbsDiff(y, reference)).toBeLessThan(1e-8);
    }
  });

  it("is a pure function of (noise, key), and a sample does not depend on its batch", () => {
    const a = orThrow(sampleReverseSde(space, sde, exact, noise, options)).y;
    const b = orThrow(sampleReverseSde(space, sde, exact, noise, options)).y;
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    const other = orThrow(
      sampleReverseSde(space, sde, exact, noise, { ...options, key: orThrow(rngKey(22)) }),
    ).y;
    expect(maxAbsDiff(other, a)).toBeGreaterThan(0.01);
    const small = orThrow(sampleReverseSde(space, sde, exact, firstRows(noise, 10), options)).y;
    expect(Array.from(small.data)).toEqual(Array.from(firstRows(a, 10).data));
  });

  it("yields one record per grid step plus the denoising step, ending at the one-call result", () => {
    const records: SolverStep<Tensor64>[] = [];
    const iterator = reverseSdeSteps(space, sde, exact, noise, options);
    let next = iterator.next();
    while (next.done !== true) {
      records.push(next.value);
      next = iterator.next();
    }
    const last = orThrow(next.value);
    expect(records.map((r) => r.step)).toEqual(Array.from({ length: 21 }, (_, k) => k + 1));
    expect(records.map((r) => r.t)).toEqual([...Array.from(options.grid).slice(1), 0]);
    expect(records.map((r) => r.nfe)).toEqual(records.map((r) => r.step));
    expect(last).toBe(records[20]);
    const solution = orThrow(sampleReverseSde(space, sde, exact, noise, options));
    expect(Array.from(solution.y.data)).toEqual(Array.from(last.y.data));
    expect([solution.steps, solution.nfe, solution.ts.length]).toEqual([21, 21, 22]);
  });

  it("denoises the last state by Tweedie's formula E[x₀ | x_t] = (x_t + σ²·∇log p_t)/s", () => {
    const [, raw] = orThrow(
      runSteps(reverseSdeSteps(space, sde, exact, noise, { ...options, denoiseFinal: false }), 1, noise),
    );
    expect([raw.step, raw.t]).toEqual([20, sde.tMin]);
    const denoised = orThrow(sampleReverseSde(space, sde, exact, noise, options)).y;
    const tweedie = mixtureOracle(sde, ring).denoiser(raw.y, sde.tMin);
    expect(maxAbsDiff(denoised, tweedie)).toBeLessThan(1e-12);
  });
});

describe("sampleReverseSde: bad input is a Left", () => {
  const model = scoreModel(vp, ring);
  const noise = standardNoise(9, 4, 2);
  const bad: ReadonlyArray<readonly [string, ReverseSdeSamplerOptions, Tensor64]> = [
    ["an increasing grid", { grid: orThrow(gridUniform(vp.tMin, vp.tMax, 10)), key }, noise],
    ["a grid beyond tMax", { grid: [1.5, 0.5, vp.tMin], key }, noise],
    ["a grid below tMin", { grid: [1, 0.5, 0], key }, noise],
    ["a one-point grid", { grid: [1], key }, noise],
    ["a NaN in the grid", { grid: [1, Number.NaN, 0.01], key }, noise],
    ["a missing key", { grid: uniform(vp, 10), key: undefined as never }, noise],
    ["a non-integer key word", { grid: uniform(vp, 10), key: { k0: 0.5, k1: 1 } }, noise],
    [
      "non-finite noise",
      { grid: uniform(vp, 10), key },
      { shape: [1, 2], data: new Float64Array([0, Number.NaN]) },
    ],
  ];
  it.each(bad)("%s", (_name, options, x) => {
    const result = sampleReverseSde(space, vp, model, x, options);
    expect(E.isLeft(result)).toBe(true);
    if (E.isLeft(result)) expect(result.left.message).toMatch(/^sampleReverseSde: /);
  });

  it("reports a state that leaves the finite numbers as a nonFinite failure", () => {
    const exploding: DiffusionModel<Tensor64> = {
      parameterization: "score",
      predict: (x) => ({ shape: x.shape, data: x.data.map(() => Number.POSITIVE_INFINITY) }),
    };
    const result = sampleReverseSde(space, vp, exploding, noise, { grid: uniform(vp, 5), key });
    expect(E.isLeft(result) && result.left._tag === "SolveFailure" && result.left.reason).toBe("nonFinite");
  });
});
