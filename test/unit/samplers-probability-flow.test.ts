import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import { type GaussianMixture, mixtureOracle } from "../../src/oracle/index.js";
import type { TimeModel } from "../../src/samplers/model.js";
import {
  encodeProbabilityFlow,
  type ProbabilityFlowOptions,
  probabilityFlowSteps,
  sampleProbabilityFlow,
} from "../../src/samplers/probability-flow.js";
import { type LinearSde, veSde, vpSde } from "../../src/sde/index.js";
import {
  gridUniform,
  odeDopri5,
  odeEuler,
  odeHeun,
  odeRk4,
  runSteps,
  type SolverStep,
} from "../../src/solvers/index.js";
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

const vp = orThrow(vpSde());
const ve = orThrow(veSde());
const uniform = (sde: LinearSde, n: number): Float64Array => orThrow(gridUniform(sde.tMax, sde.tMin, n));

// -------------------------------------------------------------------------------------------------------------
// Distribution: the samples of p_{tMin} = oracle.marginal(tMin). Noise: seed 5, n = 3000 (ring); seed 6,
// n = 1500 (16-D). Bias allowances ≈ 2× the discretization bias measured against RK45 at rtol = atol = 10⁻¹⁰ on
// the same noise (max over entries of |Δ mean|, |Δ covariance|, |Δ weight|):
//   ring VP Heun 60 steps: 4.6e-5, 2.1e-3, 0        ring VP RK4 20 steps: 2.5e-5, 2.2e-4, 0
//   ring VP RK45 10⁻⁵:     1.5e-7, 5.5e-6, 0        ring VE RK45 10⁻⁴:    8.4e-7, 3.3e-5, 0
//   16-D VP Heun 60 steps: 1.1e-3, 4.1e-3, 0        16-D VP RK45 10⁻⁵:    1.7e-5, 1.2e-4, 0
// The Monte-Carlo standard errors are ≈ 0.026 (ring mean), ≈ 0.03 (ring covariance), ≈ 0.05–0.15 (16-D).
// -------------------------------------------------------------------------------------------------------------

const cases: ReadonlyArray<
  readonly [name: string, sde: LinearSde, gm: GaussianMixture, options: ProbabilityFlowOptions, bias: Bias]
> = [
  [
    "ring, VP, Heun, 60 steps",
    vp,
    ring,
    { method: odeHeun, grid: uniform(vp, 60) },
    { mean: 1e-4, cov: 5e-3, weights: 1e-3 },
  ],
  [
    "ring, VP, RK4, 20 steps",
    vp,
    ring,
    { method: odeRk4, grid: uniform(vp, 20) },
    { mean: 1e-4, cov: 1e-3, weights: 1e-3 },
  ],
  [
    "ring, VP, RK45 at 10⁻⁵",
    vp,
    ring,
    { method: odeDopri5, rtol: 1e-5, atol: 1e-5 },
    { mean: 1e-5, cov: 1e-4, weights: 1e-3 },
  ],
  [
    "ring, VE, RK45 at 10⁻⁴",
    ve,
    ring,
    { method: odeDopri5, rtol: 1e-4, atol: 1e-4 },
    { mean: 1e-5, cov: 1e-4, weights: 1e-3 },
  ],
  [
    "16-D, VP, Heun, 60 steps",
    vp,
    mixture16,
    { method: odeHeun, grid: uniform(vp, 60) },
    { mean: 3e-3, cov: 1e-2, weights: 1e-3 },
  ],
  [
    "16-D, VP, RK45 at 10⁻⁵",
    vp,
    mixture16,
    { method: odeDopri5, rtol: 1e-5, atol: 1e-5 },
    { mean: 1e-4, cov: 1e-3, weights: 1e-3 },
  ],
];

describe("sampleProbabilityFlow: the samples have the exact mean, covariance and weights of p_tMin", () => {
  for (const [name, sde, gm, options, bias] of cases) {
    it(name, () => {
      const [seed, n] = gm.dim === 2 ? [5, 3000] : [6, 1500];
      const samples = orThrow(
        sampleProbabilityFlow(space, sde, scoreModel(sde, gm), standardNoise(seed, n, gm.dim), options),
      );
      expect(distributionViolations(samples.y, mixtureOracle(sde, gm).marginal(sde.tMin), bias)).toEqual([]);
    });
  }
});

