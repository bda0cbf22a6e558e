/**
 * What a network predicts, and how to turn one prediction into another. Given the marginal coefficients
 * (s, σ) of x = s·x₀ + σ·ε, every target is an affine function of (x, ε), hence of (x, any other target):
 * - ε (Ho et al. 2020, eq. 11), the noise;
 * - x₀ = (x − σε)/s, the clean data — also the output of the EDM denoiser D(x/s; σ/s) of Karras et al. 2022
 *   (eq. 2–3 and Table 1), which sees the scaled input x/s at noise level σ/s and predicts x₀;
 * - score = ∇ log p(x | x₀) = −ε/σ (Vincent 2011, "A Connection Between Score Matching and Denoising
 *   Autoencoders"; Song et al. 2021, eq. 7), whose expectation is the score of p_t;
 * - v = (s·ε − σ·x₀)/r with r = √(s² + σ²), which reduces to v ≡ α_t ε − σ_t x of Salimans & Ho 2022
 *   ("Progressive Distillation", §4) for VP (r = 1).
 *
 * Tweedie's formula is the score → x₀ case: E[x₀ | x_t] = (x_t + σ²·∇ log p_t(x_t))/s (Efron 2011, "Tweedie's
 * Formula and Selection Bias", §2; Kadkhodaie & Simoncelli 2021, "Stochastic Solutions for Linear Inverse
 * Problems using the Prior Implicit in a Denoiser", §2 — Miyasawa's least-squares denoiser).
 *
 * @module
 */
import type { VectorSpace } from "../core/tensor.js";
import type { ScaleStd } from "./marginals.js";

/**
 * A network target: `"eps"` (ε), `"x0"` (x₀, or the EDM denoiser), `"v"` (Salimans & Ho's v, generalized to
 * r = √(s² + σ²)), `"score"` (∇ log p_t).
 *
 * @category SDEs
 */
export type Parameterization = "eps" | "x0" | "v" | "score";

/**
 * The coefficients of `to = cx·x + cp·pred`.
 *
 * @category SDEs
 */
export interface ConversionCoefficients {
  /** Coefficient of the noisy input x. */
  readonly cx: number;
  /** Coefficient of the prediction. */
  readonly cp: number;
}

/** Each target as a·x + b·ε: ε = (0, 1), x₀ = (1/s, −σ/s), score = (0, −1/σ), v = (−σ/(s r), r/s). */
const closedForms = (
  s: number,
  sigma: number,
): Readonly<Record<Parameterization, Readonly<Record<Parameterization, ConversionCoefficients>>>> => {
  const r = Math.hypot(s, sigma);
  const r2 = r * r;
  const sigma2 = sigma * sigma;
  return {
    eps: {
      eps: { cx: 0, cp: 1 },
      x0: { cx: 1 / s, cp: -sigma / s },
      score: { cx: 0, cp: -1 / sigma },
      v: { cx: -sigma / (s * r), cp: r / s },
    },
    x0: {
      eps: { cx: 1 / sigma, cp: -s / sigma },
      x0: { cx: 0, cp: 1 },
      score: { cx: -1 / sigma2, cp: s / sigma2 },
      v: { cx: s / (sigma * r), cp: -r / sigma },
    },
    score: {
      eps: { cx: 0, cp: -sigma },
      x0: { cx: 1 / s, cp: sigma2 / s },
      score: { cx: 0, cp: 1 },
      v: { cx: -sigma / (s * r), cp: (-sigma * r) / s },
    },
    v: {
      eps: { cx: sigma / r2, cp: s / r },
      x0: { cx: s / r2, cp: -sigma / r },
      score: { cx: -1 / r2, cp: -s / (sigma * r) },
      v: { cx: 0, cp: 1 },
    },
  };
};

/**
 * The coefficients (cx, cp) with `to = cx·x + cp·pred` when `pred` is the `from` target at the noisy input x
 * with marginal coefficients { scale: s, std: σ }, s > 0, σ > 0 (x = s·x₀ + σ·ε, r = √(s² + σ²)). Each of the
 * twelve pairs is written in closed form, free of cancellation, e.g.
 * x₀ = (x − σε)/s (eps → x0: cx = 1/s, cp = −σ/s), ε = (x − s·x₀)/σ, score = −ε/σ, Tweedie
 * x₀ = (x + σ²·score)/s (Efron 2011), x₀ = (s/r²)·x − (σ/r)·v and ε = (σ/r²)·x + (s/r)·v (Salimans & Ho 2022,
 * §4, generalized to r ≠ 1). Identity for from = to.
 *
 * @category SDEs
 */
export const convertCoefficients = (
  from: Parameterization,
  to: Parameterization,
  coefficients: ScaleStd,
): ConversionCoefficients => closedForms(coefficients.scale, coefficients.std)[from][to];

/**
 * Converts a prediction in any vector space: returns `to = cx·x + cp·pred` with the coefficients of
 * {@link convertCoefficients} (s > 0, σ > 0).
 *
 * @category SDEs
 */
export const convertPrediction = <V>(
  space: VectorSpace<V>,
  from: Parameterization,
  to: Parameterization,
  coefficients: ScaleStd,
  x: V,
  pred: V,
): V => {
  const { cx, cp } = convertCoefficients(from, to, coefficients);
  return cx === 0
    ? space.combine([[cp, pred]])
    : space.combine([
        [cx, x],
        [cp, pred],
      ]);
};
