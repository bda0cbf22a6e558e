import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { foldIn, rngKey } from "../../src/core/rng.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import { type GaussianMixture, mixtureOracle, mixturePosteriorMean } from "../../src/oracle/index.js";
import { type EdmSamplerOptions, edmSteps, sampleEdm } from "../../src/samplers/edm.js";
import { predictAs, type TimeModel } from "../../src/samplers/model.js";
import { sampleProbabilityFlow } from "../../src/samplers/probability-flow.js";
import { edmSde, type LinearSde, noiseLevel, veSde, vpSde } from "../../src/sde/index.js";
import { gridKarras, odeDopri5, odeHeun, type SolverStep } from "../../src/solvers/index.js";
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

const edm = orThrow(edmSde());
const vp = orThrow(vpSde());
const ve = orThrow(veSde());
const key = orThrow(rngKey(9));
const karras = (sigmaMax: number, n: number): Float64Array =>
  orThrow(gridKarras({ sigmaMin: 0.002, sigmaMax, n, appendZero: true }));

// -------------------------------------------------------------------------------------------------------------
// Distribution: the samples of p₀ (the last step returns D(x̂; σ_min = 0.002), whose shrinkage of the
// covariance, ≈ σ_min² per component, is far below the tolerances). Noise: seed 5, n = 3000 (ring); seed 6,
// n = 1500 (16-D). Deterministic bias allowances ≈ 2× the bias measured against the same sampler with
// N = 1024 on the same noise (itself within 6·10⁻⁶ of RK45 at 10⁻¹⁰), max |Δ mean|, |Δ covariance|, |Δ weight|:
//   ring, N = 32 (σ_max = 80): EDM and VP 7.7e-5, 9.5e-3, 0 (identical: the exact denoiser depends on σ only);
//   ring, N = 32, VE (σ_max = σ(1) ≈ 50): 6.1e-5, 7.7e-3, 0;   16-D, VP, N = 40: 9.5e-4, 2.0e-2, 0.
// With churn (S_churn = 10, S_tmax = 50, N = 32), measured on the ring at n = 10⁵ against the exact moments:
// |Δ mean| ≤ 5.3e-3 (SE 4.5e-3: no resolvable bias), |Δ covariance| = 0.018, against 0.014 for the deterministic
// sampler and 0.0017 at N = 128 with S_churn = 40 (SE ≈ 0.0045): a bias ≈ 0.015, like the deterministic
// sampler's. In 16-D (N = 32, n = 2·10⁴) the deviations are of the size of the Monte-Carlo error.
// Allowances: ring 5e-3, 3e-2; 16-D (N = 40) 1e-2, 6e-2.
// -------------------------------------------------------------------------------------------------------------

const churn = { sChurn: 10, sTmax: 50, key };
const cases: ReadonlyArray<
  readonly [name: string, sde: LinearSde, gm: GaussianMixture, options: EdmSamplerOptions, bias: Bias]
> = [
  [
    "ring, EDM SDE, deterministic",
    edm,
    ring,
    { sigmas: karras(80, 32) },
    { mean: 2e-4, cov: 2e-2, weights: 1e-3 },
  ],
  [
    "ring, VP SDE, deterministic",
    vp,
    ring,
    { sigmas: karras(80, 32) },
    { mean: 2e-4, cov: 2e-2, weights: 1e-3 },
  ],
  [
    "ring, VE SDE, deterministic",
    ve,
    ring,
    { sigmas: karras(noiseLevel(ve, ve.tMax), 32) },
    { mean: 2e-4, cov: 2e-2, weights: 1e-3 },
  ],
  [
    "ring, EDM SDE, churn",
    edm,
    ring,
    { sigmas: karras(80, 32), ...churn },
    { mean: 5e-3, cov: 3e-2, weights: 3e-3 },
  ],
  [
    "ring, VP SDE, churn",
    vp,
    ring,
    { sigmas: karras(80, 32), ...churn },
    { mean: 5e-3, cov: 3e-2, weights: 3e-3 },
  ],
  [
    "16-D, VP SDE, deterministic",
    vp,
    mixture16,
    { sigmas: karras(80, 40) },
    { mean: 2e-3, cov: 4e-2, weights: 1e-3 },
  ],
  [
    "16-D, EDM SDE, churn",
    edm,
    mixture16,
    { sigmas: karras(80, 40), ...churn },
    { mean: 1e-2, cov: 6e-2, weights: 3e-3 },
  ],
];

