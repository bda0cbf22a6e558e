import fc from "fast-check";
import type * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import { ddpmSchedule } from "../../src/discrete/index.js";
import { sampleDdim } from "../../src/samplers/ddim.js";
import { sampleDdpm } from "../../src/samplers/ddpm.js";
import { discretePrediction } from "../../src/samplers/discrete-model.js";
import { sampleAnnealedLangevin } from "../../src/samplers/langevin.js";
import type { TimeModel } from "../../src/samplers/model.js";
import {
  type CorrectorStepSize,
  langevinCorrectorStep,
  samplePredictorCorrector,
} from "../../src/samplers/predictor-corrector.js";
import { sampleReverseSde } from "../../src/samplers/reverse-sde.js";
import { type Parameterization, veSde, vpSde } from "../../src/sde/index.js";
import { gridUniform, type Solution, type SolveError } from "../../src/solvers/index.js";
import { maxAbsDiff, ring, scoreModel, standardNoise } from "../support/samplers-deterministic.js";
import { batchSpace, discreteScoreModel, firstRows } from "../support/samplers-stochastic.js";

const vp = orThrow(vpSde());
const ve = orThrow(veSde());
const schedule = orThrow(ddpmSchedule());
const PARAMETERIZATIONS: readonly Parameterization[] = ["eps", "x0", "v", "score"];

/** A strictly decreasing subset of {0, …, 999}, at least one timestep. */
const timestepsArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 999 }), { minLength: 1, maxLength: 12 })
  .map((ts) => Int32Array.from(ts.sort((a, b) => b - a)));

/** Every stochastic sampler of this folder, as (noise, seed) → samples, on the ring oracle with few steps. */
const samplers: ReadonlyArray<
  readonly [name: string, run: (noise: Tensor64, seed: number) => E.Either<SolveError, Solution<Tensor64>>]
> = [
  [
    "reverse SDE",
    (noise, seed) =>
      sampleReverseSde(batchSpace, vp, scoreModel(vp, ring), noise, {
        grid: orThrow(gridUniform(vp.tMax, vp.tMin, 6)),
        key: orThrow(rngKey(seed)),
      }),
  ],
  [
    "predictor–corrector",
    (noise, seed) =>
      samplePredictorCorrector(batchSpace, ve, scoreModel(ve, ring), noise, {
        grid: orThrow(gridUniform(ve.tMax, ve.tMin, 6)),
        key: orThrow(rngKey(seed)),
        nCorrector: 2,
      }),
  ],
  [
    "predictor–corrector, per-sample step size",
    (noise, seed) =>
      samplePredictorCorrector(batchSpace, vp, scoreModel(vp, ring), noise, {
        grid: orThrow(gridUniform(vp.tMax, vp.tMin, 6)),
        key: orThrow(rngKey(seed)),
        stepSize: "per-sample",
      }),
  ],
  [
    "annealed Langevin",
    (noise, seed) =>
      sampleAnnealedLangevin(batchSpace, ve, scoreModel(ve, ring), noise, {
        noiseLevels: [5, 1, 0.2],
        stepsPerLevel: 2,
        stepSize: 1e-3,
        key: orThrow(rngKey(seed)),
      }),
  ],
  [
    "DDPM",
    (noise, seed) =>
      sampleDdpm(batchSpace, schedule, discreteScoreModel(schedule, ring), noise, {
        timesteps: [999, 700, 300, 40, 0],
        key: orThrow(rngKey(seed)),
        variance: "fixed_large",
      }),
  ],
  [
    "DDIM, η = 0.6",
    (noise, seed) =>
      sampleDdim(batchSpace, schedule, discreteScoreModel(schedule, ring), noise, {
        timesteps: [999, 700, 300, 40, 0],
        eta: 0.6,
        key: orThrow(rngKey(seed)),
      }),
  ],
];

describe("stochastic samplers: a sample does not depend on its batch", () => {
  it.each(samplers)("%s: the first m samples of a batch of n equal a batch of m", (_name, run) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 4 }),
        fc.nat({ max: 2 ** 31 }),
        (m, extra, seed) => {
          const noise = standardNoise(seed, m + extra, 2);
          const full = orThrow(run(noise, seed)).y;
          const part = orThrow(run(firstRows(noise, m), seed)).y;
          expect(Array.from(part.data)).toEqual(Array.from(firstRows(full, m).data));
        },
      ),
      { numRuns: 8 },
    );
  });
});

