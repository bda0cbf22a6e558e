import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { foldIn, rngKey } from "../../src/core/rng.js";
import { map, type Tensor64 } from "../../src/core/tensor.js";
import { ddpmMarginalAt } from "../../src/discrete/forward.js";
import { type DdpmSchedule, ddpmSchedule, ddpmTimesteps } from "../../src/discrete/index.js";
import { type DdpmSamplerOptions, ddpmAncestralSteps, sampleDdpm } from "../../src/samplers/ddpm.js";
import { clipTensor, discretePrediction } from "../../src/samplers/discrete-model.js";
import type { DiffusionModel, TimeModel } from "../../src/samplers/model.js";
import type { Parameterization } from "../../src/sde/index.js";
import type { SolverStep } from "../../src/solvers/index.js";
import {
  type Bias,
  distributionViolations,
  maxAbsDiff,
  mixture16,
  ring,
  space,
  standardNoise,
} from "../support/samplers-deterministic.js";
import { discreteScoreModel, firstMismatch, firstRows } from "../support/samplers-stochastic.js";

const schedule = orThrow(ddpmSchedule());
const key = orThrow(rngKey(41));
const leading = (n: number, T = 1000): Int32Array =>
  orThrow(ddpmTimesteps({ numInferenceSteps: n, numTrainTimesteps: T }));

// -------------------------------------------------------------------------------------------------------------
// diffusers parity. A float64 transcription of DDPMScheduler.step (huggingface/diffusers,
// src/diffusers/schedulers/scheduling_ddpm.py: `step`, `_get_variance`, `previous_timestep`; read at the
// version with `prediction_type`, `clip_sample_range`, `timestep_spacing` and custom timesteps), on our ᾱ.
// -------------------------------------------------------------------------------------------------------------

/** diffusers' configuration fields that `step` reads. */
interface DiffusersDdpm {
  readonly alphasCumprod: Float64Array;
  readonly numTrainTimesteps: number;
  readonly numInferenceSteps: number;
  /** Set when `set_timesteps(timesteps=…)` was called with custom timesteps. */
  readonly customTimesteps?: Int32Array;
  readonly predictionType: "epsilon" | "sample" | "v_prediction";
  readonly varianceType: "fixed_small" | "fixed_large";
  readonly clipSample: boolean;
  readonly clipSampleRange: number;
}

/** `DDPMScheduler.previous_timestep`. */
const previousTimestep = (c: DiffusersDdpm, timestep: number): number => {
  if (c.customTimesteps !== undefined) {
    const index = c.customTimesteps.indexOf(timestep);
    return index === c.customTimesteps.length - 1 ? -1 : c.customTimesteps[index + 1];
  }
  return timestep - Math.floor(c.numTrainTimesteps / c.numInferenceSteps);
};

/** `DDPMScheduler._get_variance` (fixed_small / fixed_large). */
const getVariance = (c: DiffusersDdpm, t: number): number => {
  const prevT = previousTimestep(c, t);
  const alphaProdT = c.alphasCumprod[t];
  const alphaProdTPrev = prevT >= 0 ? c.alphasCumprod[prevT] : 1;
  const currentBetaT = 1 - alphaProdT / alphaProdTPrev;
  let variance = ((1 - alphaProdTPrev) / (1 - alphaProdT)) * currentBetaT;
  variance = Math.max(variance, 1e-20);
  return c.varianceType === "fixed_small" ? variance : currentBetaT;
};

