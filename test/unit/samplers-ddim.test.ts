import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { foldIn, rngKey } from "../../src/core/rng.js";
import { map, type Tensor64 } from "../../src/core/tensor.js";
import { ddpmSchedule, ddpmTimesteps, vpDdpmSchedule } from "../../src/discrete/index.js";
import { type DdimSamplerOptions, ddimSteps, sampleDdim } from "../../src/samplers/ddim.js";
import { sampleDdpm } from "../../src/samplers/ddpm.js";
import { clipTensor, discretePrediction } from "../../src/samplers/discrete-model.js";
import type { TimeModel } from "../../src/samplers/model.js";
import { sampleProbabilityFlow } from "../../src/samplers/probability-flow.js";
import { type Parameterization, vpSde } from "../../src/sde/index.js";
import { gridUniform, odeRk4, type SolverStep } from "../../src/solvers/index.js";
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
import { discreteScoreModel, firstMismatch, firstRows } from "../support/samplers-stochastic.js";

const schedule = orThrow(ddpmSchedule());
const key = orThrow(rngKey(51));
const leading = (n: number, stepsOffset = 0): Int32Array =>
  orThrow(ddpmTimesteps({ numInferenceSteps: n, stepsOffset }));
/** All N timesteps N − 1, …, 0 of a schedule of N steps. */
const allTimesteps = (N: number): Int32Array =>
  orThrow(ddpmTimesteps({ numInferenceSteps: N, numTrainTimesteps: N }));

// -------------------------------------------------------------------------------------------------------------
// diffusers parity. A float64 transcription of DDIMScheduler.step (huggingface/diffusers,
// src/diffusers/schedulers/scheduling_ddim.py: `step`, `_get_variance`, `final_alpha_cumprod`; read at the
// version with `prediction_type`, `clip_sample_range` and `timestep_spacing`), on our ᾱ.
// -------------------------------------------------------------------------------------------------------------

/** diffusers' configuration fields and step arguments that `step` reads. */
interface DiffusersDdim {
  readonly alphasCumprod: Float64Array;
  readonly numTrainTimesteps: number;
  readonly numInferenceSteps: number;
  readonly setAlphaToOne: boolean;
  readonly predictionType: "epsilon" | "sample" | "v_prediction";
  readonly clipSample: boolean;
  readonly clipSampleRange: number;
  readonly eta: number;
  readonly useClippedModelOutput: boolean;
}

/** `DDIMScheduler.step(model_output, timestep, sample, eta, use_clipped_model_output, variance_noise)`. */
const diffusersDdimStep = (
  c: DiffusersDdim,
  modelOutput: Float64Array,
  timestep: number,
  sample: Float64Array,
  varianceNoise: Float64Array,
): Float64Array => {
  const prevTimestep = timestep - Math.floor(c.numTrainTimesteps / c.numInferenceSteps);
  const finalAlphaCumprod = c.setAlphaToOne ? 1 : c.alphasCumprod[0];
  const alphaProdT = c.alphasCumprod[timestep];
  const alphaProdTPrev = prevTimestep >= 0 ? c.alphasCumprod[prevTimestep] : finalAlphaCumprod;
  const betaProdT = 1 - alphaProdT;
  // _get_variance(timestep, prev_timestep)
  const betaProdTPrev = 1 - alphaProdTPrev;
  const variance = (betaProdTPrev / betaProdT) * (1 - alphaProdT / alphaProdTPrev);
  const stdDevT = c.eta * variance ** 0.5;
  return sample.map((x, i) => {
    let predOriginalSample: number;
    let predEpsilon: number;
    if (c.predictionType === "epsilon") {
      predOriginalSample = (x - betaProdT ** 0.5 * modelOutput[i]) / alphaProdT ** 0.5;
      predEpsilon = modelOutput[i];
    } else if (c.predictionType === "sample") {
      predOriginalSample = modelOutput[i];
      predEpsilon = (x - alphaProdT ** 0.5 * predOriginalSample) / betaProdT ** 0.5;
    } else {
      predOriginalSample = alphaProdT ** 0.5 * x - betaProdT ** 0.5 * modelOutput[i];
      predEpsilon = alphaProdT ** 0.5 * modelOutput[i] + betaProdT ** 0.5 * x;
    }
    if (c.clipSample) {
      predOriginalSample = Math.min(c.clipSampleRange, Math.max(-c.clipSampleRange, predOriginalSample));
    }
    if (c.useClippedModelOutput) {
      predEpsilon = (x - alphaProdT ** 0.5 * predOriginalSample) / betaProdT ** 0.5;
    }
    const predSampleDirection = (1 - alphaProdTPrev - stdDevT ** 2) ** 0.5 * predEpsilon;
    const prevSample = alphaProdTPrev ** 0.5 * predOriginalSample + predSampleDirection;
    return c.eta > 0 ? prevSample + stdDevT * varianceNoise[i] : prevSample;
  });
};

