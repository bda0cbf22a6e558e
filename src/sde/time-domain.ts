/**
 * The time domain [tMin, tMax] shared by every SDE constructor: 0 < tMin < tMax < ∞. The lower end tMin is
 * the ε > 0 of Song et al. 2021 (App. C) that keeps samplers away from the σ → 0 singularity of the score.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { ScoreflowError } from "../core/errors.js";
import { checkAll, checkOrdered, isPositive } from "../core/validate.js";

/**
 * Checks 0 < tMin < tMax < ∞, naming `context` in the error (e.g. «VP SDE: tMax must be > tMin, got tMin=1,
 * tMax=0.5»).
 *
 * @category SDEs
 */
export const checkTimeDomain = (
  context: string,
  tMin: number,
  tMax: number,
): E.Either<ScoreflowError, void> =>
  pipe(
    checkAll(context, [
      ["tMin", tMin, isPositive],
      ["tMax", tMax, isPositive],
    ]),
    E.flatMap(() => checkOrdered(context, ["tMin", tMin], ["tMax", tMax], true)),
  );
