/**
 * The DDPM forward-process posterior q(x_{t−1} | x_t, x_0) = N(c₀·x_0 + c_t·x_t, β̃_t·I) (Ho et al. 2020,
 * "Denoising Diffusion Probabilistic Models", NeurIPS, eq. 6–7), the target of every ancestral sampling step,
 * with the coefficients of diffusers' `DDPMScheduler.step` (`pred_original_sample_coeff`, `current_sample_coeff`)
 * and its variance (`_get_variance`).
 *
 * Indices are diffusers' 0-based t = 0 … T−1 (paper step t + 1), with ᾱ_{−1} = 1: at t = 0 the posterior is the
 * point mass at x_0 (c₀ = 1, c_t = 0, β̃_0 = 0).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { ScoreflowError } from "../core/errors.js";
import { check } from "../core/validate.js";
import { integerIn } from "./rules.js";
import { checkTimestep, type DdpmSchedule } from "./schedule.js";

/**
 * The Gaussian q(x_s | x_t, x_0) = N(x0Coeff·x_0 + xtCoeff·x_t, variance·I), s < t.
 *
 * @category Discrete
 */
export interface DdpmPosterior {
  /** c₀ = √ᾱ_s·β_{t|s}/(1 − ᾱ_t); diffusers' `pred_original_sample_coeff`. */
  readonly x0Coeff: number;
  /** c_t = √α_{t|s}·(1 − ᾱ_s)/(1 − ᾱ_t); diffusers' `current_sample_coeff`. */
  readonly xtCoeff: number;
  /** β̃ = (1 − ᾱ_s)/(1 − ᾱ_t)·β_{t|s}, the posterior variance (diffusers' `fixed_small` variance, unclipped). */
  readonly variance: number;
}

const CONTEXT = "DDPM posterior";

/**
 * The posterior q(x_s | x_t, x_0) of the forward process, by default for s = t − 1 (Ho et al. 2020, eq. 6–7):
 *
 *   μ̃ = c₀·x_0 + c_t·x_t,  c₀ = √ᾱ_{t−1}·β_t/(1 − ᾱ_t),  c_t = √α_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t),
 *   β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t,  with ᾱ_{−1} = 1.
 *
 * For a strided sampler (timesteps from {@link ddpmTimesteps}) pass the previous timestep `prev` = s < t − 1;
 * α_t, β_t then become the multi-step α_{t|s} = ᾱ_t/ᾱ_s and β_{t|s} = 1 − α_{t|s} (diffusers' `current_alpha_t`,
 * `current_beta_t`; Nichol & Dhariwal 2021, "Improved DDPM", ICML, §4, eq. 19–20).
 *
 * Equal in exact arithmetic to diffusers' expressions, but evaluated to avoid cancellation: for s = t − 1 the
 * stored α_t, β_t rather than ᾱ_t/ᾱ_{t−1} and 1 − ᾱ_t/ᾱ_{t−1}; otherwise β_{t|s} = ((1 − ᾱ_t) − (1 − ᾱ_s))/ᾱ_s,
 * which is exactly 1 − ᾱ_t when s = −1 (so that c₀ = 1, c_t = β̃ = 0); 1 − ᾱ comes from `oneMinusAlphaBars`.
 *
 * t: integer in [0, T − 1]; prev: integer in [−1, t − 1], default t − 1 (−1 means "x_0 itself").
 *
 * @category Discrete
 */
export const ddpmPosterior = (
  schedule: DdpmSchedule,
  t: number,
  prev: number = t - 1,
): E.Either<ScoreflowError, DdpmPosterior> =>
  pipe(
    checkTimestep(CONTEXT, schedule, t),
    E.flatMap(() => check(CONTEXT, "prev", prev, integerIn(-1, t - 1))),
    E.map(() => {
      const { alphas, betas, alphaBars, oneMinusAlphaBars } = schedule;
      const alphaBarPrev = prev < 0 ? 1 : alphaBars[prev];
      const complementPrev = prev < 0 ? 0 : oneMinusAlphaBars[prev];
      const adjacent = prev === t - 1;
      const alpha = adjacent ? alphas[t] : alphaBars[t] / alphaBarPrev;
      const complement = oneMinusAlphaBars[t];
      const beta = adjacent ? betas[t] : (complement - complementPrev) / alphaBarPrev;
      return {
        x0Coeff: (Math.sqrt(alphaBarPrev) * beta) / complement,
        xtCoeff: (Math.sqrt(alpha) * complementPrev) / complement,
        variance: (complementPrev / complement) * beta,
      };
    }),
  );

/** The floor of diffusers' clipped posterior log-variance, 10⁻²⁰. */
const POSTERIOR_VARIANCE_FLOOR = 1e-20;

/**
 * diffusers' clipped log-variance log(max(β̃_t, 10⁻²⁰)) (`DDPMScheduler._get_variance` with
 * `variance_type="fixed_small_log"`), finite at t = 0 where β̃_0 = 0. (Ho et al.'s reference code clips
 * differently, replacing β̃_0 by β̃_1 in `posterior_log_variance_clipped`; this is diffusers' floor.)
 *
 * @category Discrete
 */
export const ddpmClippedLogVariance = (posterior: DdpmPosterior): number =>
  Math.log(Math.max(posterior.variance, POSTERIOR_VARIANCE_FLOOR));