/** `DDPMScheduler.step(model_output, timestep, sample)` with the given variance noise; returns prev_sample. */
const diffusersDdpmStep = (
  c: DiffusersDdpm,
  modelOutput: Float64Array,
  timestep: number,
  sample: Float64Array,
  varianceNoise: Float64Array,
): Float64Array => {
  const t = timestep;
  const prevT = previousTimestep(c, t);
  const alphaProdT = c.alphasCumprod[t];
  const alphaProdTPrev = prevT >= 0 ? c.alphasCumprod[prevT] : 1;
  const betaProdT = 1 - alphaProdT;
  const betaProdTPrev = 1 - alphaProdTPrev;
  const currentAlphaT = alphaProdT / alphaProdTPrev;
  const currentBetaT = 1 - currentAlphaT;
  return sample.map((x, i) => {
    let predOriginalSample =
      c.predictionType === "epsilon"
        ? (x - betaProdT ** 0.5 * modelOutput[i]) / alphaProdT ** 0.5
        : c.predictionType === "sample"
          ? modelOutput[i]
          : alphaProdT ** 0.5 * x - betaProdT ** 0.5 * modelOutput[i];
    if (c.clipSample) {
      predOriginalSample = Math.min(c.clipSampleRange, Math.max(-c.clipSampleRange, predOriginalSample));
    }
    const predOriginalSampleCoeff = (alphaProdTPrev ** 0.5 * currentBetaT) / betaProdT;
    const currentSampleCoeff = (currentAlphaT ** 0.5 * betaProdTPrev) / betaProdT;
    const predPrevSample = predOriginalSampleCoeff * predOriginalSample + currentSampleCoeff * x;
    const variance = t > 0 ? getVariance(c, t) ** 0.5 * varianceNoise[i] : 0;
    return predPrevSample + variance;
  });
};

/** An arbitrary smooth network of (x, t) in one of diffusers' prediction types, as our model. */
const network = (parameterization: Parameterization): TimeModel<Tensor64> => ({
  parameterization,
  predict: (x, t) => map(x, (v, i) => 1.5 * Math.sin(1.3 * v + 0.002 * t + 0.1 * (i % 7))),
});

const PREDICTION: Readonly<Record<DiffusersDdpm["predictionType"], Parameterization>> = {
  epsilon: "eps",
  sample: "x0",
  v_prediction: "v",
};

/** Runs our sampler with its trajectory and checks every step against diffusers' on the same input and noise. */
const checkParity = (c: DiffusersDdpm, timesteps: Int32Array): void => {
  const model = network(PREDICTION[c.predictionType]);
  const noise = standardNoise(11, 16, 3);
  const clip = c.clipSample ? orThrow(clipTensor<Float64Array>(c.clipSampleRange)) : undefined;
  const { ys } = orThrow(
    sampleDdpm(space, schedule, model, noise, {
      timesteps,
      key,
      variance: c.varianceType,
      clip,
      saveTrajectory: true,
    }),
  );
  expect(ys?.length).toBe(timesteps.length + 1);
  for (let k = 0; k < timesteps.length; k++) {
    const x = ys![k];
    const z = space.normalLike(foldIn(key, k), x);
    const expected = diffusersDdpmStep(c, model.predict(x, timesteps[k]).data, timesteps[k], x.data, z.data);
    expect(firstMismatch(ys![k + 1].data, expected, 1e-6, 1e-12)).toBe(-1);
  }
};

describe("sampleDdpm matches diffusers' DDPMScheduler.step step for step", () => {
  const base = {
    alphasCumprod: schedule.alphaBars,
    numTrainTimesteps: 1000,
    clipSampleRange: 1,
  } as const;
  const predictionTypes = ["epsilon", "sample", "v_prediction"] as const;
  const varianceTypes = ["fixed_small", "fixed_large"] as const;
  for (const predictionType of predictionTypes) {
    for (const varianceType of varianceTypes) {
      for (const clipSample of [false, true]) {
        it(`${predictionType}, ${varianceType}, clip_sample=${clipSample}, 10 "leading" timesteps`, () => {
          const c = { ...base, numInferenceSteps: 10, predictionType, varianceType, clipSample };
          checkParity(c, leading(10));
        });
      }
    }
  }

  it("on all 1000 timesteps (Ho et al. 2020, Alg. 2)", () => {
    const c = {
      ...base,
      numInferenceSteps: 1000,
      predictionType: "epsilon" as const,
      varianceType: "fixed_small" as const,
      clipSample: false,
    };
    checkParity(c, leading(1000));
  });

  it('with custom timesteps: "linspace" spacing, previous timestep = the next entry', () => {
    const timesteps = orThrow(ddpmTimesteps({ numInferenceSteps: 7, spacing: "linspace" }));
    const c = {
      ...base,
      numInferenceSteps: 7,
      customTimesteps: timesteps,
      predictionType: "v_prediction" as const,
      varianceType: "fixed_large" as const,
      clipSample: false,
    };
    checkParity(c, timesteps);
  });
});

