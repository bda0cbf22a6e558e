/**
 * The variance-exploding (VE) SDE of Song et al. 2021 (eq. 9 and 30): the continuous limit of SMLD / NCSN.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { ScoreflowError } from "../core/errors.js";
import { checkAll, checkOrdered, isPositive } from "../core/validate.js";
import { log1pSquare } from "./numerics.js";
import { checkTimeDomain } from "./time-domain.js";
import type { LinearSde } from "./types.js";

/**
 * Parameters of the VE SDE (Song et al. 2021, App. C: σmin = 0.01, σmax = 50 for CIFAR-10, ε = 10⁻⁵).
 *
 * @category SDEs
 */
export interface VeSdeParams {
  /** σ_VE(0) = σmin, finite and > 0 (default 0.01). */
  readonly sigmaMin: number;
  /** σ_VE(1) = σmax, finite and > σmin (default 50). */
  readonly sigmaMax: number;
  /** Smallest sampling time, 0 < tMin < tMax (default 10⁻⁵). */
  readonly tMin: number;
  /** Terminal time, finite (default 1). */
  readonly tMax: number;
}

/**
 * The VE SDE dx = g(t) dw, f = 0, with σ_VE(t) = σmin(σmax/σmin)ᵗ and g(t) = σ_VE(t)·√(2 log(σmax/σmin))
 * (Song et al. 2021, eq. 9 and 30). The marginal from t = 0 is EXACT here: x_t | x₀ ~ N(x₀, σ(t)²I) with
 * σ(t)² = σ_VE(t)² − σ_VE(0)² = σmin²((σmax/σmin)^{2t} − 1) (App. B, eq. 31: p₀ₜ = N(x₀, [σ²(t) − σ²(0)]I)),
 * evaluated with expm1. score_sde's `marginal_prob` approximates it by σ_VE(t), which is off by σmin at
 * t = 0. s = 1, so the noise level is σ and its inverse is t = log(1 + σ̃²/σmin²) / (2 log(σmax/σmin)).
 * Prior N(0, σmax²I) (Song et al. 2021, App. C).
 *
 * Defaults: σmin = 0.01, σmax = 50, tMin = 10⁻⁵, tMax = 1. Returns a Left naming the first field that breaks
 * σmin > 0, σmax > σmin, 0 < tMin < tMax (all finite).
 *
 * @category SDEs
 */
export const veSde = (params: Partial<VeSdeParams> = {}): E.Either<ScoreflowError, LinearSde> => {
  const context = "VE SDE";
  const sigmaMin = params.sigmaMin ?? 0.01;
  const sigmaMax = params.sigmaMax ?? 50;
  const tMin = params.tMin ?? 1e-5;
  const tMax = params.tMax ?? 1;
  return pipe(
    checkAll(context, [
      ["sigmaMin", sigmaMin, isPositive],
      ["sigmaMax", sigmaMax, isPositive],
    ]),
    E.flatMap(() => checkOrdered(context, ["sigmaMin", sigmaMin], ["sigmaMax", sigmaMax], true)),
    E.flatMap(() => checkTimeDomain(context, tMin, tMax)),
    E.map((): LinearSde => {
      const logRatio = Math.log(sigmaMax) - Math.log(sigmaMin);
      const gFactor = sigmaMin * Math.sqrt(2 * logRatio);
      return {
        name: "VE",
        tMin,
        tMax,
        f: () => 0,
        g: (t) => gFactor * Math.exp(t * logRatio),
        scale: () => 1,
        std: (t) => sigmaMin * Math.sqrt(Math.expm1(2 * t * logRatio)),
        timeOfNoiseLevel: (sigma) => log1pSquare(sigma / sigmaMin) / (2 * logRatio),
        priorStd: sigmaMax,
      };
    }),
  );
};
