/**
 * A user-defined linear SDE dx = f(t)·x dt + g(t) dw given by f and g alone; its marginal scale s(t),
 * standard deviation σ(t) and the inverse of its noise level σ(t)/s(t) are integrated numerically in float64.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { check, isPositive } from "../core/validate.js";
import { lastAtMost, logScaleAt, type MomentTable, momentTable, noiseVarianceAt } from "./moments.js";
import { checkTimeDomain } from "./time-domain.js";
import type { LinearSde } from "./types.js";

/**
 * The definition of a custom linear SDE dx = f(t)·x dt + g(t) dw on [tMin, tMax].
 *
 * @category SDEs
 */
export interface LinearSdeParams {
  /** A short non-empty name. */
  readonly name: string;
  /** Drift coefficient f(t), finite on [0, tMax]. */
  readonly f: (t: number) => number;
  /** Diffusion coefficient g(t), finite and ≥ 0 on [0, tMax], not identically 0 on a part of [tMin, tMax]. */
  readonly g: (t: number) => number;
  /** Smallest sampling time, 0 < tMin < tMax; the noise level σ(tMin)/s(tMin) must be > 0. */
  readonly tMin: number;
  /** Terminal time, finite. */
  readonly tMax: number;
  /** Standard deviation of the prior N(0, priorStd²I), finite and > 0 (default σ(tMax)). */
  readonly priorStd?: number;
}

/** Number of equally spaced points of [0, tMax] at which f and g are probed before integrating. */
const PROBES = 128;
/** Newton iterations of the noise-level inversion before it settles for the bracket. */
const MAX_NEWTON = 60;
/** Newton stops once a step changes log t by less than this. */
const NEWTON_TOL = 1e-13;

/** Checks that f and g are finite, and g ≥ 0, at 129 equally spaced points of [0, tMax]. */
const probe = (
  context: string,
  f: (t: number) => number,
  g: (t: number) => number,
  tMax: number,
): E.Either<ScoreflowError, void> => {
  for (let i = 0; i <= PROBES; i++) {
    const t = (tMax * i) / PROBES;
    const ft = f(t);
    if (!Number.isFinite(ft)) {
      return E.left(scoreflowError(context, "f", ft, "must be finite on [0, tMax]", `f(${t})=${ft}`));
    }
    const gt = g(t);
    if (!Number.isFinite(gt) || gt < 0) {
      return E.left(scoreflowError(context, "g", gt, "must be finite and ≥ 0 on [0, tMax]", `g(${t})=${gt}`));
    }
  }
  return E.right(undefined);
};

/** Checks that s(t) = e^{log s} stays within float64 range at every knot. */
const checkScale = (context: string, table: MomentTable): E.Either<ScoreflowError, void> => {
  for (let k = 0; k < table.times.length; k++) {
    const s = Math.exp(table.logScale[k]);
    if (!(s > 0 && Number.isFinite(s))) {
      return E.left(
        scoreflowError(
          context,
          "f",
          s,
          "must keep s(t) = exp ∫₀ᵗ f within float64 range",
          `s(${table.times[k]})=${s}`,
        ),
      );
    }
  }
  return E.right(undefined);
};

/** Checks σ̃(tMin) > 0 and σ̃ strictly increasing over the knots in (tMin, tMax]. */
const checkIncreasing = (
  context: string,
  table: MomentTable,
  varianceAtTMin: number,
  tMin: number,
): E.Either<ScoreflowError, void> => {
  const rule = "must make the noise level σ(t)/s(t) positive and strictly increasing on [tMin, tMax]";
  if (!(varianceAtTMin > 0)) {
    return E.left(
      scoreflowError(context, "g", varianceAtTMin, rule, `σ(tMin)/s(tMin)=${Math.sqrt(varianceAtTMin)}`),
    );
  }
  let previousTime = tMin;
  let previous = varianceAtTMin;
  for (let k = lastAtMost(table.times, tMin) + 1; k < table.times.length; k++) {
    if (!(table.noiseVariance[k] > previous)) {
      return E.left(
        scoreflowError(
          context,
          "g",
          table.noiseVariance[k],
          rule,
          `σ(t)/s(t) constant on [${previousTime}, ${table.times[k]}]`,
        ),
      );
    }
    previousTime = table.times[k];
    previous = table.noiseVariance[k];
  }
  return E.right(undefined);
};

/**
 * Time at which σ̃(t)² equals `target` > 0, by Newton's method on log σ̃² as a function of log t, safeguarded
 * by the bracket [t_k, t_{k+1}] of tabulated knots (bisection when a step leaves it). Exact for power laws
 * σ̃² ∝ tᵖ, quadratic near the root; stops when a step moves log t by < 10⁻¹³.
 */
