/**
 * Time grids in float64, from the start time to the end time (either direction). Every point is computed as
 * t₀ + (t₁ − t₀)·k/n from its index, never by summing a step, and the endpoints are stored exactly.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { checkAll, checkOrdered, isFiniteNumber, isPositive, isPositiveInteger } from "../core/validate.js";

/**
 * Validates a time grid: at least two times, all finite, strictly monotone (increasing or decreasing, in the
 * direction of the first step). Returns a float64 copy. The solvers run this on every grid they are given.
 *
 * @param ts - The times t₀, t₁, …, t_n.
 * @param context - The operation named in the error (defaults to `"timeGrid"`).
 * @category Solvers
 */
export const timeGrid = (
  ts: ArrayLike<number>,
  context = "timeGrid",
): E.Either<ScoreflowError, Float64Array> => {
  if (ts.length < 2) {
    return E.left(
      scoreflowError(context, "grid", ts.length, "must hold at least 2 times", `grid.length=${ts.length}`),
    );
  }
  for (let k = 0; k < ts.length; k++) {
    if (!Number.isFinite(ts[k]))
      return E.left(scoreflowError(context, `grid[${k}]`, ts[k], "must be finite"));
  }
  const direction = Math.sign(ts[1] - ts[0]);
  for (let k = 1; k < ts.length; k++) {
    if (direction === 0 || Math.sign(ts[k] - ts[k - 1]) !== direction) {
      return E.left(
        scoreflowError(
          context,
          `grid[${k}]`,
          ts[k],
          "must continue the strictly monotone direction of grid[0] → grid[1]",
          `grid[${k - 1}]=${ts[k - 1]}, grid[${k}]=${ts[k]}`,
        ),
      );
    }
  }
  return E.right(Float64Array.from(ts));
};

/** Checks the endpoints and step count shared by the interval grids: finite, distinct, n an integer ≥ 1. */
const checkInterval = (context: string, t0: number, t1: number, n: number): E.Either<ScoreflowError, void> =>
  E.flatMap(
    checkAll(context, [
      ["t0", t0, isFiniteNumber],
      ["t1", t1, isFiniteNumber],
      ["n", n, isPositiveInteger],
    ]),
    () =>
      t0 === t1
        ? E.left(scoreflowError(context, "t1", t1, "must differ from t0", `t0=${t0}, t1=${t1}`))
        : E.right(undefined),
  );

/**
 * Fills a grid of n + 1 points from the fraction u(k) ∈ [0, 1] of the way from a to b, pins the endpoints and
 * validates the result (float64 may merge neighbours when n is huge relative to the interval).
 */
const fromFractions = (
  context: string,
  a: number,
  b: number,
  n: number,
  point: (k: number) => number,
): E.Either<ScoreflowError, Float64Array> => {
  const ts = new Float64Array(n + 1);
  for (let k = 1; k < n; k++) ts[k] = point(k);
  ts[0] = a;
  ts[n] = b;
  return timeGrid(ts, context);
};

/**
 * The uniform grid t_k = t₀ + (t₁ − t₀)·k/n, k = 0 … n (t₁ < t₀ integrates backwards).
 *
 * @param t0 - Start time, finite.
 * @param t1 - End time, finite, ≠ t₀.
 * @param n - Number of steps, an integer ≥ 1; the grid has n + 1 points.
 * @category Solvers
 */
export const gridUniform = (t0: number, t1: number, n: number): E.Either<ScoreflowError, Float64Array> =>
  E.flatMap(checkInterval("gridUniform", t0, t1, n), () =>
    fromFractions("gridUniform", t0, t1, n, (k) => t0 + ((t1 - t0) * k) / n),
  );

/**
 * The quadratic grid t_k = t₀ + (t₁ − t₀)·(k/n)², k = 0 … n: steps grow linearly away from t₀, so the grid is
 * densest at t₀ (Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models", ICLR, App. D.2, "quad"
 * spacing τ_i = (c·i)²). For DDIM's reverse-time sampling, dense near the data end ε, build
 * `gridQuadratic(ε, T, n)` and reverse it.
 *
 * @param t0 - Start time (the dense end), finite.
 * @param t1 - End time, finite, ≠ t₀.
 * @param n - Number of steps, an integer ≥ 1.
 * @category Solvers
 */
export const gridQuadratic = (t0: number, t1: number, n: number): E.Either<ScoreflowError, Float64Array> =>
  E.flatMap(checkInterval("gridQuadratic", t0, t1, n), () =>
    fromFractions("gridQuadratic", t0, t1, n, (k) => t0 + ((t1 - t0) * k * k) / (n * n)),
  );

