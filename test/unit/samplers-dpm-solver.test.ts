import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import { type GaussianMixture, mixtureOracle, mixturePosteriorMean } from "../../src/oracle/index.js";
import {
  type Dpmpp2mOptions,
  dpmpp2mSteps,
  gridLogSnr,
  sampleDpmpp2m,
} from "../../src/samplers/dpm-solver.js";
import { predictAs, type TimeModel } from "../../src/samplers/model.js";
import { sampleProbabilityFlow } from "../../src/samplers/probability-flow.js";
import { type LinearSde, logSnr, veSde, vpSde } from "../../src/sde/index.js";
import { odeDopri5, type SolverStep } from "../../src/solvers/index.js";
import {
  type Bias,
  distributionViolations,
  logLogSlope,
  maxAbsDiff,
  mixture16,
  ring,
  scoreModel,
  space,
  standardNoise,
} from "../support/samplers-deterministic.js";

const vp = orThrow(vpSde());
const ve = orThrow(veSde());
const logSnrGrid = (sde: LinearSde, n: number): Float64Array =>
  orThrow(gridLogSnr(sde, sde.tMax, sde.tMin, n));
/** M − 1 steps uniform in λ down to tMin, then a last step to t = 0. */
const toZero = (sde: LinearSde, n: number): Float64Array => Float64Array.from([...logSnrGrid(sde, n - 1), 0]);

// -------------------------------------------------------------------------------------------------------------
// Distribution. Noise: seed 5, n = 3000 (ring); seed 6, n = 1500 (16-D). Bias allowances ≈ 2× the bias
// measured against RK45 at 10⁻¹⁰ on the same noise (with Tweedie's denoising for the grid ending at 0), max
// |Δ mean|, |Δ covariance|, |Δ weight|, M = 25 steps uniform in λ:
//   ring to tMin: 1.8e-4, 1.0e-2, 0;   ring to 0: 1.8e-4, 1.1e-2, 0;   16-D to tMin: 2.9e-3, 3.3e-2, 1.3e-3.
// -------------------------------------------------------------------------------------------------------------

const cases: ReadonlyArray<
  readonly [name: string, gm: GaussianMixture, options: Dpmpp2mOptions, target: GaussianMixture, bias: Bias]
> = [
  [
    "ring, to tMin",
    ring,
    { grid: logSnrGrid(vp, 25) },
    mixtureOracle(vp, ring).marginal(vp.tMin),
    { mean: 4e-4, cov: 2e-2, weights: 1e-3 },
  ],
  [
    "ring, to t = 0 (last step denoised)",
    ring,
    { grid: toZero(vp, 25) },
    ring,
    { mean: 4e-4, cov: 2.5e-2, weights: 1e-3 },
  ],
  [
    "16-D, to tMin",
    mixture16,
    { grid: logSnrGrid(vp, 25) },
    mixtureOracle(vp, mixture16).marginal(vp.tMin),
    { mean: 6e-3, cov: 7e-2, weights: 3e-3 },
  ],
];

describe("sampleDpmpp2m on the VP SDE: the samples have the exact mean, covariance and weights", () => {
  for (const [name, gm, options, target, bias] of cases) {
    it(`${name}, 25 steps`, () => {
      const [seed, n] = gm.dim === 2 ? [5, 3000] : [6, 1500];
      const samples = orThrow(
        sampleDpmpp2m(space, vp, scoreModel(vp, gm), standardNoise(seed, n, gm.dim), options),
      );
      expect([samples.nfe, samples.steps]).toEqual([25, 25]);
      expect(distributionViolations(samples.y, target, bias)).toEqual([]);
    });
  }
});

describe("DPM-Solver++(2M) order", () => {
  for (const [name, gm, ns, measured] of [
    ["ring", ring, [128, 256, 512, 1024], "3.2e-4, 8.4e-5, 2.2e-5, 5.4e-6 (slope −1.93)"],
    ["16-D", mixture16, [256, 512, 1024], "1.7e-3, 4.5e-4, 1.2e-4 (slope −1.95)"],
  ] as const) {
    it(`${name}: the error against RK45 at 10⁻¹² falls as M⁻² (log-log slope ≈ −2), measured ${measured}`, () => {
      // The error of the transported noise (16 or 8 points) at tMin; fewer steps are pre-asymptotic (the x₀
      // prediction bends sharply where σ̃ crosses the component scale).
      const noise = standardNoise(11, gm.dim === 2 ? 16 : 8, gm.dim);
      const model = scoreModel(vp, gm);
      const reference = orThrow(
        sampleProbabilityFlow(space, vp, model, noise, { method: odeDopri5, rtol: 1e-12, atol: 1e-12 }),
      );
      const errors = ns.map((m) =>
        maxAbsDiff(
          orThrow(sampleDpmpp2m(space, vp, model, noise, { grid: logSnrGrid(vp, m), lowerOrderFinal: false }))
            .y,
          reference.y,
        ),
      );
      expect(Math.abs(logLogSlope(ns, errors) + 2)).toBeLessThan(0.15);
    });
  }
});