/** An arbitrary smooth network of (x, t) in one of diffusers' prediction types, as our model. */
const network = (parameterization: Parameterization): TimeModel<Tensor64> => ({
  parameterization,
  predict: (x, t) => map(x, (v, i) => 1.5 * Math.cos(0.9 * v - 0.003 * t + 0.2 * (i % 5))),
});

const PREDICTION: Readonly<Record<DiffusersDdim["predictionType"], Parameterization>> = {
  epsilon: "eps",
  sample: "x0",
  v_prediction: "v",
};

describe("sampleDdim matches diffusers' DDIMScheduler.step step for step", () => {
  const cases: ReadonlyArray<Omit<DiffusersDdim, "alphasCumprod" | "numTrainTimesteps" | "clipSampleRange">> =
    [
      {
        numInferenceSteps: 10,
        setAlphaToOne: true,
        predictionType: "epsilon",
        clipSample: false,
        eta: 0,
        useClippedModelOutput: false,
      },
      {
        numInferenceSteps: 10,
        setAlphaToOne: false,
        predictionType: "epsilon",
        clipSample: false,
        eta: 0.5,
        useClippedModelOutput: false,
      },
      {
        numInferenceSteps: 25,
        setAlphaToOne: true,
        predictionType: "sample",
        clipSample: true,
        eta: 1,
        useClippedModelOutput: false,
      },
      {
        numInferenceSteps: 25,
        setAlphaToOne: false,
        predictionType: "v_prediction",
        clipSample: true,
        eta: 0.3,
        useClippedModelOutput: true,
      },
      {
        numInferenceSteps: 50,
        setAlphaToOne: true,
        predictionType: "v_prediction",
        clipSample: false,
        eta: 0,
        useClippedModelOutput: false,
      },
      {
        numInferenceSteps: 7,
        setAlphaToOne: true,
        predictionType: "epsilon",
        clipSample: true,
        eta: 1,
        useClippedModelOutput: true,
      },
    ];
  const label = (c: (typeof cases)[number]): string =>
    `${c.numInferenceSteps} steps, ${c.predictionType}, η = ${c.eta}, set_alpha_to_one=${c.setAlphaToOne}, ` +
    `clip_sample=${c.clipSample}, use_clipped_model_output=${c.useClippedModelOutput}`;
  for (const stepsOffset of [0, 1]) {
    it.each(cases.map((c) => [label(c), c] as const))(`%s, steps_offset=${stepsOffset}`, (_name, fields) => {
      const c: DiffusersDdim = {
        ...fields,
        alphasCumprod: schedule.alphaBars,
        numTrainTimesteps: 1000,
        clipSampleRange: 1,
      };
      const timesteps = leading(c.numInferenceSteps, stepsOffset);
      const model = network(PREDICTION[c.predictionType]);
      const noise = standardNoise(13, 16, 3);
      const { ys } = orThrow(
        sampleDdim(space, schedule, model, noise, {
          timesteps,
          eta: c.eta,
          key,
          setAlphaToOne: c.setAlphaToOne,
          clip: c.clipSample ? orThrow(clipTensor<Float64Array>(1)) : undefined,
          useClippedModelOutput: c.useClippedModelOutput,
          saveTrajectory: true,
        }),
      );
      for (let k = 0; k < timesteps.length; k++) {
        const x = ys![k];
        const z = space.normalLike(foldIn(key, k), x);
        const expected = diffusersDdimStep(
          c,
          model.predict(x, timesteps[k]).data,
          timesteps[k],
          x.data,
          z.data,
        );
        expect(firstMismatch(ys![k + 1].data, expected, 1e-6, 1e-12)).toBe(-1);
      }
    });
  }
});

