/**
 * The final denoising step of a stochastic sampler: after the last time t of its grid, the state x_t still
 * carries noise of standard deviation σ(t); replacing it by Tweedie's posterior mean E[x₀ | x_t] removes it
 * (score_sde's `noise_removal`, Song et al. 2021, App. G; Jolicoeur-Martineau et al. 2021, "Adversarial score
 * matching and improved sampling for image generation", ICLR, the final denoising step).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { allFinite, type VectorSpace } from "../core/tensor.js";
import type { LinearSde } from "../sde/types.js";
import { type SolverStep, type SolverSteps, solveFailure } from "../solvers/solution.js";
import { type DiffusionModel, predictAs } from "./model.js";

/**
 * Runs `steps` to their end and appends one record at t = 0 holding Tweedie's estimate
 * E[x₀ | x_t] = (x_t + σ(t)²·∇log p_t(x_t))/s(t) (Efron 2011, "Tweedie's Formula and Selection Bias", JASA,
 * §2) of the last state x_t, through the model's x₀-prediction (one more model evaluation, counted in nfe).
 * A `Left` from `steps` passes through unchanged; a non-finite estimate is a `nonFinite` failure at t = 0.
 *
 * score_sde's `noise_removal` returns instead the mean of its last predictor step (the state without that
 * step's noise); for a step ending at σ = 0 the two coincide: the reverse-diffusion step
 * x + (σ(t)² − 0)·∇log p_t(x) is Tweedie's formula for s = 1.
 *
 * @param context - The sampler named in a failure.
 * @category Samplers
 */
export function* denoiseFinalStep<V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  steps: SolverSteps<V>,
  context: string,
): SolverSteps<V> {
  const outcome = yield* steps;
  if (E.isLeft(outcome)) return outcome;
  const last = outcome.right;
  const y = predictAs(space, sde, model, "x0")(last.y, last.t);
  if (!allFinite(space, y)) return E.left(solveFailure(context, "nonFinite", last.step + 1, 0));
  const denoised: SolverStep<V> = { step: last.step + 1, t: 0, y, nfe: last.nfe + 1 };
  yield denoised;
  return E.right(denoised);
}