describe("the distribution check has power", () => {
  it("fails the flow without the ½ (the score counted twice: dx/dt = f·x − g²·∇log p_t)", () => {
    const exact = scoreModel(vp, ring);
    const doubled: TimeModel<Tensor64> = {
      parameterization: "score",
      predict: (x, t) => space.combine([[2, exact.predict(x, t)]]),
    };
    const options = { method: odeHeun, grid: uniform(vp, 60) };
    const samples = orThrow(sampleProbabilityFlow(space, vp, doubled, standardNoise(5, 3000, 2), options));
    const violations = distributionViolations(
      samples.y,
      mixtureOracle(vp, ring).marginal(vp.tMin),
      cases[0][4],
    );
    expect(violations.filter((v) => v.startsWith("cov")).length).toBeGreaterThan(0);
  });
});

describe("probabilityFlowSteps", () => {
  const model = scoreModel(vp, ring);
  const noise = standardNoise(1, 50, 2);
  const grid = uniform(vp, 12);

  it("yields one record per step (t = grid[k], nfe = 2k for Heun) and its last y is the one-call result", () => {
    const iterator = probabilityFlowSteps(space, vp, model, noise, { method: odeHeun, grid });
    const records: SolverStep<Tensor64>[] = [];
    let next = iterator.next();
    for (; next.done !== true; next = iterator.next()) records.push(next.value);
    expect(records.map((r) => [r.step, r.t, r.nfe])).toEqual(
      Array.from(grid.subarray(1), (t, k) => [k + 1, t, 2 * (k + 1)]),
    );
    const solution = orThrow(sampleProbabilityFlow(space, vp, model, noise, { method: odeHeun, grid }));
    expect(orThrow(next.value)).toEqual(records[records.length - 1]);
    expect(records[records.length - 1].y).toEqual(solution.y);
    expect([solution.nfe, solution.steps]).toEqual([24, 12]);
    expect(solution.ts).toEqual(grid);
  });

  it("starts from sde.priorStd·noise: one Euler step is x + h·(f·x − ½g²·score) at tMax", () => {
    const x = space.combine([[ve.priorStd, noise]]);
    const [t0, t1] = [ve.tMax, 0.5];
    const veModel = scoreModel(ve, ring);
    const step = orThrow(
      sampleProbabilityFlow(space, ve, veModel, noise, { method: odeEuler, grid: [t0, t1] }),
    );
    const score = veModel.predict(x, t0);
    const expected = space.combine([
      [1 + (t1 - t0) * ve.f(t0), x],
      [-(t1 - t0) * 0.5 * ve.g(t0) ** 2, score],
    ]);
    expect(maxAbsDiff(step.y, expected)).toBeLessThan(1e-12 * ve.priorStd);
  });

  it("denoiseFinal adds one record at t = 0 holding Tweedie's E[x₀ | x_tMin], one more evaluation", () => {
    const plain = orThrow(
      runSteps(probabilityFlowSteps(space, vp, model, noise, { method: odeRk4, grid }), grid[0], noise),
    );
    const [solution, last] = orThrow(
      runSteps(
        probabilityFlowSteps(space, vp, model, noise, { method: odeRk4, grid, denoiseFinal: true }),
        grid[0],
        noise,
      ),
    );
    expect([last.step, last.t, last.nfe]).toEqual([13, 0, 49]);
    expect(solution.ts).toEqual(Float64Array.from([...grid, 0]));
    expect(maxAbsDiff(last.y, mixtureOracle(vp, ring).denoiser(plain[0].y, vp.tMin))).toBeLessThan(1e-13);
  });

  it("gives the first m samples of a batch of n exactly as a batch of m (fixed grid)", () => {
    const big = standardNoise(2, 40, 16);
    const small: Tensor64 = { shape: [7, 16], data: big.data.slice(0, 7 * 16) };
    const options = { method: odeHeun, grid: uniform(vp, 10) };
    const m16 = scoreModel(vp, mixture16);
    const all = orThrow(sampleProbabilityFlow(space, vp, m16, big, options));
    const few = orThrow(sampleProbabilityFlow(space, vp, m16, small, options));
    expect(few.y.data).toEqual(all.y.data.slice(0, 7 * 16));
  });
});