// -------------------------------------------------------------------------------------------------------------
// Distribution (exact oracle ε of the discrete marginal). Measured bias, n = 20000 ring / 5000 16-D, η = 0 on
// 100 "leading" timesteps: max |Δ mean|, |Δ cov|, |Δ weight| = 2.1e-2, 2.3e-2, 6.5e-3 (ring, within 2.8 SE;
// the same for "trailing"), 5.4e-2, 0.11, 6.8e-3 (16-D, within 2.4 SE). At 20 steps the ring's covariance is
// 7% too small (trace ratio 0.93), at 50 steps 3%: η = 0 is a first-order ODE solver.
// -------------------------------------------------------------------------------------------------------------

describe("sampleDdim: distribution of the samples (exact oracle ε)", () => {
  const cases: ReadonlyArray<readonly [name: string, gm: typeof ring, n: number, eta: number, bias: Bias]> = [
    ["ring, η = 0, 100 steps", ring, 3000, 0, { mean: 0.01, cov: 0.04, weights: 0.01 }],
    ["ring, η = 0.5, 100 steps", ring, 3000, 0.5, { mean: 0.01, cov: 0.04, weights: 0.01 }],
    ["16-D, η = 0, 100 steps", mixture16, 1000, 0, { mean: 0.02, cov: 0.15, weights: 0.01 }],
  ];
  it.each(cases)("%s", (_name, gm, n, eta, bias) => {
    const result = orThrow(
      sampleDdim(space, schedule, discreteScoreModel(schedule, gm), standardNoise(5, n, gm.dim), {
        timesteps: leading(100),
        eta,
        key,
      }),
    );
    expect(distributionViolations(result.y, gm, bias)).toEqual([]);
    expect(result.nfe).toBe(100);
  });
});

