import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import { gaussianMixture, mixtureOracle } from "../../src/oracle/index.js";
import {
  type AnnealedLangevinOptions,
  annealedLangevinSteps,
  sampleAnnealedLangevin,
} from "../../src/samplers/langevin.js";
import { edmSde, subVpSde, veSde, vpSde } from "../../src/sde/index.js";
import { gridUniformIn, type SolverStep } from "../../src/solvers/index.js";
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

const ve = orThrow(veSde());
const key = orThrow(rngKey(61));
/** L noise levels geometric from σ_1 to σ_L (NCSN: σ_1 = 1, σ_L = 0.01, L = 10). */
const geometric = (sigma1: number, sigmaL: number, L: number): Float64Array =>
  orThrow(gridUniformIn(Math.log, Math.exp, sigma1, sigmaL, L - 1));

describe("sampleAnnealedLangevin: the update x ← x + (α_i/2)·∇log p_{σ_i}(x) + √α_i·z, α_i = ε·σ_i²/σ_L²", () => {
  it("follows the exact variance recursion on Gaussian data", () => {
    // Data N(0, c²I): p_σ = N(0, v·I) with v = c² + σ², so one step is x ← ρ·x + √α·z with ρ = 1 − α/(2v), and
    // the per-coordinate variance obeys Var ← ρ²·Var + α exactly, from Var = σ_1² at the start (x = σ_1·noise).
    // With few steps per level the transients of every level count, so this pins α_i to ε·σ_i²/σ_L².
    const c2 = 0.5;
    const gm = orThrow(gaussianMixture({ weights: [1], means: [[0, 0]], variances: c2 }));
    const levels = [3, 1.5, 0.8];
    const epsilon = 0.15;
    const T = 4;
    let variance = levels[0] ** 2;
    for (const sigma of levels) {
      const alpha = (epsilon * sigma ** 2) / levels[2] ** 2;
      const rho = 1 - alpha / (2 * (c2 + sigma ** 2));
      for (let j = 0; j < T; j++) variance = rho * rho * variance + alpha;
    }
    const n = 20000;
    const y = orThrow(
      sampleAnnealedLangevin(space, ve, scoreModel(ve, gm), standardNoise(3, n, 2), {
        noiseLevels: levels,
        stepsPerLevel: T,
        stepSize: epsilon,
        key,
      }),
    ).y;
    // The mean of x² over 2n independent N(0, Var) coordinates has standard error Var·√(2/(2n)).
    const meanSquare = y.data.reduce((a, v) => a + v * v, 0) / (2 * n);
    expect(Math.abs(meanSquare - variance)).toBeLessThan(4.5 * variance * Math.sqrt(1 / n));
    // After T = 4 steps per level the chain is far from p_{σ_L} (Var = 3.92 against c² + σ_L² = 1.14), so the
    // result hinges on every α_i: with α_i = ε·σ_i² instead (no 1/σ_L²) it would be 5.14, 44 SE away.
    expect(variance).toBeCloseTo(3.921, 3);
  });
});

// -------------------------------------------------------------------------------------------------------------
// Distribution: the last level samples p_{σ_L} (the VE marginal at σ_L = 0.01, oracle.marginal) up to the bias
// of unadjusted Langevin with finite ε and T. L = 10 levels geometric from 20 to 0.01, T = 30, ε = 5·10⁻⁵.
// Measured bias (n = 20000 ring, 5000 16-D): ring max |Δ mean|, |Δ cov|, |Δ weight| = 1.4e-2, 8.3e-3, 2.6e-3
// (within 1.4 SE); 16-D 0.12, 0.25, 2.2e-2 (3.8, 8.3 and 3.2 SE): in 16-D the weights of separated modes are set
// while they merge at the middle levels, and the chain cannot move mass between them afterwards; the
// covariance shows the O(α) bias of unadjusted Langevin. The 16-D allowances below are that measured bias.
// -------------------------------------------------------------------------------------------------------------

describe("sampleAnnealedLangevin: distribution of the samples (exact oracle score)", () => {
  const options = { noiseLevels: geometric(20, 0.01, 10), stepsPerLevel: 30, stepSize: 5e-5, key };
  const cases: ReadonlyArray<readonly [name: string, gm: typeof ring, n: number, bias: Bias]> = [
    ["ring", ring, 2000, { mean: 0.01, cov: 0.02, weights: 0.005 }],
    ["16-D", mixture16, 800, { mean: 0.15, cov: 0.3, weights: 0.03 }],
  ];
  it.each(cases)("%s → p_{σ_L}", (_name, gm, n, bias) => {
    const result = orThrow(
      sampleAnnealedLangevin(space, ve, scoreModel(ve, gm), standardNoise(5, n, gm.dim), options),
    );
    const target = mixtureOracle(ve, gm).marginal(ve.timeOfNoiseLevel(0.01));
    expect(distributionViolations(result.y, target, bias)).toEqual([]);
    expect([result.steps, result.nfe]).toEqual([300, 300]);
  });
});

