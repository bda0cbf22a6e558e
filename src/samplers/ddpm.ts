/**
 * DDPM ancestral sampling (Ho et al. 2020, "Denoising Diffusion Probabilistic Models", NeurIPS, Alg. 2) on a
 * discrete schedule, over all T timesteps or any strided subset, as diffusers' `DDPMScheduler.step` computes it:
 * predict x₀, then draw x_{t'} from the forward-process posterior q(x_{t'} | x_t, x₀) of the next timestep t'.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { foldIn, type RngKey } from "../core/rng.js";
import type { VectorSpace } from "../core/tensor.js";
import { ddpmPosterior } from "../discrete/posterior.js";
import type { DdpmSchedule } from "../discrete/schedule.js";
import {
  checkFiniteState,
  collectSolution,
  type Solution,
  type SolveError,
  type SolveOptions,
  type SolverSteps,
} from "../solvers/solution.js";
import { chainSteps, checkDiscreteTimesteps, discretePrediction } from "./discrete-model.js";
import type { DiffusionModel } from "./model.js";
import { checkSamplerKey } from "./sampler-key.js";

/**
 * The variance of a DDPM reverse step (Ho et al. 2020, §3.2: "σ_t² = β_t and σ_t² = β̃_t had similar results"),
 * named as diffusers' `variance_type`:
 * - `"fixed_small"`: the posterior variance β̃_t = (1 − ᾱ_{t'})/(1 − ᾱ_t)·β_t, optimal for deterministic x₀;
 * - `"fixed_large"`: β_t, optimal for x₀ ~ N(0, I).
 *
 * On a strided subset β_t is the multi-step β_{t|t'} = 1 − ᾱ_t/ᾱ_{t'} (diffusers' `current_beta_t`).
 *
 * @category Samplers
 */
export type DdpmVarianceType = "fixed_small" | "fixed_large";

/**
 * Options of DDPM ancestral sampling.
 *
 * @category Samplers
 */
export interface DdpmSamplerOptions<V> extends SolveOptions {
  /**
   * The timesteps visited, strictly decreasing integers in [0, T − 1]: all of them (T − 1, …, 0) for Alg. 2, or
   * a strided subset from `ddpmTimesteps`.
   */
  readonly timesteps: ArrayLike<number>;
  /** The key: the noise of step k is `normalLike(foldIn(key, k), x)`. */
  readonly key: RngKey;
  /** The reverse-step variance; default `"fixed_small"` (diffusers' default). */
  readonly variance?: DdpmVarianceType;
  /** Applied to every predicted x₀ before the posterior mean, e.g. `clipTensor(1)` (diffusers' `clip_sample`); default none. */
  readonly clip?: (x0: V) => V;
}

/** One precomputed step: from t to t' = prev with the posterior coefficients and the noise std. */
interface DdpmStepPlan {
  readonly t: number;
  readonly prev: number;
  readonly x0Coeff: number;
  readonly xtCoeff: number;
  readonly std: number;
}

const CONTEXT = "sampleDdpm";
const VARIANCES: readonly DdpmVarianceType[] = ["fixed_small", "fixed_large"];

/** The steps of a timestep sequence: t_k → t_{k+1}, the last to t' = −1 (x₀), without noise. */
const plan = (
  schedule: DdpmSchedule,
  timesteps: Int32Array,
  variance: DdpmVarianceType,
): E.Either<ScoreflowError, readonly DdpmStepPlan[]> => {
  const steps: DdpmStepPlan[] = [];
  for (let k = 0; k < timesteps.length; k++) {
    const t = timesteps[k];
    const prev = k + 1 < timesteps.length ? timesteps[k + 1] : -1;
    const posterior = ddpmPosterior(schedule, t, prev);
    if (E.isLeft(posterior)) return posterior;
    const { x0Coeff, xtCoeff, variance: posteriorVariance } = posterior.right;
    // β_{t|t'} = β̃·(1 − ᾱ_t)/(1 − ᾱ_{t'}), from β̃ = (1 − ᾱ_{t'})/(1 − ᾱ_t)·β_{t|t'}.
    const stepVariance =
      prev < 0
        ? 0
        : variance === "fixed_small"
          ? posteriorVariance
          : (posteriorVariance * schedule.oneMinusAlphaBars[t]) / schedule.oneMinusAlphaBars[prev];
    steps.push({ t, prev, x0Coeff, xtCoeff, std: Math.sqrt(stepVariance) });
  }
  return E.right(steps);
};

