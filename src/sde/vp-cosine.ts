/**
 * The VP SDE whose ᾱ follows the cosine schedule of Nichol & Dhariwal 2021, "Improved Denoising Diffusion
 * Probabilistic Models", ICML (eq. 17), in continuous time.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { ScoreflowError } from "../core/errors.js";
import { check, isNonNegative, type NumberRule } from "../core/validate.js";
import { checkTimeDomain } from "./time-domain.js";
import type { LinearSde } from "./types.js";

/**
 * Parameters of the cosine VP SDE.
 *
 * @category SDEs
 */
export interface VpCosineSdeParams {
  /** The offset s of Nichol & Dhariwal 2021, eq. 17: finite and ≥ 0 (default 0.008). */
  readonly offset: number;
  /** Smallest sampling time, 0 < tMin < tMax (default 10⁻³). */
  readonly tMin: number;
  /** Terminal time, tMax < 1 because β(t) → ∞ as t → 1 (default 0.999). */
  readonly tMax: number;
}

/** tMax < 1: β(t) = π/(1+o)·tan(π/2·(t+o)/(1+o)) has a pole at t = 1. */
const belowOne: NumberRule = { test: (x) => x < 1, rule: "must be < 1 (β(t) → ∞ as t → 1)" };

/**
 * The cosine VP SDE dx = −½β(t)·x dt + √β(t) dw with ᾱ(t) = cos²(φ(t)) / cos²(φ(0)),
 * φ(t) = π/2·(t + o)/(1 + o) (Nichol & Dhariwal 2021, eq. 17, offset o), β(t) = −d log ᾱ/dt =
 * π/(1 + o)·tan φ(t). Marginal x_t | x₀ ~ N(s(t)x₀, σ(t)²I) with s = √ᾱ and σ² = 1 − ᾱ, evaluated without
 * cancellation as σ² = sin(φ(t) − φ(0))·sin(φ(t) + φ(0)) / cos²φ(0). The noise level σ̃ = σ/s has
 * ᾱ = 1/(1 + σ̃²); its inverse is φ(t) − φ(0) = atan2(σ̃²cos φ(0) / (R + sin φ(0)), cos²φ(0) + R·sin φ(0))
 * with R = √(sin²φ(0) + σ̃²), exact and free of cancellation at small σ̃. Near t = 1, s and β are evaluated
 * through π/2 − φ(t) = π/2·(1 − t)/(1 + o) (s = sin(·)/cos φ(0), β = π/(1 + o)·cot(·)), which keeps their
 * relative precision where s → 0. Prior N(0, I).
 *
 * Defaults: offset = 0.008, tMin = 10⁻³, tMax = 0.999. Returns a Left naming the first field that breaks
 * offset ≥ 0, 0 < tMin < tMax < 1 (all finite).
 *
 * @category SDEs
 */
export const vpCosineSde = (params: Partial<VpCosineSdeParams> = {}): E.Either<ScoreflowError, LinearSde> => {
  const context = "VP cosine SDE";
  const o = params.offset ?? 0.008;
  const tMin = params.tMin ?? 1e-3;
  const tMax = params.tMax ?? 0.999;
  return pipe(
    check(context, "offset", o, isNonNegative),
    E.flatMap(() => checkTimeDomain(context, tMin, tMax)),
    E.flatMap(() => check(context, "tMax", tMax, belowOne)),
    E.map((): LinearSde => {
      const rate = Math.PI / (2 * (1 + o));
      const phi0 = rate * o;
      const c0 = Math.cos(phi0);
      const s0 = Math.sin(phi0);
      // π/2 − φ(t) = rate·(1 − t): cot and sin of it keep full precision as t → 1, where s → 0 and β → ∞.
      const beta = (t: number): number => (2 * rate) / Math.tan(rate * (1 - t));
      return {
        name: "VP cosine",
        tMin,
        tMax,
        f: (t) => -0.5 * beta(t),
        g: (t) => Math.sqrt(beta(t)),
        scale: (t) => Math.sin(rate * (1 - t)) / c0,
        std: (t) => Math.sqrt(Math.sin(rate * t) * Math.sin(rate * (t + o) + phi0)) / c0,
        timeOfNoiseLevel: (sigma) => {
          if (sigma === 0) return 0;
          const r = Math.hypot(s0, sigma);
          return Math.atan2(sigma * (sigma / (r + s0)) * c0, c0 * c0 + r * s0) / rate;
        },
        priorStd: 1,
      };
    }),
  );
};
