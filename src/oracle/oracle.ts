/**
 * The Gaussian-mixture oracle of a linear SDE: for data p_0 = Σ_k w_k·N(μ_k, Σ_k) and the transition
 * x_t | x_0 ~ N(s(t)·x_0, σ(t)²·I), the marginal p_t, its log-density, its score, the ideal denoiser
 * E[x_0 | x_t] and exact samples, all in closed form, as functions of (x, t). This is how the samplers and
 * likelihoods of the library are tested without training a network.
 *
 * @module
 */

import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "../core/errors.js";
import type { RngKey } from "../core/rng.js";
import type { Tensor64 } from "../core/tensor.js";
import { check, inClosedInterval } from "../core/validate.js";
import { ddpmMarginalAt } from "../discrete/forward.js";
import type { DdpmSchedule } from "../discrete/schedule.js";
import type { LinearSde } from "../sde/types.js";
import {
  type GaussianPerturbation,
  mixtureAtNoise,
  mixtureLogDensity,
  mixturePosteriorMean,
  mixtureScore,
  perturbMixture,
} from "./marginal.js";
import type { GaussianMixture } from "./mixture.js";
import { sampleMixtureAtNoise } from "./sample.js";

/** The transition of `sde` at time t: s = s(t), σ = σ(t). */
const perturbationAt = (sde: LinearSde, t: number): GaussianPerturbation => ({
  scale: sde.scale(t),
  std: sde.std(t),
});

/**
 * The marginal of the data mixture at time t of a linear SDE,
 * p_t = Σ_k w_k·N(s(t)·μ_k, s(t)²·Σ_k + σ(t)²·I) (Särkkä & Solin 2019, "Applied Stochastic Differential
 * Equations", §6.1; Song et al. 2021, "Score-Based Generative Modeling through SDEs", ICLR, App. B). Left when t
 * lies outside [0, sde.tMax] or the SDE's s(t), σ(t) are not valid noise levels ({@link mixtureAtNoise}).
 *
 * @param sde - the linear SDE.
 * @param gm - the data mixture p_0.
 * @param t - the time, in [0, sde.tMax].
 * @category Oracle
 */
export const oracleAt = (
  sde: LinearSde,
  gm: GaussianMixture,
  t: number,
): E.Either<ScoreflowError, GaussianMixture> => {
  const time = check(`oracleAt(${sde.name})`, "t", t, inClosedInterval(0, sde.tMax));
  return E.isLeft(time) ? time : mixtureAtNoise(gm, perturbationAt(sde, t));
};

/**
 * The exact oracle of a Gaussian mixture under a linear SDE: closed-form functions of (x, t). Every function
 * expects points of shape [n, d] with d = `data.dim` and t ∈ [0, sde.tMax] (where s(t) > 0), and recomputes the
 * K Cholesky factors of the marginal per call (O(K·d³), negligible next to the O(n·K·d²) evaluation).
 *
 * @category Oracle
 */
export interface MixtureOracle {
  /** The linear SDE. */
  readonly sde: LinearSde;
  /** The data distribution p_0. */
  readonly data: GaussianMixture;
  /** The marginal p_t = Σ_k w_k·N(s·μ_k, s²·Σ_k + σ²·I) at time t. */
  readonly marginal: (t: number) => GaussianMixture;
  /** ln p_t(x) for each row of x. */
  readonly logDensity: (x: Tensor64, t: number) => Float64Array;
  /** The score ∇_x ln p_t(x) for each row of x. */
  readonly score: (x: Tensor64, t: number) => Tensor64;
  /** The ideal denoiser E[x_0 | x_t = x] = (x + σ(t)²·∇ ln p_t(x)) / s(t) for each row of x. */
  readonly denoiser: (x: Tensor64, t: number) => Tensor64;
  /**
   * n exact samples of p_t: row i is s(t)·x_0 + σ(t)·ε with x_0 row i of `sampleMixture(data, key, n)`, so every
   * row depends on (key, i) only, and the rows at two times share their x_0.
   */
  readonly sample: (key: RngKey, n: number, t: number) => Tensor64;
}

/**
 * The {@link MixtureOracle} of data `gm` under the linear SDE `sde`: marginal, log-density, score, denoiser
 * E[x_0 | x_t] (Tweedie: (x_t + σ²·∇ ln p_t)/s, Efron 2011) and exact samples at any t, all closed-form
 * (Song et al. 2021, App. B; Bishop 2006, §2.3.3). The functions trust t ∈ [0, sde.tMax]; use
 * {@link oracleAt} to validate a time at the boundary.
 *
 * @param sde - the linear SDE.
 * @param gm - the data mixture p_0.
 * @category Oracle
 */
export const mixtureOracle = (sde: LinearSde, gm: GaussianMixture): MixtureOracle => ({
  sde,
  data: gm,
  marginal: (t) => perturbMixture(gm, perturbationAt(sde, t)),
  logDensity: (x, t) => mixtureLogDensity(perturbMixture(gm, perturbationAt(sde, t)), x),
  score: (x, t) => mixtureScore(perturbMixture(gm, perturbationAt(sde, t)), x),
  denoiser: (x, t) => mixturePosteriorMean(gm, perturbationAt(sde, t), x),
  sample: (key, n, t) => sampleMixtureAtNoise(gm, perturbationAt(sde, t), key, n),
});

/**
 * The exact score of Gaussian-mixture data at a discrete DDPM timestep t (an integer in [0, T − 1]): the
 * marginal q(x_t) = Σ_k w_k·N(√ᾱ_t·μ_k, ᾱ_t·Σ_k + (1 − ᾱ_t)·I) (Ho et al. 2020, eq. 4, applied componentwise),
 * differentiated in closed form. The discrete samplers' oracle model, as {@link mixtureOracle} is the
 * continuous one's.
 *
 * @category Oracle
 */
export const ddpmMixtureScore =
  (schedule: DdpmSchedule, gm: GaussianMixture) =>
  (x: Tensor64, t: number): Tensor64 =>
    mixtureScore(perturbMixture(gm, ddpmMarginalAt(schedule, t)), x);
