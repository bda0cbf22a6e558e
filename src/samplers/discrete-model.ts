/**
 * Models over discrete DDPM timesteps: a network called as `model.predict(x, t)` with the integer timestep
 * index t ∈ {0, …, T − 1} (as diffusers calls its UNet), whose prediction converts to any other target through
 * the marginal q(x_t | x₀) = N(√ᾱ_t·x₀, (1 − ᾱ_t)·I) (Ho et al. 2020, eq. 4), and the validation of the
 * timestep sequence a discrete sampler walks down.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { allFinite, map, type Storage, type Tensor, type VectorSpace } from "../core/tensor.js";
import { isPositive } from "../core/validate.js";
import { ddpmMarginalAt } from "../discrete/forward.js";
import type { DdpmSchedule } from "../discrete/schedule.js";
import { convertPrediction, type Parameterization } from "../sde/parameterization.js";
import { type SolverStep, type SolverSteps, solveFailure } from "../solvers/solution.js";
import type { DiffusionModel } from "./model.js";

/**
 * Evaluates a model once at (x, t), t an integer timestep, and returns the prediction as any target: a time
 * model's output is converted by `convertPrediction` with (s, σ) = {@link ddpmMarginalAt}(t) (so that ε → x₀ is
 * x₀ = (x − √(1 − ᾱ_t)·ε)/√ᾱ_t, diffusers' `pred_original_sample`, and v → x₀ is √ᾱ_t·x − √(1 − ᾱ_t)·v); a
 * denoiser is called as D(x/s; σ/s) and gives x₀ (Karras et al. 2022, eq. 3 and Table 1).
 *
 * @returns A function of the target: the model's own target is returned as predicted, any other converted.
 * @category Samplers
 */
export const discretePrediction =
  <V>(space: VectorSpace<V>, schedule: DdpmSchedule, model: DiffusionModel<V>) =>
  (x: V, t: number): ((target: Parameterization) => V) => {
    const coefficients = ddpmMarginalAt(schedule, t);
    const { scale, std } = coefficients;
    const [from, prediction]: readonly [Parameterization, V] =
      model.parameterization === "denoiser"
        ? ["x0", model.denoise(space.combine([[1 / scale, x]]), std / scale)]
        : [model.parameterization, model.predict(x, t)];
    return (target) =>
      target === from ? prediction : convertPrediction(space, from, target, coefficients, x, prediction);
  };

/**
 * Checks a discrete sampler's timesteps: at least one, integers in [0, T − 1], strictly decreasing (e.g. from
 * `ddpmTimesteps`). Returns them as an `Int32Array`.
 *
 * @param context - The sampler named in the error.
 * @category Samplers
 */
export const checkDiscreteTimesteps = (
  context: string,
  schedule: DdpmSchedule,
  timesteps: ArrayLike<number>,
): E.Either<ScoreflowError, Int32Array> => {
  const T = schedule.betas.length;
  if (!(timesteps.length >= 1)) {
    return E.left(scoreflowError(context, "timesteps", timesteps, "must hold at least one timestep"));
  }
  for (let k = 0; k < timesteps.length; k++) {
    const t = timesteps[k];
    if (!(Number.isSafeInteger(t) && t >= 0 && t <= T - 1 && (k === 0 || t < timesteps[k - 1]))) {
      return E.left(
        scoreflowError(
          context,
          `timesteps[${k}]`,
          t,
          `must be an integer in [0, ${T - 1}] below timesteps[${k - 1}] (strictly decreasing)`,
        ),
      );
    }
  }
  return E.right(Int32Array.from(timesteps));
};

/**
 * diffusers' `clip_sample`: clamps every component of a predicted x₀ to [−range, range], the data range
 * (`clip_denoised` in the reference code of Ho et al. 2020, for data scaled to [−1, 1]; diffusers
 * `clip_sample_range`, default 1). Pass it as a discrete sampler's `clip` option.
 *
 * @param range - The bound, finite and > 0.
 * @category Samplers
 */
export const clipTensor = <A extends Storage>(
  range: number,
): E.Either<ScoreflowError, (x0: Tensor<A>) => Tensor<A>> =>
  isPositive.test(range)
    ? E.right((x0: Tensor<A>) => map(x0, (v) => Math.min(range, Math.max(-range, v))))
    : E.left(scoreflowError("clipTensor", "range", range, isPositive.rule));

/**
 * The loop DDPM and DDIM share: from x = noise, each step k of the plan maps x to the linear combination
 * `terms(x, step, k)` (one model evaluation per step), checks it finite and yields it as record k + 1 at the
 * step's `prev` timestep; a non-finite state stops the run with a `nonFinite` failure there.
 *
 * @category Samplers
 */
export function* chainSteps<V, S extends { readonly t: number; readonly prev: number }>(
  space: VectorSpace<V>,
  context: string,
  plan: readonly S[],
  noise: V,
  terms: (x: V, step: S, k: number) => ReadonlyArray<readonly [number, V]>,
): SolverSteps<V> {
  let x = noise;
  let last: SolverStep<V> = { step: 0, t: plan[0].t, y: x, nfe: 0 };
  for (const [k, step] of plan.entries()) {
    x = space.combine(terms(x, step, k));
    if (!allFinite(space, x)) return E.left(solveFailure(context, "nonFinite", k + 1, step.prev));
    last = { step: k + 1, t: step.prev, y: x, nfe: k + 1 };
    yield last;
  }
  return E.right(last);
}