describe("sampleEdm: the samples have the exact mean, covariance and weights of p₀", () => {
  for (const [name, sde, gm, options, bias] of cases) {
    it(name, () => {
      const [seed, n] = gm.dim === 2 ? [5, 3000] : [6, 1500];
      const samples = orThrow(
        sampleEdm(space, sde, scoreModel(sde, gm), standardNoise(seed, n, gm.dim), options),
      );
      expect(samples.nfe).toBe(2 * (options.sigmas.length - 1) - 1);
      expect(distributionViolations(samples.y, gm, bias)).toEqual([]);
    });
  }
});

describe("edmSteps", () => {
  const noise = standardNoise(1, 40, 2);
  const sigmas = karras(80, 10);

  it("yields one record per step (t = σ_{i+1}, nfe = 2, 4, …, 2N − 1) and its last y is the one-call result", () => {
    const iterator = edmSteps(space, edm, scoreModel(edm, ring), noise, { sigmas });
    const records: SolverStep<Tensor64>[] = [];
    let next = iterator.next();
    for (; next.done !== true; next = iterator.next()) records.push(next.value);
    expect(records.map((r) => [r.step, r.t, r.nfe])).toEqual(
      Array.from(sigmas.subarray(1), (s, i) => [i + 1, s, i === 9 ? 19 : 2 * (i + 1)]),
    );
    expect(orThrow(next.value)).toEqual(records[9]);
    const solution = orThrow(sampleEdm(space, edm, scoreModel(edm, ring), noise, { sigmas }));
    expect(solution.y).toEqual(records[9].y);
    expect([solution.nfe, solution.steps]).toEqual([19, 10]);
  });

  it("at S_churn = 0 is Heun's method on the probability-flow ODE in σ (EDM SDE), to the second-to-last state", () => {
    const n = 20;
    const grid = karras(80, n);
    const model = scoreModel(edm, ring);
    const ours = orThrow(sampleEdm(space, edm, model, noise, { sigmas: grid, saveTrajectory: true }));
    const heun = orThrow(
      sampleProbabilityFlow(space, edm, model, noise, {
        method: odeHeun,
        grid: grid.subarray(0, n),
        saveTrajectory: true,
      }),
    );
    const ys = ours.ys ?? [];
    const reference = heun.ys ?? [];
    expect([ys.length, reference.length]).toEqual([n + 1, n]);
    for (let i = 0; i < n; i++) {
      const size = Math.max(1, ...reference[i].data.map(Math.abs));
      expect(maxAbsDiff(ys[i], reference[i]) / size).toBeLessThan(1e-10);
    }
    // The last step is Euler to σ = 0: x̂_N = x̂ + (0 − σ)(x̂ − D(x̂; σ))/σ = D(x̂_{N−1}; σ_{N−1}).
    expect(maxAbsDiff(ys[n], mixtureOracle(edm, ring).denoiser(ys[n - 1], grid[n - 1]))).toBeLessThan(1e-12);
  });

  it("runs on the VP, VE and EDM SDEs alike: the exact denoiser makes them agree (σ grid up to 50)", () => {
    const grid = karras(50, 16);
    const results = [edm, vp, ve].map(
      (sde) => orThrow(sampleEdm(space, sde, scoreModel(sde, ring), noise, { sigmas: grid })).y,
    );
    expect(maxAbsDiff(results[1], results[0])).toBeLessThan(1e-9);
    expect(maxAbsDiff(results[2], results[0])).toBeLessThan(1e-9);
  });

  it("accepts every parameterization: ε, x₀, v and denoiser models give the score model's samples", () => {
    const base = orThrow(sampleEdm(space, vp, scoreModel(vp, ring), noise, { sigmas }));
    for (const target of ["eps", "x0", "v"] as const) {
      const model: TimeModel<Tensor64> = {
        parameterization: target,
        predict: predictAs(space, vp, scoreModel(vp, ring), target),
      };
      expect(maxAbsDiff(orThrow(sampleEdm(space, vp, model, noise, { sigmas })).y, base.y)).toBeLessThan(
        1e-9,
      );
    }
    const denoiser = {
      parameterization: "denoiser" as const,
      denoise: (xHat: Tensor64, sigma: number) => mixturePosteriorMean(ring, { scale: 1, std: sigma }, xHat),
    };
    expect(maxAbsDiff(orThrow(sampleEdm(space, vp, denoiser, noise, { sigmas })).y, base.y)).toBeLessThan(
      1e-9,
    );
  });

  it("is deterministic at S_churn = 0 or with the churn window missing every σ: the key does not matter", () => {
    const model = scoreModel(edm, ring);
    const plain = orThrow(sampleEdm(space, edm, model, noise, { sigmas }));
    for (const options of [
      { sigmas, key },
      { sigmas, key: orThrow(rngKey(12345)) },
      { sigmas, sChurn: 30, sTmin: 100, sTmax: 200 },
      { sigmas, sChurn: 30, sTmin: 100, sTmax: 200, key },
    ]) {
      expect(orThrow(sampleEdm(space, edm, model, noise, options)).y).toEqual(plain.y);
    }
  });

  it("with churn: same key ⇒ same samples, another key ⇒ other samples, and batch-size independence", () => {
    const model = scoreModel(vp, mixture16);
    const big = standardNoise(3, 30, 16);
    const options = { sigmas: karras(80, 12), sChurn: 20, sTmax: 50, key };
    const a = orThrow(sampleEdm(space, vp, model, big, options));
    expect(orThrow(sampleEdm(space, vp, model, big, options)).y).toEqual(a.y);
    const other = orThrow(sampleEdm(space, vp, model, big, { ...options, key: orThrow(rngKey(10)) }));
    expect(maxAbsDiff(other.y, a.y)).toBeGreaterThan(1e-3);
    const small: Tensor64 = { shape: [5, 16], data: big.data.slice(0, 5 * 16) };
    expect(orThrow(sampleEdm(space, vp, model, small, options)).y.data).toEqual(a.y.data.slice(0, 5 * 16));
  });

  it("churns by Alg. 2: σ̂ = σ(1 + γ), x̂ = x + σ√(γ(2 + γ))·S_noise·z with z from foldIn(key, step)", () => {
    const model = scoreModel(edm, ring);
    const [sigma, sNoise, sChurn] = [3, 1.007, 0.25]; // N = 1: γ = min(0.25, √2 − 1) = 0.25
    const gamma = 0.25;
    const x = space.combine([[sigma, noise]]);
    const z = space.normalLike(foldIn(key, 0), x);
    const churned = space.combine([
      [1, x],
      [sigma * Math.sqrt(gamma * (2 + gamma)) * sNoise, z],
    ]);
    // One step to σ = 0 is Euler: the result is D(x̂; σ̂).
    const expected = mixtureOracle(edm, ring).denoiser(churned, sigma * (1 + gamma));
    const result = orThrow(sampleEdm(space, edm, model, noise, { sigmas: [sigma, 0], sChurn, sNoise, key }));
    expect(maxAbsDiff(result.y, expected)).toBeLessThan(1e-12);
  });

  it("takes Heun's correction on every step when the grid ends above 0 (NFE = 2N)", () => {
    const grid = orThrow(gridKarras({ sigmaMin: 0.01, sigmaMax: 80, n: 8 }));
    const result = orThrow(sampleEdm(space, edm, scoreModel(edm, ring), noise, { sigmas: grid }));
    expect([result.nfe, result.ts[8]]).toEqual([16, 0.01]);
  });
});

