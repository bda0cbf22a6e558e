/**
 * The EDM sampler (Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models",
 * NeurIPS, Alg. 2; NVlabs/edm `generate.py`, `edm_sampler`): Heun's method in the noise level σ on scaled
 * states x̂ = x/s, with optional stochastic churn, on any linear SDE through the denoiser a model implies.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { foldIn, type RngKey } from "../core/rng.js";
import { allFinite, type VectorSpace } from "../core/tensor.js";
import { checkAll, checkOrdered, isNonNegative, type NumberRule } from "../core/validate.js";
import { noiseLevel } from "../sde/marginals.js";
import type { LinearSde } from "../sde/types.js";
import { timeGrid } from "../solvers/grid.js";
import {
  checkFiniteState,
  collectSolution,
  type Solution,
  type SolveError,
  type SolveOptions,
  type SolverStep,
  type SolverSteps,
  solveFailure,
} from "../solvers/solution.js";
import { type DiffusionModel, denoiserOf } from "./model.js";
import { checkSamplerKey } from "./sampler-key.js";

/**
 * Options of the EDM sampler (Karras et al. 2022, Alg. 2 and Table 5).
 *
 * @category Samplers
 */
export interface EdmSamplerOptions extends SolveOptions {
  /**
   * The noise levels σ_0 > σ_1 > … > σ_N ≥ 0, e.g. `gridKarras({ sigmaMin, sigmaMax, n, appendZero: true })`;
   * N ≥ 1 steps. Every σ̂_i = σ_i(1 + γ_i) must be ≤ the SDE's largest noise level σ(tMax)/s(tMax).
   */
  readonly sigmas: ArrayLike<number>;
  /** S_churn ≥ 0, the total amount of churn (default 0: the deterministic sampler). */
  readonly sChurn?: number;
  /** S_tmin ≥ 0: churn only where σ_i ≥ S_tmin (default 0). */
  readonly sTmin?: number;
  /** S_tmax ≥ S_tmin, may be +∞: churn only where σ_i ≤ S_tmax (default +∞). */
  readonly sTmax?: number;
  /** S_noise ≥ 0, the scale of the churn noise (default 1; EDM uses 1.003–1.007). */
  readonly sNoise?: number;
  /**
   * The key of the churn noise; required (and checked) when some γ_i > 0, unused otherwise. Step k draws from
   * `foldIn(key, k)`.
   */
  readonly key?: RngKey;
}

/** √2 − 1: the cap on γ_i, which at most doubles the variance of the noise (Karras et al. 2022, Alg. 2). */
const MAX_GAMMA = Math.SQRT2 - 1;

/** Relative slack on σ̂ ≤ σ(tMax)/s(tMax), for grids built from a rounded σ_max (e.g. VE's √(σmax² − σmin²)). */
const NOISE_LEVEL_SLACK = 1e-6;

/** A number ≥ 0, finite or +∞. */
const isNonNegativeOrInfinite: NumberRule = {
  test: (x) => typeof x === "number" && x >= 0,
  rule: "must be a number ≥ 0 (+∞ allowed)",
};

/**
 * The churn of each step, γ_i = min(S_churn/N, √2 − 1) if S_tmin ≤ σ_i ≤ S_tmax, else 0 (Karras et al. 2022,
 * Alg. 2, line 4), for the N steps of a noise-level grid σ_0 … σ_N.
 */
const edmChurn = (sigmas: ArrayLike<number>, sChurn: number, sTmin: number, sTmax: number): Float64Array => {
  const n = sigmas.length - 1;
  const gamma = Math.min(sChurn / n, MAX_GAMMA);
  const gammas = new Float64Array(n);
  for (let i = 0; i < n; i++) gammas[i] = sigmas[i] >= sTmin && sigmas[i] <= sTmax ? gamma : 0;
  return gammas;
};