describe("dpmpp2mSteps", () => {
  const model = scoreModel(vp, ring);
  const noise = standardNoise(1, 40, 2);
  const x0 = predictAs(space, vp, model, "x0");

  it("yields one record per step (t = grid[i], nfe = i) and its last y is the one-call result", () => {
    const grid = logSnrGrid(vp, 9);
    const iterator = dpmpp2mSteps(space, vp, model, noise, { grid });
    const records: SolverStep<Tensor64>[] = [];
    let next = iterator.next();
    for (; next.done !== true; next = iterator.next()) records.push(next.value);
    expect(records.map((r) => [r.step, r.t, r.nfe])).toEqual(
      Array.from(grid.subarray(1), (t, i) => [i + 1, t, i + 1]),
    );
    expect(orThrow(next.value)).toEqual(records[8]);
    expect(orThrow(sampleDpmpp2m(space, vp, model, noise, { grid })).y).toEqual(records[8].y);
  });

  it("takes Alg. 2's steps: DDIM first, then the 2M multistep, with e^{−h} − 1 and σ ratios", () => {
    const grid = [vp.tMax, 0.5, 0.2];
    const [t0, t1, t2] = grid;
    const lambda = (t: number) => logSnr(vp, t) / 2;
    const [h1, h2] = [lambda(t1) - lambda(t0), lambda(t2) - lambda(t1)];
    const xT = noise; // VP: priorStd = 1
    const d0 = x0(xT, t0);
    const x1 = space.combine([
      [vp.std(t1) / vp.std(t0), xT],
      [-vp.scale(t1) * Math.expm1(-h1), d0],
    ]);
    const d1 = x0(x1, t1);
    const r = h1 / h2;
    const x2 = space.combine([
      [vp.std(t2) / vp.std(t1), x1],
      [-vp.scale(t2) * Math.expm1(-h2) * (1 + 1 / (2 * r)), d1],
      [vp.scale(t2) * Math.expm1(-h2) * (1 / (2 * r)), d0],
    ]);
    const result = orThrow(
      sampleDpmpp2m(space, vp, model, noise, { grid, lowerOrderFinal: false, saveTrajectory: true }),
    );
    expect(maxAbsDiff((result.ys ?? [])[1], x1)).toBeLessThan(1e-13);
    expect(maxAbsDiff(result.y, x2)).toBeLessThan(1e-13);
    // With lowerOrderFinal (the default below 15 steps) the last step is first order again.
    const firstOrder = space.combine([
      [vp.std(t2) / vp.std(t1), x1],
      [-vp.scale(t2) * Math.expm1(-h2), d1],
    ]);
    expect(maxAbsDiff(orThrow(sampleDpmpp2m(space, vp, model, noise, { grid })).y, firstOrder)).toBeLessThan(
      1e-13,
    );
  });

  it("defaults lowerOrderFinal to true below 15 steps and false from 15", () => {
    for (const [steps, lowerOrderFinal] of [
      [14, true],
      [15, false],
    ] as const) {
      const grid = logSnrGrid(vp, steps);
      const plain = orThrow(sampleDpmpp2m(space, vp, model, noise, { grid })).y;
      expect(orThrow(sampleDpmpp2m(space, vp, model, noise, { grid, lowerOrderFinal })).y).toEqual(plain);
      expect(
        maxAbsDiff(
          orThrow(sampleDpmpp2m(space, vp, model, noise, { grid, lowerOrderFinal: !lowerOrderFinal })).y,
          plain,
        ),
      ).toBeGreaterThan(0);
    }
  });

  it("ends a grid at t = 0 with the denoised x₀ of the last step, never taking log 0", () => {
    const grid = toZero(vp, 10);
    const result = orThrow(sampleDpmpp2m(space, vp, model, noise, { grid, saveTrajectory: true }));
    const ys = result.ys ?? [];
    expect(result.ts[10]).toBe(0);
    expect(maxAbsDiff(result.y, mixtureOracle(vp, ring).denoiser(ys[9], grid[9]))).toBeLessThan(1e-13);
  });

  it("accepts every parameterization and any linear SDE (VE): ε, x₀, v, denoiser models agree", () => {
    const grid = logSnrGrid(ve, 12);
    const base = orThrow(sampleDpmpp2m(space, ve, scoreModel(ve, ring), noise, { grid })).y;
    for (const target of ["eps", "x0", "v"] as const) {
      const converted: TimeModel<Tensor64> = {
        parameterization: target,
        predict: predictAs(space, ve, scoreModel(ve, ring), target),
      };
      expect(maxAbsDiff(orThrow(sampleDpmpp2m(space, ve, converted, noise, { grid })).y, base)).toBeLessThan(
        1e-9,
      );
    }
    const denoiser = {
      parameterization: "denoiser" as const,
      denoise: (xHat: Tensor64, sigma: number) => mixturePosteriorMean(ring, { scale: 1, std: sigma }, xHat),
    };
    expect(maxAbsDiff(orThrow(sampleDpmpp2m(space, ve, denoiser, noise, { grid })).y, base)).toBeLessThan(
      1e-9,
    );
  });

  it("gives the first m samples of a batch of n exactly as a batch of m", () => {
    const big = standardNoise(2, 40, 16);
    const small: Tensor64 = { shape: [6, 16], data: big.data.slice(0, 6 * 16) };
    const m16 = scoreModel(vp, mixture16);
    const grid = logSnrGrid(vp, 10);
    const all = orThrow(sampleDpmpp2m(space, vp, m16, big, { grid }));
    expect(orThrow(sampleDpmpp2m(space, vp, m16, small, { grid })).y.data).toEqual(
      all.y.data.slice(0, 6 * 16),
    );
  });
});

