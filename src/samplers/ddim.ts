/**
 * DDIM sampling (Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models", ICLR, eq. 12 and 16) on a
 * discrete schedule and any timestep subset, as diffusers' `DDIMScheduler.step` computes it: deterministic at
 * η = 0 (an implicit model whose limit is the probability-flow ODE), DDPM's ancestral sampler at η = 1.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { ScoreflowError } from "../core/errors.js";
import { foldIn, type RngKey } from "../core/rng.js";
import type { VectorSpace } from "../core/tensor.js";
import { check, inClosedInterval } from "../core/validate.js";
import { ddpmMarginalAt } from "../discrete/forward.js";
import type { DdpmSchedule } from "../discrete/schedule.js";
import { convertPrediction } from "../sde/parameterization.js";
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
 * Options of DDIM sampling.
 *
 * @category Samplers
 */
export interface DdimSamplerOptions<V> extends SolveOptions {
  /** The timesteps visited, strictly decreasing integers in [0, T − 1], e.g. from `ddpmTimesteps`. */
  readonly timesteps: ArrayLike<number>;
  /** η ∈ [0, 1], the stochasticity of eq. 16: 0 is deterministic DDIM, 1 is DDPM (default 0). */
  readonly eta?: number;
  /** The key, required when η > 0: the noise of step k is `normalLike(foldIn(key, k), x)`. */
  readonly key?: RngKey;
  /**
   * diffusers' `set_alpha_to_one`: the ᾱ after the last timestep is 1 (the last step returns x̂₀) when `true`,
   * the default; ᾱ_0 (the last step lands at timestep 0's noise level) when `false`.
   */
  readonly setAlphaToOne?: boolean;
  /** Applied to every predicted x₀, e.g. `clipTensor(1)` (diffusers' `clip_sample`); default none. */
  readonly clip?: (x0: V) => V;
  /**
   * diffusers' `use_clipped_model_output`: re-derive ε̂ from the clipped x̂₀ (as GLIDE does); default `false`,
   * where ε̂ is the model's own (unclipped) prediction.
   */
  readonly useClippedModelOutput?: boolean;
}

/** One precomputed step: from t, with √ᾱ_{t'}, the coefficient of ε̂ and σ_t(η). */
interface DdimStepPlan {
  readonly t: number;
  readonly prev: number;
  readonly signal: number;
  readonly direction: number;
  readonly sigma: number;
}

const CONTEXT = "sampleDdim";

/**
 * The step coefficients of eq. 12 and 16 for t → t' with ᾱ_{t'} (1 and 0 after the last timestep when
 * `setAlphaToOne`, else ᾱ_0): √ᾱ_{t'}, σ² = η²·(1 − ᾱ_{t'})/(1 − ᾱ_t)·(1 − ᾱ_t/ᾱ_{t'}) and
 * √(1 − ᾱ_{t'} − σ²), with 1 − ᾱ_t/ᾱ_{t'} = ((1 − ᾱ_t) − (1 − ᾱ_{t'}))/ᾱ_{t'} free of cancellation and the
 * direction's radicand clamped at 0 against rounding (it is ≥ 0 exactly, since 1 − ᾱ_t/ᾱ_{t'} ≤ 1 − ᾱ_t).
 */
const plan = (
  schedule: DdpmSchedule,
  timesteps: Int32Array,
  eta: number,
  setAlphaToOne: boolean,
): readonly DdimStepPlan[] =>
  Array.from(timesteps, (t, k) => {
    const prev = k + 1 < timesteps.length ? timesteps[k + 1] : -1;
    const final = setAlphaToOne ? -1 : 0;
    const index = prev >= 0 ? prev : final;
    const alphaBarPrev = index < 0 ? 1 : schedule.alphaBars[index];
    const complementPrev = index < 0 ? 0 : schedule.oneMinusAlphaBars[index];
    const complement = schedule.oneMinusAlphaBars[t];
    const stepBeta = (complement - complementPrev) / alphaBarPrev;
    const variance = eta * eta * (complementPrev / complement) * stepBeta;
    return {
      t,
      prev,
      signal: Math.sqrt(alphaBarPrev),
      direction: Math.sqrt(Math.max(0, complementPrev - variance)),
      sigma: Math.sqrt(variance),
    };
  });