describe("the probability flow is a bijection", () => {
  for (const [name, sde, gm] of [
    ["ring, VP", vp, ring],
    ["ring, VE", ve, ring],
    ["16-D, VP", vp, mixture16],
  ] as const) {
    it(`${name}: encoding p_tMin data with RK45 then decoding returns it to 10⁻⁴`, () => {
      const model = scoreModel(sde, gm);
      const x = mixtureOracle(sde, gm).sample(orThrow(rngKey(8)), 64, sde.tMin);
      const tolerances = { method: odeDopri5, rtol: 1e-9, atol: 1e-9 };
      const latent = orThrow(encodeProbabilityFlow(space, sde, model, x, tolerances));
      expect(latent.ts[0]).toBe(sde.tMin);
      expect(latent.ts[latent.ts.length - 1]).toBe(sde.tMax);
      const noise = space.combine([[1 / sde.priorStd, latent.y]]);
      const decoded = orThrow(sampleProbabilityFlow(space, sde, model, noise, tolerances));
      expect(maxAbsDiff(decoded.y, x)).toBeLessThan(1e-4);
    });
  }

  it("a fixed increasing grid encodes and the same grid reversed decodes (RK4, 200 steps)", () => {
    const model = scoreModel(vp, ring);
    const x = mixtureOracle(vp, ring).sample(orThrow(rngKey(9)), 32, vp.tMin);
    const up = orThrow(gridUniform(vp.tMin, vp.tMax, 200));
    const latent = orThrow(encodeProbabilityFlow(space, vp, model, x, { method: odeRk4, grid: up }));
    // VP: priorStd = 1, so the latent x_T is the noise.
    const back = orThrow(
      sampleProbabilityFlow(space, vp, model, latent.y, { method: odeRk4, grid: up.slice().reverse() }),
    );
    expect(maxAbsDiff(back.y, x)).toBeLessThan(1e-4);
  });
});

describe("validation and failures", () => {
  const model = scoreModel(vp, ring);
  const noise = standardNoise(1, 4, 2);
  const leftField = (result: E.Either<{ readonly message: string }, unknown>): string =>
    E.isLeft(result) ? result.left.message : "Right";

  it("rejects grids that increase, leave [tMin, tMax] or are not finite, and non-finite noise", () => {
    const sample = (grid: ArrayLike<number>, x = noise) =>
      leftField(sampleProbabilityFlow(space, vp, model, x, { method: odeHeun, grid }));
    expect(sample([vp.tMin, vp.tMax])).toMatch(/sampleProbabilityFlow: grid must decrease/);
    expect(sample([1.5, 0.5])).toMatch(/time domain \[tMin, tMax\] = \[0.001, 1\]/);
    expect(sample([1, 0])).toMatch(/time domain/);
    expect(sample([1, Number.NaN])).toMatch(/grid\[1\] must be finite/);
    expect(sample([1])).toMatch(/at least 2 times/);
    const bad: Tensor64 = { shape: [4, 2], data: noise.data.map((v, i) => (i === 3 ? Number.NaN : v)) };
    expect(sample(uniform(vp, 4), bad)).toMatch(/noise\[3\] must be finite/);
    expect(
      leftField(encodeProbabilityFlow(space, vp, model, noise, { method: odeHeun, grid: uniform(vp, 4) })),
    ).toMatch(/encodeProbabilityFlow: grid must increase/);
    expect(
      leftField(sampleProbabilityFlow(space, vp, model, noise, { method: odeDopri5, rtol: -1, atol: 1e-6 })),
    ).toMatch(/rtol must be a finite number ≥ 0/);
  });

  it("stops with a nonFinite SolveFailure when the model returns NaN", () => {
    const broken: TimeModel<Tensor64> = {
      parameterization: "eps",
      predict: (x, t) => (t < 0.5 ? { shape: x.shape, data: x.data.map(() => Number.NaN) } : x),
    };
    const result = sampleProbabilityFlow(space, vp, broken, noise, {
      method: odeEuler,
      grid: uniform(vp, 10),
    });
    expect(E.isLeft(result) && result.left._tag === "SolveFailure" && result.left.reason).toBe("nonFinite");
  });
});
