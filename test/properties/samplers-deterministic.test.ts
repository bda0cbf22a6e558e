import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { type Tensor64, tensorSpace, zeros64 } from "../../src/core/tensor.js";
import { gaussianMixture, mixtureOracle } from "../../src/oracle/index.js";
import { sampleDpmpp2m } from "../../src/samplers/dpm-solver.js";
import { sampleEdm } from "../../src/samplers/edm.js";
import { type DiffusionModel, predictAs, type TimeModel } from "../../src/samplers/model.js";
import { encodeProbabilityFlow, sampleProbabilityFlow } from "../../src/samplers/probability-flow.js";
import {
  edmSde,
  type LinearSde,
  linearSde,
  noiseLevel,
  type Parameterization,
  subVpSde,
  veSde,
  vpCosineSde,
  vpSde,
} from "../../src/sde/index.js";
import { gridKarras, odeDopri5 } from "../../src/solvers/index.js";

const space = tensorSpace<Float64Array>();
const sdes: readonly LinearSde[] = [
  ...[vpSde(), vpCosineSde(), subVpSde(), veSde(), edmSde()].map(orThrow),
  orThrow(
    linearSde({ name: "custom", f: (t) => -0.3 - t, g: (t) => Math.sqrt(0.5 + 2 * t), tMin: 1e-3, tMax: 1 }),
  ),
];
const targets: readonly Parameterization[] = ["eps", "x0", "v", "score"];

/** A point of the SDE's domain: t = tMin + u·(tMax − tMin). */
const timeAt = (sde: LinearSde, u: number): number => sde.tMin + u * (sde.tMax - sde.tMin);

/** max |a − b| / max(1, max |b|). */
const relativeError = (a: Tensor64, b: Tensor64): number => {
  let diff = 0;
  let size = 1;
  for (let i = 0; i < b.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
    size = Math.max(size, Math.abs(b.data[i]));
  }
  return diff / size;
};

/** max |a − b|. */
const maxAbsDiff = (a: Tensor64, b: Tensor64): number =>
  a.data.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b.data[i])), 0);

/** n standard normal rows of dimension d from a seed. */
const noiseOf = (seed: number, n: number, d: number): Tensor64 =>
  space.normalLike(orThrow(rngKey(seed)), zeros64([n, d]));

/** The x₀-model that always predicts μ: the data is a point mass at μ. */
const constantModel = (mu: readonly number[]): TimeModel<Tensor64> => ({
  parameterization: "x0",
  predict: (x) => ({ shape: x.shape, data: x.data.map((_, i) => mu[i % mu.length]) }),
});

/**
 * The exact probability flow of a point mass at μ: x_t − s(t)·μ = (σ(t)/σ(t₀))·(x_{t₀} − s(t₀)·μ), since the
 * flow dx/dt = f·x − ½g²·(s·μ − x)/σ² gives y = x − s·μ the rate f + g²/(2σ²) = d log σ/dt.
 */
const pointMassFlow = (
  sde: LinearSde,
  mu: readonly number[],
  x: Tensor64,
  t0: number,
  t: number,
): Tensor64 => ({
  shape: x.shape,
  data: x.data.map(
    (xi, i) =>
      sde.scale(t) * mu[i % mu.length] +
      (sde.std(t) / sde.std(t0)) * (xi - sde.scale(t0) * mu[i % mu.length]),
  ),
});

/** A decreasing grid: tMax, then the times at fractions k/1000 of the domain (k distinct, in 1 … 999), then tMin. */
const gridFrom = (sde: LinearSde, thousandths: readonly number[]): Float64Array => {
  const inner = [...new Set(thousandths)].sort((a, b) => b - a).map((k) => timeAt(sde, k / 1000));
  return Float64Array.from([sde.tMax, ...inner, sde.tMin]);
};

const mu2 = fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 2, maxLength: 2 });