// -------------------------------------------------------------------------------------------------------------
// Distribution. The discrete marginal of mixture data at timestep t is the mixture at (√ᾱ_t, √(1 − ᾱ_t)); the
// oracle gives its exact score. Measured bias (n = 20000 ring, 5000 16-D; same timesteps): 100 "leading"
// steps of T = 1000, fixed_large: max |Δ mean|, |Δ cov|, |Δ weight| = 2.2e-2, 8.3e-3, 5.8e-3 (ring, all within
// 2.5 SE), 4.9e-2, 7.2e-2, 9.8e-3 (16-D, within 2.4 SE); fixed_small: 1.5e-2 on the ring covariance and 0.13 on
// one 16-D covariance entry (4.1 SE at n = 5000, 1.8 SE at n = 1000). All 200 steps of a T = 200 linear
// schedule (β from 5e-4 to 0.1): ring 1.3e-2, 1.9e-2, 4.2e-3 (within 1.8 SE).
// -------------------------------------------------------------------------------------------------------------

describe("sampleDdpm: distribution of the samples (exact oracle ε)", () => {
  const short = orThrow(ddpmSchedule({ numTrainTimesteps: 200, betaStart: 5e-4, betaEnd: 0.1 }));
  const cases: ReadonlyArray<
    readonly [
      name: string,
      schedule: DdpmSchedule,
      timesteps: Int32Array,
      variance: "fixed_small" | "fixed_large",
      n: number,
      gm: typeof ring,
      bias: Bias,
    ]
  > = [
    [
      "ring, 100 of 1000 steps, fixed_large",
      schedule,
      leading(100),
      "fixed_large",
      3000,
      ring,
      { mean: 0.01, cov: 0.02, weights: 0.01 },
    ],
    [
      "ring, 100 of 1000 steps, fixed_small",
      schedule,
      leading(100),
      "fixed_small",
      3000,
      ring,
      { mean: 0.01, cov: 0.03, weights: 0.01 },
    ],
    [
      "ring, all 200 steps of T = 200",
      short,
      leading(200, 200),
      "fixed_small",
      2000,
      ring,
      { mean: 0.01, cov: 0.03, weights: 0.01 },
    ],
    [
      "16-D, 100 of 1000 steps, fixed_small",
      schedule,
      leading(100),
      "fixed_small",
      1000,
      mixture16,
      { mean: 0.02, cov: 0.15, weights: 0.01 },
    ],
  ];
  it.each(cases)("%s", (_name, sched, timesteps, variance, n, gm, bias) => {
    const result = orThrow(
      sampleDdpm(space, sched, discreteScoreModel(sched, gm), standardNoise(5, n, gm.dim), {
        timesteps,
        key,
        variance,
      }),
    );
    expect(distributionViolations(result.y, gm, bias)).toEqual([]);
    expect(result.nfe).toBe(timesteps.length);
  });
});