describe("sampleAnnealedLangevin: SDEs, determinism and the iterator", () => {
  const exact = scoreModel(ve, ring);
  const noise = standardNoise(8, 64, 2);
  const options: AnnealedLangevinOptions = {
    noiseLevels: geometric(10, 0.01, 5),
    stepsPerLevel: 4,
    stepSize: 2e-5,
    key,
  };

  it("depends on the SDE only through its noise levels: VE and EDM (s = 1) give the same samples", () => {
    const edm = orThrow(edmSde());
    const a = orThrow(sampleAnnealedLangevin(space, ve, exact, noise, options)).y;
    const b = orThrow(sampleAnnealedLangevin(space, edm, scoreModel(edm, ring), noise, options)).y;
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-9);
  });

  it("is a pure function of (noise, key), and a sample does not depend on its batch", () => {
    const a = orThrow(sampleAnnealedLangevin(space, ve, exact, noise, options)).y;
    expect(Array.from(orThrow(sampleAnnealedLangevin(space, ve, exact, noise, options)).y.data)).toEqual(
      Array.from(a.data),
    );
    const other = orThrow(
      sampleAnnealedLangevin(space, ve, exact, noise, { ...options, key: orThrow(rngKey(62)) }),
    ).y;
    expect(maxAbsDiff(other, a)).toBeGreaterThan(1e-3);
    const small = orThrow(sampleAnnealedLangevin(space, ve, exact, firstRows(noise, 10), options)).y;
    expect(Array.from(small.data)).toEqual(Array.from(firstRows(a, 10).data));
  });

  it("yields L·T records at the levels' times, then Tweedie's E[x₀ | x] with denoiseFinal", () => {
    const records: SolverStep<Tensor64>[] = [];
    const iterator = annealedLangevinSteps(space, ve, exact, noise, { ...options, denoiseFinal: true });
    let next = iterator.next();
    while (next.done !== true) {
      records.push(next.value);
      next = iterator.next();
    }
    const times = Array.from(options.noiseLevels, (sigma) => ve.timeOfNoiseLevel(sigma));
    expect(records.map((r) => r.t)).toEqual([...times.flatMap((t) => [t, t, t, t]), 0]);
    expect(records.map((r) => r.nfe)).toEqual(Array.from({ length: 21 }, (_, k) => k + 1));
    expect(orThrow(next.value)).toBe(records[20]);
    const tweedie = mixtureOracle(ve, ring).denoiser(records[19].y, times[4]);
    expect(maxAbsDiff(records[20].y, tweedie)).toBeLessThan(1e-12);
    const solution = orThrow(
      sampleAnnealedLangevin(space, ve, exact, noise, { ...options, denoiseFinal: true }),
    );
    expect(Array.from(solution.y.data)).toEqual(Array.from(records[20].y.data));
  });

  it("accepts σ_1 = σmax although σ(tMax) rounds just below it", () => {
    expect(ve.std(ve.tMax)).toBeLessThan(50);
    const result = sampleAnnealedLangevin(space, ve, exact, noise, { ...options, noiseLevels: [50, 1] });
    expect(E.isRight(result)).toBe(true);
  });
});

describe("sampleAnnealedLangevin: bad input is a Left", () => {
  const noise = standardNoise(9, 4, 2);
  const good: AnnealedLangevinOptions = { noiseLevels: [1, 0.1], stepsPerLevel: 2, stepSize: 1e-4, key };
  const bad: ReadonlyArray<readonly [string, AnnealedLangevinOptions]> = [
    ["no levels", { ...good, noiseLevels: [] }],
    ["increasing levels", { ...good, noiseLevels: [0.1, 1] }],
    ["a repeated level", { ...good, noiseLevels: [1, 1] }],
    ["a level above σ(tMax)", { ...good, noiseLevels: [80, 1] }],
    ["a level below σ(tMin)", { ...good, noiseLevels: [1, 1e-6] }],
    ["a NaN level", { ...good, noiseLevels: [1, Number.NaN] }],
    ["T = 0", { ...good, stepsPerLevel: 0 }],
    ["T = 2.5", { ...good, stepsPerLevel: 2.5 }],
    ["ε = 0", { ...good, stepSize: 0 }],
    ["a bad key", { ...good, key: { k0: 1, k1: 2 ** 32 } }],
  ];
  it.each(bad)("%s", (_name, options) => {
    const result = sampleAnnealedLangevin(space, ve, scoreModel(ve, ring), noise, options);
    expect(E.isLeft(result)).toBe(true);
    if (E.isLeft(result)) expect(result.left.message).toMatch(/^sampleAnnealedLangevin: /);
  });

  it("rejects an SDE whose scale s(t) is not 1 (VP, sub-VP)", () => {
    for (const sde of [orThrow(vpSde()), orThrow(subVpSde())]) {
      const result = sampleAnnealedLangevin(space, sde, scoreModel(sde, ring), noise, good);
      expect(E.isLeft(result) && result.left.message).toMatch(/must have scale s\(t\) = 1/);
    }
  });
});