/** The validated inputs of the sampler. */
interface EdmPlan {
  /** The noise levels σ_0 … σ_N, checked. */
  readonly sigmas: Float64Array;
  /** The churn γ_i of each of the N steps. */
  readonly gammas: Float64Array;
  /** S_noise. */
  readonly sNoise: number;
  /** The churn key, present when some γ_i > 0. */
  readonly key: RngKey | undefined;
}

/** Validates the options: the grid, the churn parameters, σ̂ within the SDE's noise levels, a key if needed. */
const plan = (
  context: string,
  sde: LinearSde,
  options: EdmSamplerOptions,
): E.Either<ScoreflowError, EdmPlan> => {
  const { sChurn = 0, sTmin = 0, sTmax = Number.POSITIVE_INFINITY, sNoise = 1, key } = options;
  const params = E.flatMap(
    checkAll(context, [
      ["sChurn", sChurn, isNonNegative],
      ["sTmin", sTmin, isNonNegative],
      ["sTmax", sTmax, isNonNegativeOrInfinite],
      ["sNoise", sNoise, isNonNegative],
    ]),
    () => checkOrdered(context, ["sTmin", sTmin], ["sTmax", sTmax], false),
  );
  return E.flatMap(
    E.flatMap(params, () => timeGrid(options.sigmas, context)),
    (sigmas) => {
      const n = sigmas.length - 1;
      if (!(sigmas[1] < sigmas[0]) || !(sigmas[n] >= 0)) {
        return E.left(
          scoreflowError(
            context,
            "sigmas",
            sigmas,
            "must decrease to a last noise level ≥ 0",
            `sigmas[0]=${sigmas[0]}, sigmas[${n}]=${sigmas[n]}`,
          ),
        );
      }
      const gammas = edmChurn(sigmas, sChurn, sTmin, sTmax);
      const largest = noiseLevel(sde, sde.tMax);
      for (let i = 0; i < n; i++) {
        const sigmaHat = sigmas[i] * (1 + gammas[i]);
        if (!(sigmaHat <= largest * (1 + NOISE_LEVEL_SLACK))) {
          return E.left(
            scoreflowError(
              context,
              "sigmas",
              sigmas,
              `must keep every σ̂_i = σ_i(1 + γ_i) ≤ the largest noise level σ(tMax)/s(tMax) = ${largest} of the ${sde.name} SDE (lower sigmas[0], or set sTmax below it)`,
              `σ̂_${i}=${sigmaHat} (σ_${i}=${sigmas[i]}, γ_${i}=${gammas[i]})`,
            ),
          );
        }
      }
      // The key is needed, and checked, only when the churn is active (some γ_i > 0).
      return gammas.some((g) => g > 0)
        ? E.map((checked: RngKey): EdmPlan => ({ sigmas, gammas, sNoise, key: checked }))(
            checkSamplerKey(context, key),
          )
        : E.right({ sigmas, gammas, sNoise, key: undefined });
    },
  );
};