describe("sampleDdpm: models, determinism and the iterator", () => {
  const exact = discreteScoreModel(schedule, ring);
  const noise = standardNoise(8, 64, 2);
  const options: DdpmSamplerOptions<Tensor64> = { timesteps: leading(20), key };

  it("gives the same samples for every parameterization of the same model", () => {
    const reference = orThrow(sampleDdpm(space, schedule, exact, noise, options)).y;
    const predict = discretePrediction(space, schedule, exact);
    const timeOfSigma = new Map(
      Array.from(schedule.alphaBars, (_, t) => [
        ddpmMarginalAt(schedule, t).std / ddpmMarginalAt(schedule, t).scale,
        t,
      ]),
    );
    const as = (target: Parameterization): TimeModel<Tensor64> => ({
      parameterization: target,
      predict: (x, t) => predict(x, t)(target),
    });
    const models: ReadonlyArray<DiffusionModel<Tensor64>> = [
      as("eps"),
      as("x0"),
      as("v"),
      {
        parameterization: "denoiser",
        // D(x̂; σ) = x₀-prediction at x = s·x̂ and the timestep t whose σ_t/s_t is σ.
        denoise: (xHat, sigma) => {
          const t = timeOfSigma.get(sigma) ?? Number.NaN;
          return predict(
            map(xHat, (v) => v * ddpmMarginalAt(schedule, t).scale),
            t,
          )("x0");
        },
      },
    ];
    for (const model of models) {
      const y = orThrow(sampleDdpm(space, schedule, model, noise, options)).y;
      expect(maxAbsDiff(y, reference)).toBeLessThan(1e-9);
    }
  });

  it("is a pure function of (noise, key), and a sample does not depend on its batch", () => {
    const a = orThrow(sampleDdpm(space, schedule, exact, noise, options)).y;
    expect(Array.from(orThrow(sampleDdpm(space, schedule, exact, noise, options)).y.data)).toEqual(
      Array.from(a.data),
    );
    const other = orThrow(
      sampleDdpm(space, schedule, exact, noise, { ...options, key: orThrow(rngKey(42)) }),
    ).y;
    expect(maxAbsDiff(other, a)).toBeGreaterThan(0.01);
    const small = orThrow(sampleDdpm(space, schedule, exact, firstRows(noise, 10), options)).y;
    expect(Array.from(small.data)).toEqual(Array.from(firstRows(a, 10).data));
  });

  it("yields one record per timestep, t = the next timestep (−1 at the end), and ends at the one-call result", () => {
    const records: SolverStep<Tensor64>[] = [];
    const iterator = ddpmAncestralSteps(space, schedule, exact, noise, options);
    let next = iterator.next();
    while (next.done !== true) {
      records.push(next.value);
      next = iterator.next();
    }
    expect(records.map((r) => r.t)).toEqual([...Array.from(options.timesteps).slice(1), -1]);
    expect(records.map((r) => r.nfe)).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    expect(orThrow(next.value)).toBe(records[19]);
    const solution = orThrow(sampleDdpm(space, schedule, exact, noise, options));
    expect(Array.from(solution.y.data)).toEqual(Array.from(records[19].y.data));
    expect(Array.from(solution.ts)).toEqual([options.timesteps[0], ...records.map((r) => r.t)]);
  });

  it("returns x̂₀ itself after the last step (ᾱ_{−1} = 1, no noise)", () => {
    const x = standardNoise(12, 5, 2);
    const y = orThrow(sampleDdpm(space, schedule, exact, x, { timesteps: [37], key })).y;
    expect(maxAbsDiff(y, discretePrediction(space, schedule, exact)(x, 37)("x0"))).toBeLessThan(1e-12);
  });
});

describe("sampleDdpm: bad input is a Left", () => {
  const model = discreteScoreModel(schedule, ring);
  const noise = standardNoise(9, 4, 2);
  const bad: ReadonlyArray<readonly [string, DdpmSamplerOptions<Tensor64>, Tensor64]> = [
    ["no timesteps", { timesteps: [], key }, noise],
    ["a timestep beyond T − 1", { timesteps: [1000, 10], key }, noise],
    ["a negative timestep", { timesteps: [10, -1], key }, noise],
    ["increasing timesteps", { timesteps: [10, 20], key }, noise],
    ["a repeated timestep", { timesteps: [20, 20, 0], key }, noise],
    ["a fractional timestep", { timesteps: [20.5, 0], key }, noise],
    ["an unknown variance type", { timesteps: [20, 0], key, variance: "learned" as "fixed_small" }, noise],
    ["a missing key", { timesteps: [20, 0], key: undefined as never }, noise],
    [
      "non-finite noise",
      { timesteps: [20, 0], key },
      { shape: [1, 2], data: new Float64Array([Number.NaN, 0]) },
    ],
  ];
  it.each(bad)("%s", (_name, options, x) => {
    const result = sampleDdpm(space, schedule, model, x, options);
    expect(E.isLeft(result)).toBe(true);
    if (E.isLeft(result)) expect(result.left.message).toMatch(/^sampleDdpm: /);
  });

  it("clipTensor rejects a non-positive range", () => {
    expect(E.isLeft(clipTensor(0))).toBe(true);
    expect(E.isLeft(clipTensor(Number.NaN))).toBe(true);
  });
});