/**
 * DDIM sampling as an iterator (Song, Meng & Ermon 2021, eq. 12 with σ_t(η) of eq. 16; diffusers
 * `DDIMScheduler.step`): from x = noise (x_T ~ N(0, I)), for each timestep t_k with next timestep t' = t_{k+1}
 * (after the last, ᾱ_{t'} = 1, or ᾱ_0 without `setAlphaToOne`):
 *
 *   x̂₀ = clip(x₀-prediction at (x, t_k)),  ε̂ = ε-prediction (or (x − √ᾱ_t·x̂₀)/√(1 − ᾱ_t) from the clipped x̂₀),
 *   x ← √ᾱ_{t'}·x̂₀ + √(1 − ᾱ_{t'} − σ²)·ε̂ + σ·z,  σ = η·√((1 − ᾱ_{t'})/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_{t'}),
 *
 * with z = `normalLike(foldIn(key, k), x)`. At η = 0 no noise is drawn and the map from x_T to x₀ is
 * deterministic (the key is not used); as the steps shrink it tends to the probability-flow ODE of the VP SDE
 * (Song et al. 2021, §4.3; DDIM §4.3, eq. 13–14). At η = 1, σ² is DDPM's posterior variance β̃ and the step is
 * DDPM's ancestral step (with ε̂ consistent with x̂₀). The model is called as `model.predict(x, t_k)` with the
 * integer timestep in any parameterization, or as a denoiser ({@link discretePrediction}).
 *
 * Matches diffusers step for step (same `prev_sample` for the same `model_output` and `variance_noise`), except
 * that the next timestep is the next entry of `timesteps` (diffusers' `prev_timestep` = t − ⌊T/N⌋ agrees with it
 * for `"leading"` spacing, its default, and for `"trailing"` when N divides T, but not for `"linspace"`).
 *
 * Yields {step, t, y, nfe} after every step, with t = t' (−1 after the last) and one model evaluation per step.
 * Returns `Left` on bad timesteps, η ∉ [0, 1], a missing or bad key with η > 0, non-finite noise, or a
 * `nonFinite` failure.
 *
 * @param noise - A standard normal draw shaped like the output: x_T itself.
 * @category Samplers
 */
export function* ddimSteps<V>(
  space: VectorSpace<V>,
  schedule: DdpmSchedule,
  model: DiffusionModel<V>,
  noise: V,
  options: DdimSamplerOptions<V>,
): SolverSteps<V> {
  const { eta = 0, key, setAlphaToOne = true, clip, useClippedModelOutput = false } = options;
  const input = pipe(
    check(CONTEXT, "eta", eta, inClosedInterval(0, 1)),
    E.flatMap(
      (): E.Either<ScoreflowError, unknown> => (eta > 0 ? checkSamplerKey(CONTEXT, key) : E.right(key)),
    ),
    E.flatMap(() => checkFiniteState(space, CONTEXT, "noise", noise)),
    E.flatMap(() => checkDiscreteTimesteps(CONTEXT, schedule, options.timesteps)),
    E.map((timesteps) => plan(schedule, timesteps, eta, setAlphaToOne)),
  );
  if (E.isLeft(input)) return input;
  const predict = discretePrediction(space, schedule, model);
  return yield* chainSteps(space, CONTEXT, input.right, noise, (x, { t, signal, direction, sigma }, k) => {
    const prediction = predict(x, t);
    const x0 = clip === undefined ? prediction("x0") : clip(prediction("x0"));
    const eps =
      clip !== undefined && useClippedModelOutput
        ? convertPrediction(space, "x0", "eps", ddpmMarginalAt(schedule, t), x, x0)
        : prediction("eps");
    const terms: Array<readonly [number, V]> = [
      [signal, x0],
      [direction, eps],
    ];
    if (sigma > 0 && key !== undefined) terms.push([sigma, space.normalLike(foldIn(key, k), x)]);
    return terms;
  });
}

/**
 * Samples by DDIM (see {@link ddimSteps}): `y` holds the samples, `nfe` the model evaluations (one per
 * timestep). Built on {@link ddimSteps}: same checks, same failures.
 *
 * @param noise - A standard normal draw shaped like the output: x_T itself.
 * @category Samplers
 */
export const sampleDdim = <V>(
  space: VectorSpace<V>,
  schedule: DdpmSchedule,
  model: DiffusionModel<V>,
  noise: V,
  options: DdimSamplerOptions<V>,
): E.Either<SolveError, Solution<V>> =>
  collectSolution(ddimSteps(space, schedule, model, noise, options), options.timesteps[0], noise, options);