/**
 * The EDM sampler as an iterator (Karras et al. 2022, Alg. 2; NVlabs/edm `edm_sampler`). With
 * D = `denoiserOf(space, sde, model)` (any SDE via the σ ↔ t maps of Table 1) and x̂_0 = σ_0·noise, step
 * i = 0 … N−1 takes
 *   γ_i = min(S_churn/N, √2 − 1) if σ_i ∈ [S_tmin, S_tmax], else 0;   σ̂ = σ_i(1 + γ_i);
 *   x̂ ← x̂_i + √(σ̂² − σ_i²)·S_noise·z,  z = `space.normalLike(foldIn(key, i), x̂_i)`, with √(σ̂² − σ_i²)
 *       evaluated as σ_i·√(γ_i(2 + γ_i)), free of cancellation;
 *   d = (x̂ − D(x̂; σ̂))/σ̂   (eq. 4 with s = 1, σ(t) = t: dx̂/dσ = (x̂ − D(x̂; σ))/σ);
 *   x̂_{i+1} = x̂ + (σ_{i+1} − σ̂)·d                                       (Euler);
 *   if σ_{i+1} > 0: d′ = (x̂_{i+1} − D(x̂_{i+1}; σ_{i+1}))/σ_{i+1},
 *                   x̂_{i+1} = x̂ + (σ_{i+1} − σ̂)·(½d + ½d′)               (Heun's correction);
 * so the last step to σ_N = 0 is Euler and returns D(x̂; σ̂). Yields {step: i + 1, t: σ_{i+1}, y: x̂_{i+1},
 * nfe} after every step: `t` is the noise level and `y` the scaled state x/s (the sample itself at σ = 0).
 * NFE = 2N − 1 on a grid ending at 0 (2N otherwise). With S_churn = 0 (the default) the sampler is
 * deterministic: Heun's method on the probability-flow ODE in σ, and the key is not used.
 *
 * The grid's σ̂_i must not exceed σ(tMax)/s(tMax): beyond it a time model would be queried past tMax. Below
 * σ(tMin)/s(tMin) a time model is queried at t < tMin (exact for the oracle; an extrapolation for a network
 * trained on [tMin, tMax]).
 *
 * @param noise - A standard normal draw shaped like the output.
 * @category Samplers
 */
export function* edmSteps<V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  noise: V,
  options: EdmSamplerOptions,
): SolverSteps<V> {
  const context = "sampleEdm";
  const input = E.flatMap(plan(context, sde, options), (p) =>
    E.map(() => p)(checkFiniteState(space, context, "noise", noise)),
  );
  if (E.isLeft(input)) return input;
  const { sigmas, gammas, sNoise, key } = input.right;
  const denoise = denoiserOf(space, sde, model);
  const slope = (x: V, sigma: number): V =>
    space.combine([
      [1 / sigma, x],
      [-1 / sigma, denoise(x, sigma)],
    ]);
  let x = space.combine([[sigmas[0], noise]]);
  let nfe = 0;
  let last: SolverStep<V> = { step: 0, t: sigmas[0], y: x, nfe };
  for (let i = 0; i < gammas.length; i++) {
    const sigma = sigmas[i];
    const next = sigmas[i + 1];
    const sigmaHat = sigma * (1 + gammas[i]);
    const xHat =
      gammas[i] > 0 && key !== undefined
        ? space.combine([
            [1, x],
            [sigma * Math.sqrt(gammas[i] * (2 + gammas[i])) * sNoise, space.normalLike(foldIn(key, i), x)],
          ])
        : x;
    const d = slope(xHat, sigmaHat);
    const dt = next - sigmaHat;
    x = space.combine([
      [1, xHat],
      [dt, d],
    ]);
    nfe += 1;
    if (next > 0) {
      x = space.combine([
        [1, xHat],
        [dt / 2, d],
        [dt / 2, slope(x, next)],
      ]);
      nfe += 1;
    }
    if (!allFinite(space, x)) return E.left(solveFailure(context, "nonFinite", i + 1, next));
    last = { step: i + 1, t: next, y: x, nfe };
    yield last;
  }
  return E.right(last);
}

/**
 * Samples with the EDM sampler (see {@link edmSteps}): `y` holds the samples (at σ_N = 0; the scaled state
 * x/s at σ_N otherwise), `nfe` the denoiser evaluations (2N − 1). Built on {@link edmSteps}: same checks, same
 * failures.
 *
 * @param noise - A standard normal draw shaped like the output; the sampler starts at σ_0·noise.
 * @param options - The noise levels (`gridKarras(..., appendZero: true)`), churn parameters and key.
 * @category Samplers
 */
export const sampleEdm = <V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  noise: V,
  options: EdmSamplerOptions,
): E.Either<SolveError, Solution<V>> =>
  collectSolution(
    edmSteps(space, sde, model, noise, options),
    options.sigmas[0],
    space.combine([[options.sigmas[0], noise]]),
    options,
  );