describe("DDIM and DDPM", () => {
  const exact = discreteScoreModel(schedule, ring);

  it("DDIM at η = 1 equals DDPM with fixed_small variance on any timesteps, for the same key", () => {
    fc.assert(
      fc.property(timestepsArb, fc.nat({ max: 2 ** 31 }), (timesteps, seed) => {
        const noise = standardNoise(seed, 4, 2);
        const key = orThrow(rngKey(seed));
        const ddim = orThrow(sampleDdim(batchSpace, schedule, exact, noise, { timesteps, eta: 1, key })).y;
        const ddpm = orThrow(sampleDdpm(batchSpace, schedule, exact, noise, { timesteps, key })).y;
        return maxAbsDiff(ddim, ddpm) <= 1e-9 * (1 + Math.max(...Array.from(ddpm.data, Math.abs)));
      }),
      { numRuns: 25 },
    );
  });

  it("DDIM at η = 0 does not depend on the key", () => {
    fc.assert(
      fc.property(timestepsArb, fc.nat({ max: 2 ** 31 }), fc.nat({ max: 2 ** 31 }), (timesteps, a, b) => {
        const noise = standardNoise(a, 3, 2);
        const ya = orThrow(
          sampleDdim(batchSpace, schedule, exact, noise, { timesteps, key: orThrow(rngKey(a)) }),
        ).y;
        const yb = orThrow(
          sampleDdim(batchSpace, schedule, exact, noise, { timesteps, key: orThrow(rngKey(b)) }),
        ).y;
        expect(Array.from(ya.data)).toEqual(Array.from(yb.data));
      }),
      { numRuns: 20 },
    );
  });

  it("a model in any parameterization predicts every target as the exact model does", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PARAMETERIZATIONS),
        fc.constantFrom(...PARAMETERIZATIONS),
        fc.integer({ min: 0, max: 999 }),
        fc.nat({ max: 2 ** 31 }),
        (from, to, t, seed) => {
          const exactPrediction = discretePrediction(batchSpace, schedule, exact);
          const model: TimeModel<Tensor64> = {
            parameterization: from,
            predict: (x, s) => exactPrediction(x, s)(from),
          };
          const x = standardNoise(seed, 3, 2);
          const expected = exactPrediction(x, t)(to);
          const got = discretePrediction(batchSpace, schedule, model)(x, t)(to);
          const scale = 1 + Math.max(...Array.from(expected.data, Math.abs));
          return maxAbsDiff(got, expected) <= 1e-9 * scale;
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("langevinCorrectorStep", () => {
  it("noise-level and per-sample: row i of the result depends on row i of (x, g, z) only (commutes with row permutations)", () => {
    const rowsArb = fc.integer({ min: 2, max: 6 }).chain((n) =>
      fc.tuple(
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 3 * n, maxLength: 3 * n }),
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 3 * n, maxLength: 3 * n }),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 3 * n, maxLength: 3 * n }),
        fc.shuffledSubarray(
          Array.from({ length: n }, (_, i) => i),
          { minLength: n, maxLength: n },
        ),
      ),
    );
    const levelArb = fc.record({
      alpha: fc.double({ min: 0.5, max: 1, noNaN: true }),
      std: fc.double({ min: 0.01, max: 50, noNaN: true }),
      snr: fc.double({ min: 0.01, max: 1, noNaN: true }),
      stepSize: fc.constantFrom<CorrectorStepSize>("noise-level", "per-sample"),
    });
    fc.assert(
      fc.property(rowsArb, levelArb, ([x, g, z, perm], level) => {
        const n = perm.length;
        const tensor = (v: number[]): Tensor64 => ({ shape: [n, 3], data: Float64Array.from(v) });
        const permute = (v: number[]): number[] => perm.flatMap((i) => v.slice(3 * i, 3 * i + 3));
        const out = langevinCorrectorStep(batchSpace, tensor(x), tensor(g), tensor(z), level);
        const permuted = langevinCorrectorStep(
          batchSpace,
          tensor(permute(x)),
          tensor(permute(g)),
          tensor(permute(z)),
          level,
        );
        expect(Array.from(permuted.data)).toEqual(permute(Array.from(out.data)));
      }),
      { numRuns: 60 },
    );
  });

  it("noise-level: the step is x + ε·g + √(2ε)·z with ε = 2α(rσ)², linear in (g, z) whatever their norms", () => {
    const vec = fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 4, maxLength: 4 });
    fc.assert(
      fc.property(
        vec,
        vec,
        vec,
        fc.double({ min: 0.5, max: 1, noNaN: true }),
        fc.double({ min: 0.01, max: 50, noNaN: true }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (x, g, z, alpha, std, snr) => {
          const tensor = (v: number[]): Tensor64 => ({ shape: [2, 2], data: Float64Array.from(v) });
          const out = langevinCorrectorStep(batchSpace, tensor(x), tensor(g), tensor(z), {
            alpha,
            std,
            snr,
            stepSize: "noise-level",
          });
          const eps = 2 * alpha * (snr * std) ** 2;
          return out.data.every((v, j) => {
            const expected = x[j] + eps * g[j] + Math.sqrt(2 * eps) * z[j];
            return Math.abs(v - expected) <= 1e-12 * (1 + Math.abs(expected));
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});
