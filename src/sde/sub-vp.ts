/**
 * The sub-VP SDE of Song et al. 2021 (eq. 12): the VP drift with a diffusion damped near t = 0, whose
 * marginal variance is bounded by the VP one.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { ScoreflowError } from "../core/errors.js";
import type { LinearSde } from "./types.js";
import { integratedBeta, resolveVpParams, timeOfIntegratedBeta, type VpSdeParams } from "./vp.js";

/**
 * The parameters of the sub-VP SDE: the same linear β schedule and time domain as the VP SDE.
 *
 * @category SDEs
 */
export type SubVpSdeParams = VpSdeParams;

/**
 * The sub-VP SDE dx = −½β(t)·x dt + √(β(t)(1 − e^{−2B(t)})) dw with B(t) = ∫₀ᵗ β (Song et al. 2021, eq. 12).
 * Its marginal (App. B) is x_t | x₀ ~ N(s(t)x₀, σ(t)²I) with s(t) = exp(−½B(t)) as for VP and
 * σ(t) = 1 − s(t)² = −expm1(−B(t)) (the standard deviation, not the variance), so σ_subVP² ≤ σ_VP² for all t.
 * Noise level σ̃ = (1 − s²)/s; its inverse solves s² + σ̃s − 1 = 0, s = 2/(σ̃ + √(σ̃² + 4)), then
 * B = −log s² = −log1p(−σ̃s) and the VP quadratic for t (Karras et al. 2022, Table 1). Prior N(0, I).
 *
 * Defaults and validation as {@link vpSde}: βmin = 0.1, βmax = 20, tMin = 10⁻³, tMax = 1.
 *
 * @category SDEs
 */
export const subVpSde = (params: Partial<SubVpSdeParams> = {}): E.Either<ScoreflowError, LinearSde> =>
  pipe(
    resolveVpParams("sub-VP SDE", params),
    E.map((p): LinearSde => {
      const beta = (t: number): number => p.betaMin + t * (p.betaMax - p.betaMin);
      return {
        name: "sub-VP",
        tMin: p.tMin,
        tMax: p.tMax,
        f: (t) => -0.5 * beta(t),
        g: (t) => Math.sqrt(-beta(t) * Math.expm1(-2 * integratedBeta(p, t))),
        scale: (t) => Math.exp(-0.5 * integratedBeta(p, t)),
        std: (t) => -Math.expm1(-integratedBeta(p, t)),
        timeOfNoiseLevel: (sigma) => {
          const s = 2 / (sigma + Math.hypot(sigma, 2));
          // s² = 1 − σ̃s: take log1p while s is near 1, the plain log once s is small.
          const b = sigma * s < 0.5 ? -Math.log1p(-sigma * s) : -2 * Math.log(s);
          return timeOfIntegratedBeta(p, b);
        },
        priorStd: 1,
      };
    }),
  );
