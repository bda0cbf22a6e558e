/**
 * The prior p_T = N(0, σ_p²·I) of a linear SDE: its log-density and keyed samples (Song et al. 2021, App. C:
 * N(0, I) for VP and sub-VP, N(0, σmax²I) for VE).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import type { RngKey } from "../core/rng.js";
import { map, normalLike, type Tensor64, zeros64 } from "../core/tensor.js";
import { checkAll, isPositiveInteger } from "../core/validate.js";
import type { LinearSde } from "./types.js";

/**
 * The log-density of the prior at one float64 vector x of n components:
 * log p_T(x) = −n/2·log(2π σ_p²) − |x|²/(2σ_p²) with σ_p = `sde.priorStd` (score_sde's `prior_logp`,
 * Song et al. 2021, App. C). Any n ≥ 0.
 *
 * @category SDEs
 */
export const priorLogDensity = (sde: LinearSde, x: ArrayLike<number>): number => {
  const variance = sde.priorStd * sde.priorStd;
  let squared = 0;
  for (let i = 0; i < x.length; i++) squared += x[i] * x[i];
  return -0.5 * x.length * Math.log(2 * Math.PI * variance) - squared / (2 * variance);
};

/**
 * A float64 tensor of the given shape drawn from the prior N(0, σ_p²I): σ_p·ε with ε = `normalLike(key, ·)`,
 * so row i of the first (batch) axis comes from `foldIn(key, i)` and does not depend on the batch size.
 * Returns a Left unless the shape is a non-empty list of integers ≥ 1.
 *
 * @category SDEs
 */
export const samplePrior = (
  sde: LinearSde,
  key: RngKey,
  shape: readonly number[],
): E.Either<ScoreflowError, Tensor64> =>
  pipe(
    shape.length > 0
      ? E.right(undefined)
      : E.left(scoreflowError("samplePrior", "shape", shape, "must be a non-empty list of integers ≥ 1")),
    E.flatMap(() =>
      checkAll(
        "samplePrior",
        shape.map((n, i) => [`shape[${i}]`, n, isPositiveInteger] as const),
      ),
    ),
    E.map(() => map(normalLike(key, zeros64(shape)), (z) => sde.priorStd * z)),
  );
