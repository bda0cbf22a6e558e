/**
 * The SDE of Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", NeurIPS
 * (Table 1, "EDM" column; eq. 4–6): time is the noise level, σ(t) = t, s(t) = 1.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { ScoreflowError } from "../core/errors.js";
import { checkAll, checkOrdered, isPositive } from "../core/validate.js";
import type { LinearSde } from "./types.js";

/**
 * Parameters of the EDM SDE (Karras et al. 2022, Table 1: σmin = 0.002, σmax = 80).
 *
 * @category SDEs
 */
export interface EdmSdeParams {
  /** Smallest noise level, which is also tMin: finite and > 0 (default 0.002). */
  readonly sigmaMin: number;
  /** Largest noise level, which is also tMax: finite and > σmin (default 80). */
  readonly sigmaMax: number;
}

/**
 * The EDM SDE dx = √(2t) dw, f = 0 (Karras et al. 2022, eq. 6 with σ(t) = t, s(t) = 1, so
 * g = √(2σ̇σ) = √(2t)). Marginal x_t | x₀ ~ N(x₀, t²I); the noise level is t itself and its inverse the
 * identity. Time domain [σmin, σmax]; prior N(0, σmax²I).
 *
 * Defaults: σmin = 0.002, σmax = 80. Returns a Left naming the first field that breaks σmin > 0, σmax > σmin
 * (both finite).
 *
 * @category SDEs
 */
export const edmSde = (params: Partial<EdmSdeParams> = {}): E.Either<ScoreflowError, LinearSde> => {
  const context = "EDM SDE";
  const sigmaMin = params.sigmaMin ?? 0.002;
  const sigmaMax = params.sigmaMax ?? 80;
  return pipe(
    checkAll(context, [
      ["sigmaMin", sigmaMin, isPositive],
      ["sigmaMax", sigmaMax, isPositive],
    ]),
    E.flatMap(() => checkOrdered(context, ["sigmaMin", sigmaMin], ["sigmaMax", sigmaMax], true)),
    E.map(
      (): LinearSde => ({
        name: "EDM",
        tMin: sigmaMin,
        tMax: sigmaMax,
        f: () => 0,
        g: (t) => Math.sqrt(2 * t),
        scale: () => 1,
        std: (t) => t,
        timeOfNoiseLevel: (sigma) => sigma,
        priorStd: sigmaMax,
      }),
    ),
  );
};