describe("gridLogSnr", () => {
  it("is uniform in λ = log(s²/σ²) with exact endpoints", () => {
    for (const sde of [vp, ve]) {
      const grid = logSnrGrid(sde, 16);
      expect([grid[0], grid[16]]).toEqual([sde.tMax, sde.tMin]);
      const step = (logSnr(sde, sde.tMin) - logSnr(sde, sde.tMax)) / 16;
      for (let k = 1; k <= 16; k++)
        expect(logSnr(sde, grid[k]) - logSnr(sde, grid[k - 1])).toBeCloseTo(step, 9);
    }
  });

  it("rejects a bad step count or equal endpoints", () => {
    expect(E.isLeft(gridLogSnr(vp, 1, 0.5, 0))).toBe(true);
    expect(E.isLeft(gridLogSnr(vp, 0.5, 0.5, 4))).toBe(true);
  });
});

describe("validation", () => {
  const model = scoreModel(vp, ring);
  const noise = standardNoise(1, 4, 2);
  const message = (grid: ArrayLike<number>, x: Tensor64 = noise): string => {
    const result = sampleDpmpp2m(space, vp, model, x, { grid });
    return E.isLeft(result) ? result.left.message : "Right";
  };

  it("rejects grids that increase, leave [tMin, tMax] (except a last 0) or are not finite, and bad noise", () => {
    expect(message([0.1, 0.5])).toMatch(/sampleDpmpp2m: grid must decrease/);
    expect(message([2, 0.5])).toMatch(/time domain \[tMin, tMax\] = \[0.001, 1\] \(its last time may be 0\)/);
    expect(message([1, 0.5, 1e-4])).toMatch(/time domain/);
    expect(message([1, 0.5, 1e-4, 0])).toMatch(/time domain/);
    expect(message([1, 0])).toBe("Right");
    expect(message([1, Number.NaN])).toMatch(/grid\[1\] must be finite/);
    // Two times one ulp apart share their log-SNR: h = 0 would make r = h_{i−1}/h_i undefined.
    const t = 0.25;
    expect(message([1, t * (1 + Number.EPSILON), t, 0.1])).toMatch(
      /grid\[2\] must have a larger log-SNR than grid\[1\]/,
    );
    const bad: Tensor64 = { shape: [4, 2], data: noise.data.map((v, i) => (i === 0 ? Number.NaN : v)) };
    expect(message([1, 0.5], bad)).toMatch(/noise\[0\] must be finite/);
  });

  it("stops with a nonFinite SolveFailure when the model returns NaN", () => {
    const broken: TimeModel<Tensor64> = {
      parameterization: "x0",
      predict: (x) => ({ shape: x.shape, data: x.data.map(() => Number.NaN) }),
    };
    const result = sampleDpmpp2m(space, vp, broken, noise, { grid: logSnrGrid(vp, 4) });
    expect(
      E.isLeft(result) && result.left._tag === "SolveFailure" && [result.left.reason, result.left.step],
    ).toEqual(["nonFinite", 1]);
  });
});