describe("Heun's order in the EDM σ grid", () => {
  it("the error against RK45 at 10⁻¹¹ falls as N⁻² (log-log slope ≈ −2) on the Karras grid", () => {
    // 16 transported points of the ring; reference: the probability-flow ODE of the EDM SDE from σ = 80 to
    // 0.002 by RK45, then D(x; 0.002) as the EDM sampler's last (Euler to 0) step does. Measured errors
    // N = 32 … 256: 8.3e-3, 1.9e-3, 4.5e-4, 1.1e-4 (slope −2.08).
    const noise = standardNoise(11, 16, 2);
    const model = scoreModel(edm, ring);
    const reference = orThrow(
      sampleProbabilityFlow(space, edm, model, noise, {
        method: odeDopri5,
        rtol: 1e-11,
        atol: 1e-11,
        denoiseFinal: true,
      }),
    );
    const ns = [32, 64, 128, 256];
    const errors = ns.map((n) =>
      maxAbsDiff(orThrow(sampleEdm(space, edm, model, noise, { sigmas: karras(80, n) })).y, reference.y),
    );
    expect(Math.abs(logLogSlope(ns, errors) + 2)).toBeLessThan(0.15);
  });
});

describe("validation", () => {
  const model = scoreModel(edm, ring);
  const noise = standardNoise(1, 4, 2);
  const message = (options: EdmSamplerOptions, sde: LinearSde = edm, x: Tensor64 = noise): string => {
    const result = sampleEdm(space, sde, model, x, options);
    return E.isLeft(result) ? result.left.message : "Right";
  };

  it("rejects bad noise levels", () => {
    expect(message({ sigmas: [0, 1] })).toMatch(/sigmas must decrease/);
    expect(message({ sigmas: [1, 0.5, 0.7] })).toMatch(/grid\[2\]/);
    expect(message({ sigmas: [1, -0.5] })).toMatch(/sigmas must decrease to a last noise level ≥ 0/);
    expect(message({ sigmas: [1, Number.NaN] })).toMatch(/must be finite/);
    expect(message({ sigmas: [1] })).toMatch(/at least 2/);
    expect(message({ sigmas: karras(80, 4) }, ve)).toMatch(
      /largest noise level σ\(tMax\)\/s\(tMax\) = 49.99/,
    );
    expect(message({ sigmas: karras(80, 4), sChurn: 1, key })).toMatch(/σ̂_0=100/);
    expect(message({ sigmas: karras(80, 4), sChurn: 1, sTmax: 50, key })).toBe("Right");
  });

  it("rejects bad churn parameters, a missing key and non-finite noise", () => {
    const sigmas = karras(50, 4);
    expect(message({ sigmas, sChurn: -1 })).toMatch(/sChurn must be a finite number ≥ 0/);
    expect(message({ sigmas, sChurn: Number.POSITIVE_INFINITY })).toMatch(/sChurn/);
    expect(message({ sigmas, sTmin: Number.NaN })).toMatch(/sTmin/);
    expect(message({ sigmas, sTmin: 2, sTmax: 1 })).toMatch(/sTmax must be ≥ sTmin/);
    expect(message({ sigmas, sTmax: Number.NaN })).toMatch(/sTmax must be a number ≥ 0/);
    expect(message({ sigmas, sNoise: -0.1 })).toMatch(/sNoise/);
    expect(message({ sigmas, sChurn: 1 })).toMatch(/key must be an RngKey/);
    const bad: Tensor64 = {
      shape: [4, 2],
      data: noise.data.map((v, i) => (i === 5 ? Number.POSITIVE_INFINITY : v)),
    };
    expect(message({ sigmas }, edm, bad)).toMatch(/noise\[5\] must be finite/);
  });
});