const solveNoiseVariance = (
  f: (t: number) => number,
  g: (t: number) => number,
  table: MomentTable,
  target: number,
): number => {
  const k = lastAtMost(table.noiseVariance, target);
  let lo = table.times[k];
  let hi = table.times[k + 1];
  const logTarget = Math.log(target);
  const below = table.noiseVariance[k];
  const above = table.noiseVariance[k + 1];
  let t =
    below > 0
      ? lo + ((hi - lo) * (logTarget - Math.log(below))) / (Math.log(above) - Math.log(below))
      : hi * Math.sqrt(target / above);
  if (!(t > lo && t < hi)) t = 0.5 * (lo + hi);
  for (let i = 0; i < MAX_NEWTON; i++) {
    const variance = noiseVarianceAt(f, g, table, t);
    const residual = Math.log(variance) - logTarget;
    if (residual === 0) return t;
    if (residual > 0) hi = t;
    else lo = t;
    const gt = g(t);
    const slope = (t * gt * gt * Math.exp(-2 * logScaleAt(f, table, t))) / variance;
    const step = residual / slope;
    const next = t * Math.exp(-step);
    if (Math.abs(step) <= NEWTON_TOL) return next;
    t = next > lo && next < hi ? next : lo > 0 ? 0.5 * (lo + hi) : hi / 16;
    if (hi - lo <= 4 * Number.EPSILON * hi) return t;
  }
  return t;
};

/**
 * A linear SDE dx = f(t)·x dt + g(t) dw from its coefficients alone (Song et al. 2021, eq. 5 with affine
 * drift; Särkkä & Solin 2019, §4.3 and eq. 5.50–5.51). Its moments come from the moment equations integrated
 * in float64: log s(t) = ∫₀ᵗ f(u) du and σ(t)²/s(t)² = ∫₀ᵗ g(u)²·e^{−2∫₀ᵘ f} du, tabulated at adaptive G7–K15
 * knots to a relative tolerance of 10⁻¹² and integrated from the nearest knot below at each query (≈ 10 µs a
 * query). `timeOfNoiseLevel` inverts σ̃ = σ/s numerically (safeguarded Newton on log σ̃ against log t, to ≈
 * 10⁻¹³); noise levels ≥ σ̃(tMax) map to tMax and 0 maps to 0.
 *
 * Validation: a non-empty name; 0 < tMin < tMax finite; f and g finite and g ≥ 0 at 129 equally spaced points
 * of [0, tMax]; finite integrals and s(t) within float64 range; σ̃(tMin) > 0 and σ̃ strictly increasing over
 * the knots in [tMin, tMax]; priorStd (default σ(tMax)) finite and > 0. Each failure is a Left naming the
 * field.
 *
 * @category SDEs
 */
export const linearSde = (params: LinearSdeParams): E.Either<ScoreflowError, LinearSde> => {
  const context = "linear SDE";
  const { name, f, g, tMin, tMax } = params;
  return pipe(
    typeof name === "string" && name.length > 0
      ? E.right(undefined)
      : E.left(scoreflowError(context, "name", name, "must be a non-empty string")),
    E.flatMap(() => checkTimeDomain(context, tMin, tMax)),
    E.flatMap(() => probe(context, f, g, tMax)),
    E.flatMap(() => momentTable(context, f, g, tMax)),
    E.tap((table) => checkScale(context, table)),
    E.tap((table) => checkIncreasing(context, table, noiseVarianceAt(f, g, table, tMin), tMin)),
    E.flatMap((table) => {
      const last = table.times.length - 1;
      const std = (t: number): number =>
        Math.exp(logScaleAt(f, table, t)) * Math.sqrt(noiseVarianceAt(f, g, table, t));
      const priorStd =
        params.priorStd ?? Math.exp(table.logScale[last]) * Math.sqrt(table.noiseVariance[last]);
      return E.map(
        (): LinearSde => ({
          name,
          tMin,
          tMax,
          f,
          g,
          scale: (t) => Math.exp(logScaleAt(f, table, t)),
          std,
          timeOfNoiseLevel: (sigma) => {
            if (Number.isNaN(sigma)) return Number.NaN;
            if (sigma <= 0) return 0;
            const target = sigma * sigma;
            return target >= table.noiseVariance[last] ? tMax : solveNoiseVariance(f, g, table, target);
          },
          priorStd,
        }),
      )(check(context, "priorStd", priorStd, isPositive));
    }),
  );
};