/**
 * DDPM ancestral sampling as an iterator (Ho et al. 2020, Alg. 2; diffusers `DDPMScheduler.step`): from
 * x = noise (x_T ~ N(0, I)), for each timestep t_k with next timestep t' = t_{k+1} (−1 after the last):
 *
 *   x̂₀ = clip(x₀-prediction of the model at (x, t_k)),
 *   x ← c₀·x̂₀ + c_t·x + σ·z,  c₀ = √ᾱ_{t'}·β_{t|t'}/(1 − ᾱ_t),  c_t = √α_{t|t'}·(1 − ᾱ_{t'})/(1 − ᾱ_t),
 *
 * the mean of the posterior q(x_{t'} | x_t, x₀) (eq. 6–7, via `ddpmPosterior` with `prev` = t'; with ᾱ_{−1} = 1
 * the last step returns x̂₀), σ² = β̃ or β_{t|t'} ({@link DdpmVarianceType}), z = `normalLike(foldIn(key, k), x)`.
 * The model is called as `model.predict(x, t_k)` with the integer timestep (diffusers' UNet convention) in any
 * parameterization, or as a denoiser D(x/√ᾱ_t; √((1 − ᾱ_t)/ᾱ_t)) ({@link discretePrediction}).
 *
 * Matches diffusers step for step (same `prev_sample` for the same `model_output` and noise), with two choices
 * where diffusers' default differs:
 * - the next timestep is the next entry of `timesteps` — diffusers' rule for custom timesteps — while its
 *   default `previous_timestep` is t − ⌊T/N⌋; the two agree for `"leading"` spacing (diffusers' default) and
 *   whenever N divides T for `"trailing"`, but not for `"linspace"`, where t − ⌊T/N⌋ is not the next timestep;
 * - the last step adds no noise (Alg. 2: z = 0 at t = 1), while diffusers adds noise whenever t > 0: the two
 *   agree when the last timestep is 0 (`"leading"` without offset, `"linspace"`); otherwise diffusers adds
 *   10⁻¹⁰·z (`"fixed_small"`, whose variance 0 it clamps to 10⁻²⁰) or √(1 − ᾱ_t)·z (`"fixed_large"`) to x₀.
 *
 * Yields {step, t, y, nfe} after every step, with t = t' (−1 for the final x₀) and one model evaluation per
 * step. Returns `Left` on bad timesteps, a bad key or variance type, non-finite noise, or a `nonFinite` failure.
 *
 * @param noise - A standard normal draw shaped like the output: x_T itself.
 * @category Samplers
 */
export function* ddpmAncestralSteps<V>(
  space: VectorSpace<V>,
  schedule: DdpmSchedule,
  model: DiffusionModel<V>,
  noise: V,
  options: DdpmSamplerOptions<V>,
): SolverSteps<V> {
  const { key, variance = "fixed_small", clip } = options;
  const input = pipe(
    VARIANCES.includes(variance)
      ? E.right(undefined)
      : E.left(scoreflowError(CONTEXT, "variance", variance, 'must be "fixed_small" or "fixed_large"')),
    E.flatMap(() => checkSamplerKey(CONTEXT, key)),
    E.flatMap(() => checkFiniteState(space, CONTEXT, "noise", noise)),
    E.flatMap(() => checkDiscreteTimesteps(CONTEXT, schedule, options.timesteps)),
    E.flatMap((timesteps) => plan(schedule, timesteps, variance)),
  );
  if (E.isLeft(input)) return input;
  const predict = discretePrediction(space, schedule, model);
  return yield* chainSteps(space, CONTEXT, input.right, noise, (x, { t, x0Coeff, xtCoeff, std }, k) => {
    const predicted = predict(x, t)("x0");
    const x0 = clip === undefined ? predicted : clip(predicted);
    const terms: Array<readonly [number, V]> = [
      [x0Coeff, x0],
      [xtCoeff, x],
    ];
    if (std > 0) terms.push([std, space.normalLike(foldIn(key, k), x)]);
    return terms;
  });
}

/**
 * Samples by DDPM ancestral sampling (see {@link ddpmAncestralSteps}): `y` holds the samples, `nfe` the model
 * evaluations (one per timestep). Built on {@link ddpmAncestralSteps}: same checks, same failures.
 *
 * @param noise - A standard normal draw shaped like the output: x_T itself.
 * @category Samplers
 */
export const sampleDdpm = <V>(
  space: VectorSpace<V>,
  schedule: DdpmSchedule,
  model: DiffusionModel<V>,
  noise: V,
  options: DdpmSamplerOptions<V>,
): E.Either<SolveError, Solution<V>> =>
  collectSolution(
    ddpmAncestralSteps(space, schedule, model, noise, options),
    options.timesteps[0],
    noise,
    options,
  );
