/**
 * The DDPM forward (noising) process (Ho et al. 2020, "Denoising Diffusion Probabilistic Models", NeurIPS, §2):
 * the one-step kernel q(x_t | x_{t−1}) = N(√α_t·x_{t−1}, β_t·I) (eq. 2) and its t-fold composition, the marginal
 * q(x_t | x_0) = N(√ᾱ_t·x_0, (1 − ᾱ_t)·I) (eq. 4), sampled as x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·ε.
 *
 * Indices are diffusers' 0-based t = 0 … T−1 (paper step t + 1).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { linearCombination, type Storage, size, type Tensor } from "../core/tensor.js";
import { checkTimestep, type DdpmSchedule } from "./schedule.js";

/**
 * A Gaussian kernel x ↦ N(scale·x, std²·I), the shape of every DDPM forward distribution.
 *
 * @category Discrete
 */
export interface DdpmKernel {
  /** The factor on the conditioning variable, e.g. √ᾱ_t. */
  readonly scale: number;
  /** The standard deviation of the added noise, e.g. √(1 − ᾱ_t). */
  readonly std: number;
}

/**
 * The forward step q(x_t | x_{t−1}) = N(√α_t·x_{t−1}, β_t·I) (Ho et al. 2020, eq. 2): `{ scale: √α_t, std: √β_t }`.
 *
 * t: integer index in [0, T − 1] (paper step t + 1; at t = 0 it is q(x_1 | x_0) of the paper).
 *
 * @category Discrete
 */
export const ddpmForwardStep = (schedule: DdpmSchedule, t: number): E.Either<ScoreflowError, DdpmKernel> =>
  E.map((i: number) => ({ scale: Math.sqrt(schedule.alphas[i]), std: Math.sqrt(schedule.betas[i]) }))(
    checkTimestep("DDPM forward step", schedule, t),
  );

/**
 * The marginal kernel (√ᾱ_t, √(1 − ᾱ_t)) at an index already known to be valid: {@link ddpmMarginal} without
 * the check, for samplers that validated their timesteps once (Ho et al. 2020, eq. 4).
 *
 * @category Discrete
 */
export const ddpmMarginalAt = (schedule: DdpmSchedule, t: number): DdpmKernel => ({
  scale: Math.sqrt(schedule.alphaBars[t]),
  std: Math.sqrt(schedule.oneMinusAlphaBars[t]),
});

/**
 * The marginal q(x_t | x_0) = N(√ᾱ_t·x_0, (1 − ᾱ_t)·I) (Ho et al. 2020, eq. 4): `{ scale: √ᾱ_t, std: √(1 − ᾱ_t) }`,
 * the t+1-fold composition of {@link ddpmForwardStep}. 1 − ᾱ_t is taken from `oneMinusAlphaBars`, accurate to a
 * few ulps even when ᾱ_t is within 10⁻⁶ of 1.
 *
 * Note: the lecture notes this project started from write α_t for the cumulative product; the quantity here is
 * ᾱ_t = ∏_{i≤t} α_i (Ho et al.'s notation), not the one-step α_t.
 *
 * t: integer index in [0, T − 1].
 *
 * @category Discrete
 */
export const ddpmMarginal = (schedule: DdpmSchedule, t: number): E.Either<ScoreflowError, DdpmKernel> =>
  E.map((i: number) => ddpmMarginalAt(schedule, i))(checkTimestep("DDPM marginal", schedule, t));

const Q_SAMPLE = "DDPM qSample";

/** Left when `x` is not a well-formed finite tensor of `shape`. */
const checkTensor = <A extends Storage>(
  name: string,
  x: Tensor<A>,
  shape: readonly number[],
): E.Either<ScoreflowError, Tensor<A>> => {
  if (x.shape.length !== shape.length || x.shape.some((n, i) => n !== shape[i])) {
    return E.left(
      scoreflowError(Q_SAMPLE, `${name}.shape`, x.shape, `must equal x0.shape [${shape.join(", ")}]`),
    );
  }
  if (x.data.length !== size(shape)) {
    return E.left(
      scoreflowError(
        Q_SAMPLE,
        `${name}.data.length`,
        x.data.length,
        `must equal ${size(shape)}, the shape's size`,
      ),
    );
  }
  const bad = x.data.findIndex((v) => !Number.isFinite(v));
  return bad >= 0
    ? E.left(scoreflowError(Q_SAMPLE, `${name}.data[${bad}]`, x.data[bad], "must be finite"))
    : E.right(x);
};

/**
 * Samples q(x_t | x_0) by the reparameterization x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·ε (Ho et al. 2020, eq. 4 and §3.2;
 * diffusers' `add_noise`), with the noise ε given (draw it with `normalLike` from a key). Keeps the storage of
 * `x0` and accumulates in float64.
 *
 * t: integer index in [0, T − 1]; `x0` and `eps`: tensors of one shape with finite values.
 *
 * @category Discrete
 */
export const ddpmQSample = <A extends Storage>(
  schedule: DdpmSchedule,
  t: number,
  x0: Tensor<A>,
  eps: Tensor<A>,
): E.Either<ScoreflowError, Tensor<A>> =>
  pipe(
    checkTimestep(Q_SAMPLE, schedule, t),
    E.flatMap(() => checkTensor("x0", x0, x0.shape)),
    E.flatMap(() => checkTensor("eps", eps, x0.shape)),
    E.map(() => {
      const { scale, std } = ddpmMarginalAt(schedule, t);
      return linearCombination([
        [scale, x0],
        [std, eps],
      ]);
    }),
  );