/**
 * The grid uniform in a monotone reparameterization φ of time: t_k = φ⁻¹(φ(t₀) + (φ(t₁) − φ(t₀))·k/n), e.g.
 * uniform in log-SNR λ(t) = log(α(t)²/σ(t)²) (Lu et al. 2022, "DPM-Solver", NeurIPS: time steps
 * uniform in λ). The endpoints are stored as t₀ and t₁ exactly.
 *
 * @param phi - A strictly monotone map of time, finite on [t₀, t₁].
 * @param phiInverse - Its inverse; checked at both endpoints to relative accuracy √ε ≈ 1.5·10⁻⁸.
 * @param t0 - Start time, finite.
 * @param t1 - End time, finite, ≠ t₀.
 * @param n - Number of steps, an integer ≥ 1.
 * @category Solvers
 */
export const gridUniformIn = (
  phi: (t: number) => number,
  phiInverse: (p: number) => number,
  t0: number,
  t1: number,
  n: number,
): E.Either<ScoreflowError, Float64Array> => {
  const context = "gridUniformIn";
  return E.flatMap(checkInterval(context, t0, t1, n), () => {
    const p0 = phi(t0);
    const p1 = phi(t1);
    const roundTrip = (t: number, p: number): boolean =>
      Math.abs(phiInverse(p) - t) <= Math.sqrt(Number.EPSILON) * Math.max(1, Math.abs(t));
    if (!Number.isFinite(p0) || !Number.isFinite(p1) || p0 === p1) {
      return E.left(
        scoreflowError(
          context,
          "phi",
          p1,
          "must be finite and differ at t0 and t1",
          `phi(t0)=${p0}, phi(t1)=${p1}`,
        ),
      );
    }
    if (!roundTrip(t0, p0) || !roundTrip(t1, p1)) {
      return E.left(
        scoreflowError(
          context,
          "phiInverse",
          t0,
          "must invert phi at t0 and t1",
          `phiInverse(phi(t0))=${phiInverse(p0)} for t0=${t0}, phiInverse(phi(t1))=${phiInverse(p1)} for t1=${t1}`,
        ),
      );
    }
    return fromFractions(context, t0, t1, n, (k) => phiInverse(p0 + ((p1 - p0) * k) / n));
  });
};

/**
 * Options of the Karras noise-level grid.
 *
 * @category Solvers
 */
export interface KarrasGridOptions {
  /** Smallest noise level σ_min > 0 (EDM: 0.002). */
  readonly sigmaMin: number;
  /** Largest noise level σ_max > σ_min (EDM: 80). */
  readonly sigmaMax: number;
  /** Number of steps, an integer ≥ 1 (≥ 2 with `appendZero`); the grid has n + 1 points. */
  readonly n: number;
  /** The warping exponent ρ > 0 (EDM: 7; ρ = 1 is uniform in σ). Defaults to 7. */
  readonly rho?: number;
  /** End the grid at σ = 0 after σ_min (Karras et al. 2022, eq. 5, σ_N = 0). Defaults to `false`. */
  readonly appendZero?: boolean;
}

/**
 * The Karras σ-schedule, decreasing from σ_max to σ_min (Karras et al. 2022, "Elucidating the Design Space of
 * Diffusion-Based Generative Models", NeurIPS, eq. 5):
 * σ_i = (σ_max^{1/ρ} + i/(N−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, i = 0 … N−1,
 * with N = n + 1 points, or N = n points followed by σ_N = 0 when `appendZero` is set; either way n steps and
 * n + 1 points. σ_0 = σ_max and σ_{N−1} = σ_min are stored exactly.
 *
 * @category Solvers
 */
export const gridKarras = (options: KarrasGridOptions): E.Either<ScoreflowError, Float64Array> => {
  const context = "gridKarras";
  const { sigmaMin, sigmaMax, n, rho = 7, appendZero = false } = options;
  return E.flatMap(
    E.flatMap(
      checkAll(context, [
        ["sigmaMin", sigmaMin, isPositive],
        ["sigmaMax", sigmaMax, isPositive],
        ["rho", rho, isPositive],
        ["n", n, isPositiveInteger],
      ]),
      () => checkOrdered(context, ["sigmaMin", sigmaMin], ["sigmaMax", sigmaMax], true),
    ),
    () => {
      const points = appendZero ? n : n + 1;
      if (points < 2) {
        return E.left(scoreflowError(context, "n", n, "must be ≥ 2 when appendZero is set"));
      }
      const a = sigmaMax ** (1 / rho);
      const b = sigmaMin ** (1 / rho);
      const sigmas = new Float64Array(n + 1); // with appendZero, sigmas[n] stays 0
      for (let i = 1; i < points - 1; i++) sigmas[i] = (a + ((b - a) * i) / (points - 1)) ** rho;
      sigmas[0] = sigmaMax;
      sigmas[points - 1] = sigmaMin;
      return timeGrid(sigmas, context);
    },
  );
};
