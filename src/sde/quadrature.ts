/**
 * Adaptive Gauss–Kronrod quadrature in float64: the 7-point Gauss rule embedded in the 15-point Kronrod rule
 * (Kronrod 1965; Piessens et al. 1983, "QUADPACK", §2.2, routine QK15), refined globally by bisecting the
 * interval with the largest error estimate (QUADPACK's QAG strategy).
 *
 * @module
 */

/** Kronrod abscissae on [−1, 1], x₁ > … > x₈ = 0; odd indices (from 0) are the Gauss–Legendre 7 nodes. */
const XGK = [
  0.9914553711208126, 0.9491079123427585, 0.8648644233597691, 0.7415311855993945, 0.5860872354676911,
  0.4058451513773972, 0.20778495500789848, 0,
];
/** Kronrod weights of the abscissae above. */
const WGK = [
  0.022935322010529224, 0.06309209262997856, 0.10479001032225019, 0.14065325971552592, 0.1690047266392679,
  0.19035057806478542, 0.20443294007529889, 0.20948214108472782,
];
/** Gauss–Legendre 7-point weights of XGK[1], XGK[3], XGK[5] and the centre. */
const WG = [0.1294849661688697, 0.27970539148927664, 0.3818300505051189, 0.4179591836734694];

/** Errors below this multiple of ε·∫|h| are roundoff and not worth refining (QUADPACK uses 50ε). */
const ROUNDOFF = 50 * Number.EPSILON;

/**
 * A quadrature estimate of ∫ₐᵇ h: the value, an error estimate and the magnitude ∫ₐᵇ |h| (for roundoff
 * bounds).
 *
 * @category Core
 */
export interface QuadratureEstimate {
  /** The estimate of ∫ₐᵇ h(u) du. */
  readonly value: number;
  /** An estimate of |value − ∫ₐᵇ h|: |K15 − G7| summed over the subintervals (conservative). */
  readonly error: number;
  /** The K15 estimate of ∫ₐᵇ |h(u)| du. */
  readonly magnitude: number;
}

/**
 * Requested accuracy of {@link adaptiveQuadrature}: stop when error ≤ max(absolute, relative·|value|).
 *
 * @category Core
 */
export interface QuadratureTolerance {
  /** Relative tolerance, ≥ 0 (e.g. 10⁻¹²). */
  readonly relative: number;
  /** Absolute tolerance, ≥ 0. */
  readonly absolute: number;
}

/**
 * One G7–K15 rule on [a, b] (QUADPACK QK15): value = K15 = (b−a)/2·Σ wₖ·h(c + (b−a)/2·xₖ), exact for
 * polynomials of degree ≤ 22; error = |K15 − G7|, where G7 is exact to degree 13. Any real a, b (b < a gives
 * the negated integral, a = b gives 0).
 *
 * @category Core
 */
export const gaussKronrod15 = (h: (u: number) => number, a: number, b: number): QuadratureEstimate => {
  const centre = 0.5 * (a + b);
  const half = 0.5 * (b - a);
  const fc = h(centre);
  let kronrod = WGK[7] * fc;
  let gauss = WG[3] * fc;
  let magnitude = WGK[7] * Math.abs(fc);
  for (let j = 0; j < 7; j++) {
    const dx = half * XGK[j];
    const f1 = h(centre - dx);
    const f2 = h(centre + dx);
    kronrod += WGK[j] * (f1 + f2);
    magnitude += WGK[j] * (Math.abs(f1) + Math.abs(f2));
    if (j % 2 === 1) gauss += WG[(j - 1) / 2] * (f1 + f2);
  }
  return {
    value: kronrod * half,
    error: Math.abs((kronrod - gauss) * half),
    magnitude: magnitude * Math.abs(half),
  };
};

/**
 * True when an estimate meets a tolerance: error ≤ max(absolute, relative·|value|), or the error is roundoff
 * (≤ 50ε·∫|h|, QUADPACK's floor) and cannot be reduced by refinement.
 *
 * @category Core
 */
export const quadratureConverged = (estimate: QuadratureEstimate, tolerance: QuadratureTolerance): boolean =>
  estimate.error <=
  Math.max(tolerance.absolute, tolerance.relative * Math.abs(estimate.value), ROUNDOFF * estimate.magnitude);

/**
 * Globally adaptive G7–K15 quadrature of ∫ₐᵇ h (QUADPACK QAG, Piessens et al. 1983, §3.1): bisects the
 * subinterval with the largest error estimate until Σ errors ≤ max(absolute, relative·|Σ values|), until
 * every remaining error is roundoff (≤ 50ε·∫|h|), or until `maxIntervals` subintervals (default 400). Stops
 * early on a non-finite value, which it returns as is. Never throws; the caller judges the returned `error`.
 *
 * @category Core
 */
export const adaptiveQuadrature = (
  h: (u: number) => number,
  a: number,
  b: number,
  tolerance: QuadratureTolerance,
  maxIntervals = 400,
): QuadratureEstimate => {
  const lo: number[] = [a];
  const hi: number[] = [b];
  const parts: QuadratureEstimate[] = [gaussKronrod15(h, a, b)];
  for (;;) {
    let value = 0;
    let error = 0;
    let magnitude = 0;
    let worst = 0;
    let worstExcess = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      value += p.value;
      error += p.error;
      magnitude += p.magnitude;
      const excess = p.error - ROUNDOFF * p.magnitude;
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
    const done =
      !Number.isFinite(value) ||
      !Number.isFinite(error) ||
      error <= Math.max(tolerance.absolute, tolerance.relative * Math.abs(value)) ||
      worstExcess <= 0 ||
      parts.length >= maxIntervals;
    const mid = 0.5 * (lo[worst] + hi[worst]);
    if (done || mid === lo[worst] || mid === hi[worst]) return { value, error, magnitude };
    parts.push(gaussKronrod15(h, mid, hi[worst]));
    lo.push(mid);
    hi.push(hi[worst]);
    parts[worst] = gaussKronrod15(h, lo[worst], mid);
    hi[worst] = mid;
  }
};
