/**
 * The variance-preserving (VP) SDE of Song et al. 2021, "Score-Based Generative Modeling through Stochastic
 * Differential Equations", ICLR (eq. 11): the continuous limit of DDPM with a linear β schedule.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { ScoreflowError } from "../core/errors.js";
import { checkAll, checkOrdered, isNonNegative, isPositive } from "../core/validate.js";
import { log1pSquare } from "./numerics.js";
import { checkTimeDomain } from "./time-domain.js";
import type { LinearSde } from "./types.js";

/**
 * Parameters of the linear β schedule β(t) = βmin + t·(βmax − βmin) shared by the VP and sub-VP SDEs
 * (Song et al. 2021, eq. 11–12 and App. C: βmin = 0.1, βmax = 20, ε = 10⁻³, T = 1).
 *
 * @category SDEs
 */
export interface VpSdeParams {
  /** β(0) = βmin, finite and ≥ 0 (default 0.1). */
  readonly betaMin: number;
  /** β(1) = βmax, finite, > 0 and ≥ βmin (default 20). */
  readonly betaMax: number;
  /** Smallest sampling time ε, 0 < tMin < tMax (default 10⁻³). */
  readonly tMin: number;
  /** Terminal time T, finite (default 1). */
  readonly tMax: number;
}

/**
 * The integrated schedule B(t) = ∫₀ᵗ β(u) du = βmin·t + ½(βmax − βmin)·t², so that s(t) = exp(−½B(t)) for
 * both the VP and the sub-VP SDE (Song et al. 2021, App. B). Valid for every t ≥ 0.
 *
 * @category SDEs
 */
export const integratedBeta = (p: Pick<VpSdeParams, "betaMin" | "betaMax">, t: number): number =>
  t * (p.betaMin + 0.5 * t * (p.betaMax - p.betaMin));

/**
 * The inverse of {@link integratedBeta}: the root t ≥ 0 of ½(βmax − βmin)·t² + βmin·t = B (Karras et al.
 * 2022, Table 1, "VP" σ⁻¹), written without cancellation as t = 2B / (βmin + √(βmin² + 2(βmax − βmin)B)).
 * Any B ≥ 0.
 *
 * @category SDEs
 */
export const timeOfIntegratedBeta = (p: Pick<VpSdeParams, "betaMin" | "betaMax">, b: number): number =>
  b === 0 ? 0 : (2 * b) / (p.betaMin + Math.sqrt(p.betaMin * p.betaMin + 2 * (p.betaMax - p.betaMin) * b));

/**
 * Fills in the defaults of a VP-type schedule and validates it: βmin ≥ 0, βmax > 0, βmax ≥ βmin,
 * 0 < tMin < tMax, all finite. `context` names the SDE in the error.
 *
 * @category SDEs
 */
export const resolveVpParams = (
  context: string,
  params: Partial<VpSdeParams>,
): E.Either<ScoreflowError, VpSdeParams> => {
  const p: VpSdeParams = {
    betaMin: params.betaMin ?? 0.1,
    betaMax: params.betaMax ?? 20,
    tMin: params.tMin ?? 1e-3,
    tMax: params.tMax ?? 1,
  };
  return pipe(
    checkAll(context, [
      ["betaMin", p.betaMin, isNonNegative],
      ["betaMax", p.betaMax, isPositive],
    ]),
    E.flatMap(() => checkOrdered(context, ["betaMin", p.betaMin], ["betaMax", p.betaMax], false)),
    E.flatMap(() => checkTimeDomain(context, p.tMin, p.tMax)),
    E.map(() => p),
  );
};

/**
 * The VP SDE dx = −½β(t)·x dt + √β(t) dw with β(t) = βmin + t(βmax − βmin) (Song et al. 2021, eq. 11).
 * Its marginal (eq. 29; App. B, eq. 32–33 of the arXiv version) is x_t | x₀ ~ N(s(t)x₀, σ(t)²I) with
 * s(t) = exp(−¼t²(βmax − βmin) − ½t·βmin) = exp(−½B(t)) and σ(t)² = 1 − s(t)² = −expm1(−B(t)), computed with
 * expm1 so that σ keeps full relative precision as t → 0. Noise level σ̃ = σ/s = √(e^B − 1), inverted in
 * closed form through B = log(1 + σ̃²) and the quadratic of Karras et al. 2022, Table 1. Prior N(0, I).
 *
 * Defaults: βmin = 0.1, βmax = 20, tMin = 10⁻³, tMax = 1. Returns a Left naming the first field that breaks
 * βmin ≥ 0, βmax > 0, βmax ≥ βmin, 0 < tMin < tMax (all finite).
 *
 * @category SDEs
 */
export const vpSde = (params: Partial<VpSdeParams> = {}): E.Either<ScoreflowError, LinearSde> =>
  pipe(
    resolveVpParams("VP SDE", params),
    E.map((p): LinearSde => {
      const beta = (t: number): number => p.betaMin + t * (p.betaMax - p.betaMin);
      return {
        name: "VP",
        tMin: p.tMin,
        tMax: p.tMax,
        f: (t) => -0.5 * beta(t),
        g: (t) => Math.sqrt(beta(t)),
        scale: (t) => Math.exp(-0.5 * integratedBeta(p, t)),
        std: (t) => Math.sqrt(-Math.expm1(-integratedBeta(p, t))),
        timeOfNoiseLevel: (sigma) => timeOfIntegratedBeta(p, log1pSquare(sigma)),
        priorStd: 1,
      };
    }),
  );
