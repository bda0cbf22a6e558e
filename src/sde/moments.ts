/**
 * The moments of a linear SDE dx = f(t)x dt + g(t) dw computed from f and g alone, in float64: the mean scale
 * log s(t) = ∫₀ᵗ f(u) du and the noise variance σ̃(t)² = σ(t)²/s(t)² = ∫₀ᵗ g(u)²·e^{−2 log s(u)} du (the mean
 * and variance ODEs d log s/dt = f, dσ²/dt = 2fσ² + g² of Särkkä & Solin 2019, "Applied Stochastic
 * Differential Equations", eq. 5.50–5.51, as used in Song et al. 2021, App. B). A table holds both integrals
 * at knots chosen by adaptive G7–K15 bisection until each knot interval meets a 10⁻¹² relative tolerance; a
 * query then integrates only from the knot below.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import {
  adaptiveQuadrature,
  gaussKronrod15,
  type QuadratureTolerance,
  quadratureConverged,
} from "./quadrature.js";

/**
 * The integrals log s and σ̃² tabulated at knots 0 = t₀ < t₁ < … < t_K = tMax.
 *
 * @category SDEs
 */
export interface MomentTable {
  /** Knot times, increasing, from 0 to tMax. */
  readonly times: Float64Array;
  /** log s(t_k) = ∫₀^{t_k} f(u) du. */
  readonly logScale: Float64Array;
  /** σ̃(t_k)² = ∫₀^{t_k} g(u)²/s(u)² du, non-decreasing. */
  readonly noiseVariance: Float64Array;
}

/** Relative tolerance of every integral. */
const RELATIVE = 1e-12;
/** Number of equal segments [0, tMax] is cut into before refinement (a power of 2, so knots are exact). */
const BASE_SEGMENTS = 32;
/** Bisections of a base segment beyond which an interval is accepted as is (width ≈ 3·10⁻¹⁴·tMax). */
const MAX_DEPTH = 40;
/** Knots beyond which f and g are deemed too irregular to tabulate. */
const MAX_KNOTS = 8192;

/** Tolerance of ∫ f from a knot whose log-scale is `logScale`: absolute on log s, i.e. relative on s. */
const logScaleTolerance = (logScale: number): QuadratureTolerance => ({
  relative: RELATIVE,
  absolute: RELATIVE * (1 + Math.abs(logScale)),
});

/** u ↦ g(u)²/s(u)², with log s(u) integrated from the knot a where log s(a) = logScaleA. */
const noiseDensity =
  (f: (t: number) => number, g: (t: number) => number, a: number, logScaleA: number) =>
  (u: number): number => {
    const gu = g(u);
    const logScale = logScaleA + adaptiveQuadrature(f, a, u, logScaleTolerance(logScaleA)).value;
    return gu * gu * Math.exp(-2 * logScale);
  };

/**
 * Tabulates log s and σ̃² for f, g on [0, tMax] (tMax > 0): the 32 equal segments of [0, tMax] are bisected,
 * left to right, until on each knot interval [a, b] the G7–K15 estimates of ∫ₐᵇ f and ∫ₐᵇ g²/s² meet
 * |K15 − G7| ≤ 10⁻¹²·(1 + |log s(a)|) and ≤ 10⁻¹²·σ̃(b)² respectively. Returns a Left (naming `context`) if
 * an integral is not finite or more than 8192 knots are needed.
 *
 * @category SDEs
 */
export const momentTable = (
  context: string,
  f: (t: number) => number,
  g: (t: number) => number,
  tMax: number,
): E.Either<ScoreflowError, MomentTable> => {
  const times = [0];
  const logScale = [0];
  const noiseVariance = [0];
  const stack: Array<readonly [a: number, b: number, depth: number]> = [];
  for (let i = BASE_SEGMENTS; i >= 1; i--) {
    stack.push([(tMax * (i - 1)) / BASE_SEGMENTS, (tMax * i) / BASE_SEGMENTS, 0]);
  }
  const where = (a: number, b: number): string => `on [${a}, ${b}]`;
  while (stack.length > 0) {
    const [a, b, depth] = stack.pop()!;
    const logScaleA = logScale[logScale.length - 1];
    const varianceA = noiseVariance[noiseVariance.length - 1];
    const drift = gaussKronrod15(f, a, b);
    if (!Number.isFinite(drift.value)) {
      return E.left(
        scoreflowError(
          context,
          "f",
          drift.value,
          "must be finite on [0, tMax]",
          `∫f=${drift.value} ${where(a, b)}`,
        ),
      );
    }
    const noise = gaussKronrod15(noiseDensity(f, g, a, logScaleA), a, b);
    if (!Number.isFinite(noise.value)) {
      return E.left(
        scoreflowError(
          context,
          "g",
          noise.value,
          "must be finite with ∫₀ᵗ g²/s² finite on [0, tMax]",
          `∫g²/s²=${noise.value} ${where(a, b)}`,
        ),
      );
    }
    const accepted =
      depth >= MAX_DEPTH ||
      (quadratureConverged(drift, logScaleTolerance(logScaleA)) &&
        quadratureConverged(noise, { relative: RELATIVE, absolute: RELATIVE * varianceA }));
    if (accepted) {
      times.push(b);
      logScale.push(logScaleA + drift.value);
      noiseVariance.push(varianceA + noise.value);
      if (times.length > MAX_KNOTS) {
        return E.left(
          scoreflowError(
            context,
            "f, g",
            times.length,
            `must be smooth enough to integrate with ≤ ${MAX_KNOTS} quadrature knots`,
            `more than ${MAX_KNOTS} knots before t=${b}`,
          ),
        );
      }
    } else {
      const mid = 0.5 * (a + b);
      stack.push([mid, b, depth + 1], [a, mid, depth + 1]);
    }
  }
  return E.right({
    times: Float64Array.from(times),
    logScale: Float64Array.from(logScale),
    noiseVariance: Float64Array.from(noiseVariance),
  });
};

/**
 * Index of the last entry of the increasing array `values` that is ≤ `x` (0 when x < values[0]), by
 * bisection.
 *
 * @category SDEs
 */
export const lastAtMost = (values: Float64Array, x: number): number => {
  let lo = 0;
  let hi = values.length - 1;
  if (x >= values[hi]) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] <= x) lo = mid;
    else hi = mid;
  }
  return lo;
};

/**
 * log s(t) = log s(t_k) + ∫_{t_k}^t f, integrated from the knot t_k ≤ t to 10⁻¹² (t in [0, tMax]).
 *
 * @category SDEs
 */
export const logScaleAt = (f: (t: number) => number, table: MomentTable, t: number): number => {
  const k = lastAtMost(table.times, t);
  const base = table.logScale[k];
  return base + adaptiveQuadrature(f, table.times[k], t, logScaleTolerance(base)).value;
};

/**
 * σ̃(t)² = σ̃(t_k)² + ∫_{t_k}^t g(u)²/s(u)² du, integrated from the knot t_k ≤ t to 10⁻¹² relative to σ̃(t)²
 * (t in [0, tMax]).
 *
 * @category SDEs
 */
export const noiseVarianceAt = (
  f: (t: number) => number,
  g: (t: number) => number,
  table: MomentTable,
  t: number,
): number => {
  const k = lastAtMost(table.times, t);
  const a = table.times[k];
  const base = table.noiseVariance[k];
  const increment = adaptiveQuadrature(noiseDensity(f, g, a, table.logScale[k]), a, t, {
    relative: RELATIVE,
    absolute: RELATIVE * base,
  });
  return base + increment.value;
};