describe("sampleDdim: η, determinism and the iterator", () => {
  const exact = discreteScoreModel(schedule, ring);
  const noise = standardNoise(8, 64, 2);

  it("is deterministic at η = 0: no key needed, and the key changes nothing", () => {
    const a = orThrow(sampleDdim(space, schedule, exact, noise, { timesteps: leading(20) })).y;
    const b = orThrow(sampleDdim(space, schedule, exact, noise, { timesteps: leading(20), key })).y;
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    const small = orThrow(
      sampleDdim(space, schedule, exact, firstRows(noise, 10), { timesteps: leading(20) }),
    ).y;
    expect(Array.from(small.data)).toEqual(Array.from(firstRows(a, 10).data));
  });

  it("at η = 1 is DDPM's ancestral sampler with the posterior variance β̃ (fixed_small)", () => {
    for (const n of [20, 100]) {
      const ddim = orThrow(
        sampleDdim(space, schedule, exact, noise, { timesteps: leading(n), eta: 1, key }),
      ).y;
      const ddpm = orThrow(sampleDdpm(space, schedule, exact, noise, { timesteps: leading(n), key })).y;
      expect(maxAbsDiff(ddim, ddpm)).toBeLessThan(1e-10);
    }
  });

  it("with η > 0, depends on the key but not on the batch", () => {
    const options: DdimSamplerOptions<Tensor64> = { timesteps: leading(20), eta: 0.7, key };
    const a = orThrow(sampleDdim(space, schedule, exact, noise, options)).y;
    const other = orThrow(
      sampleDdim(space, schedule, exact, noise, { ...options, key: orThrow(rngKey(52)) }),
    ).y;
    expect(maxAbsDiff(other, a)).toBeGreaterThan(0.01);
    const small = orThrow(sampleDdim(space, schedule, exact, firstRows(noise, 10), options)).y;
    expect(Array.from(small.data)).toEqual(Array.from(firstRows(a, 10).data));
  });

  it("without set_alpha_to_one, the last step lands at timestep 0's noise level", () => {
    const x = standardNoise(12, 5, 2);
    const y = orThrow(sampleDdim(space, schedule, exact, x, { timesteps: [37], setAlphaToOne: false })).y;
    const prediction = discretePrediction(space, schedule, exact)(x, 37);
    const expected = space.combine([
      [Math.sqrt(schedule.alphaBars[0]), prediction("x0")],
      [Math.sqrt(schedule.oneMinusAlphaBars[0]), prediction("eps")],
    ]);
    expect(maxAbsDiff(y, expected)).toBeLessThan(1e-12);
  });

  it("yields one record per timestep and ends at the one-call result", () => {
    const options: DdimSamplerOptions<Tensor64> = { timesteps: leading(20), eta: 0.2, key };
    const records: SolverStep<Tensor64>[] = [];
    const iterator = ddimSteps(space, schedule, exact, noise, options);
    let next = iterator.next();
    while (next.done !== true) {
      records.push(next.value);
      next = iterator.next();
    }
    expect(records.map((r) => r.t)).toEqual([...Array.from(options.timesteps).slice(1), -1]);
    expect(records.map((r) => r.nfe)).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    expect(orThrow(next.value)).toBe(records[19]);
    expect(Array.from(orThrow(sampleDdim(space, schedule, exact, noise, options)).y.data)).toEqual(
      Array.from(records[19].y.data),
    );
  });

  it("at η = 0 converges to the probability-flow ODE of the VP SDE as the steps grow", () => {
    // vpDdpmSchedule(N) discretizes the VP SDE (β_min = 0.1, β_max = 20) with index i at time (i + 1)/N, so
    // ᾱ_i = s((i + 1)/N)² + O(1/N). DDIM on all N timesteps, from x at i = N − 1 to x̂₀, against the flow from
    // t = 1 to 1/N (RK4, 400 steps) followed by Tweedie's x̂₀: the gap shrinks like 1/N.
    const x = standardNoise(14, 200, 2);
    const gaps = [100, 400].map((N) => {
      const discrete = orThrow(vpDdpmSchedule({ numSteps: N }));
      const ddim = orThrow(
        sampleDdim(space, discrete, discreteScoreModel(discrete, ring), x, { timesteps: allTimesteps(N) }),
      ).y;
      const sde = orThrow(vpSde({ tMin: 1 / N }));
      const flow = orThrow(
        sampleProbabilityFlow(space, sde, scoreModel(sde, ring), x, {
          method: odeRk4,
          grid: orThrow(gridUniform(1, 1 / N, 400)),
          denoiseFinal: true,
        }),
      ).y;
      return maxAbsDiff(ddim, flow);
    });
    expect(gaps[1]).toBeLessThan(gaps[0] / 2.5);
    expect(gaps[1]).toBeLessThan(0.05);
  });
});

describe("sampleDdim: bad input is a Left", () => {
  const model = discreteScoreModel(schedule, ring);
  const noise = standardNoise(9, 4, 2);
  const bad: ReadonlyArray<readonly [string, DdimSamplerOptions<Tensor64>]> = [
    ["η = 1.5", { timesteps: [20, 0], eta: 1.5, key }],
    ["η = −0.1", { timesteps: [20, 0], eta: -0.1, key }],
    ["η = NaN", { timesteps: [20, 0], eta: Number.NaN, key }],
    ["η > 0 without a key", { timesteps: [20, 0], eta: 0.5 }],
    ["increasing timesteps", { timesteps: [0, 20] }],
    ["a timestep beyond T − 1", { timesteps: [1000] }],
  ];
  it.each(bad)("%s", (_name, options) => {
    const result = sampleDdim(space, schedule, model, noise, options);
    expect(E.isLeft(result)).toBe(true);
    if (E.isLeft(result)) expect(result.left.message).toMatch(/^sampleDdim: /);
  });
});