describe("model adapters", () => {
  it("conversions compose: an r-model re-expressed as p predicts, for any target q, what the r-model does", () => {
    const data = orThrow(
      gaussianMixture({
        weights: [0.3, 0.7],
        means: [
          [1, -1],
          [-2, 0.5],
        ],
        variances: [0.2, 0.5],
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...sdes),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(...targets),
        fc.constantFrom(...targets),
        fc.constantFrom(...targets),
        fc.nat(1000),
        (sde, u, r, p, q, seed) => {
          const t = timeAt(sde, u);
          const x = mixtureOracle(sde, data).sample(orThrow(rngKey(seed)), 4, t);
          const score: TimeModel<Tensor64> = {
            parameterization: "score",
            predict: mixtureOracle(sde, data).score,
          };
          const base: TimeModel<Tensor64> = { parameterization: r, predict: predictAs(space, sde, score, r) };
          const reexpressed: DiffusionModel<Tensor64> = {
            parameterization: p,
            predict: predictAs(space, sde, base, p),
          };
          // A conversion to ε or the score divides x − s·x₀ = σ·ε by σ or σ², so a rounding of ε_mach·|x| in
          // an intermediate x₀ or v grows to ε_mach·|x|/σ²: 2·10⁻⁸ at VE's and sub-VP's tMin (σ ≈ 10⁻⁴).
          const size = Math.max(1, ...x.data.map(Math.abs));
          const tolerance = 1e-10 + (16 * Number.EPSILON * size) / Math.min(1, sde.std(t)) ** 2;
          return (
            relativeError(predictAs(space, sde, reexpressed, q)(x, t), predictAs(space, sde, base, q)(x, t)) <
            tolerance
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("exactness on a point mass (constant x₀-prediction), any SDE, any grid", () => {
  it("DPM-Solver++(2M) is the exact flow: an exponential integrator is exact for constant x₀", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...sdes),
        fc.array(fc.integer({ min: 1, max: 999 }), { maxLength: 10 }),
        fc.boolean(),
        fc.boolean(),
        mu2,
        fc.nat(1000),
        (sde, fractions, toZero, lowerOrderFinal, mu, seed) => {
          const base = gridFrom(sde, fractions);
          const grid = toZero ? Float64Array.from([...base, 0]) : base;
          const noise = noiseOf(seed, 3, 2);
          const result = orThrow(
            sampleDpmpp2m(space, sde, constantModel(mu), noise, { grid, lowerOrderFinal }),
          );
          const start = space.combine([[sde.priorStd, noise]]);
          const exact = pointMassFlow(sde, mu, start, sde.tMax, grid[grid.length - 1]);
          expect(relativeError(result.y, exact)).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("the EDM sampler follows x̂ − μ ∝ σ exactly at every step (Heun is exact on it) and ends at μ, churn or not", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...sdes),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.double({ min: 1e-4, max: 0.04, noNaN: true }),
        fc.integer({ min: 2, max: 12 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        mu2,
        fc.nat(1000),
        (sde, top, bottom, n, rho, sChurn, mu, seed) => {
          const sigmaMax = top * noiseLevel(sde, sde.tMax) * (1 / Math.SQRT2);
          const sigmas = orThrow(
            gridKarras({ sigmaMin: bottom * sigmaMax, sigmaMax, n, rho, appendZero: true }),
          );
          const noise = noiseOf(seed, 3, 2);
          const model = constantModel(mu);
          const plain = orThrow(sampleEdm(space, sde, model, noise, { sigmas, saveTrajectory: true }));
          const start = space.combine([[sigmas[0], noise]]);
          // Heun's correction d′ = (x_e − μ)/σ_{i+1} amplifies the rounding of the Euler state x_e by
          // (σ_i − σ_{i+1})/(2σ_{i+1}): the error bound grows with the largest step ratio σ_i/σ_{i+1}.
          let ratio = 1;
          for (let i = 0; i + 2 < sigmas.length; i++) ratio = Math.max(ratio, sigmas[i] / sigmas[i + 1]);
          const size = Math.max(1, ...start.data.map((x, j) => Math.abs(x - mu[j % 2])));
          (plain.ys ?? []).forEach((y, i) => {
            const expected: Tensor64 = {
              shape: y.shape,
              data: start.data.map((x, j) => mu[j % 2] + (sigmas[i] / sigmas[0]) * (x - mu[j % 2])),
            };
            expect(maxAbsDiff(y, expected)).toBeLessThan(1e-14 * n * ratio * size);
          });
          const churned = orThrow(
            sampleEdm(space, sde, model, noise, { sigmas, sChurn, key: orThrow(rngKey(seed)) }),
          );
          expect(
            relativeError(churned.y, { shape: [3, 2], data: Float64Array.from([...mu, ...mu, ...mu]) }),
          ).toBeLessThan(1e-12);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("probability flow of Gaussian data N(μ, c²I)", () => {
  it("RK45 transports x_T to s·μ + (r(tMin)/r(tMax))·(x_T − s(tMax)·μ), r = √(s²c² + σ²), and encoding inverts it", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...sdes),
        mu2,
        fc.double({ min: 0.2, max: 2, noNaN: true }),
        fc.nat(1000),
        (sde, mu, c, seed) => {
          const data = orThrow(gaussianMixture({ weights: [1], means: [mu], variances: c * c }));
          const model: TimeModel<Tensor64> = {
            parameterization: "score",
            predict: mixtureOracle(sde, data).score,
          };
          const noise = noiseOf(seed, 4, 2);
          const options = { method: odeDopri5, rtol: 1e-9, atol: 1e-9 };
          const result = orThrow(sampleProbabilityFlow(space, sde, model, noise, options));
          const r = (t: number): number => Math.hypot(sde.scale(t) * c, sde.std(t));
          const start = space.combine([[sde.priorStd, noise]]);
          const exact: Tensor64 = {
            shape: start.shape,
            data: start.data.map(
              (x, i) =>
                sde.scale(sde.tMin) * mu[i % 2] +
                (r(sde.tMin) / r(sde.tMax)) * (x - sde.scale(sde.tMax) * mu[i % 2]),
            ),
          };
          const scale = Math.max(1, sde.priorStd);
          expect(relativeError(result.y, exact)).toBeLessThan(1e-6 * scale);
          const encoded = orThrow(encodeProbabilityFlow(space, sde, model, result.y, options));
          expect(relativeError(encoded.y, start)).toBeLessThan(1e-6 * scale);
        },
      ),
      { numRuns: 30 },
    );
  });
});
