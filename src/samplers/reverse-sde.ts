/**
 * Sampling by the reverse-time SDE (Song et al. 2021, "Score-Based Generative Modeling through Stochastic
 * Differential Equations", ICLR, §3.3, §4.1 and eq. 6): dx = [f(x, t) − g(t)²·∇log p_t(x)] dt + g(t) dw̄ from the
 * prior at tMax down to tMin, with the score a model implies, integrated by a generic SDE solver on a fixed grid.
 * The sampler is a composition: `reverseSde` ∘ `toSde` ∘ `scoreOf`, `gridBrownianPath` and `sdeSteps`.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { RngKey } from "../core/rng.js";
import type { VectorSpace } from "../core/tensor.js";
import { reverseSde } from "../sde/reverse.js";
import { type LinearSde, toSde } from "../sde/types.js";
import { type BrownianPath, gridBrownianPath } from "../solvers/brownian.js";
import { sdeEulerMaruyama } from "../solvers/euler-maruyama.js";
import { type SdeSolver, sdeSteps } from "../solvers/sde.js";
import {
  checkFiniteState,
  collectSolution,
  type Solution,
  type SolveError,
  type SolveOptions,
  type SolverSteps,
} from "../solvers/solution.js";
import { denoiseFinalStep } from "./denoise-final.js";
import { type DiffusionModel, scoreOf } from "./model.js";
import { checkSamplerGrid } from "./probability-flow.js";
import { checkSamplerKey } from "./sampler-key.js";

/**
 * Options of the reverse-SDE sampler.
 *
 * @category Samplers
 */
export interface ReverseSdeSamplerOptions extends SolveOptions {
  /**
   * The times, strictly decreasing within [tMin, tMax], e.g. `gridUniform(sde.tMax, sde.tMin, n)` (score_sde
   * samples on the uniform grid from T to ε = tMin with N = 1000 steps).
   */
  readonly grid: ArrayLike<number>;
  /** The key of the Brownian path: the increment of grid step k is √|Δt|·`normalLike(foldIn(key, k), ·)`. */
  readonly key: RngKey;
  /** The SDE solver; default `sdeEulerMaruyama` (Song et al. 2021, §4.1); `sdeHeun` also works. */
  readonly solver?: SdeSolver;
  /**
   * Return Tweedie's E[x₀ | x_t] of the last state instead of the state itself (one more model evaluation,
   * reported as a step to t = 0), so that samples carry no residual σ(tMin) noise; score_sde's
   * `noise_removal`. Default `true`.
   */
  readonly denoiseFinal?: boolean;
}

const CONTEXT = "sampleReverseSde";

/**
 * Reverse-SDE sampling as an iterator (Song et al. 2021, eq. 6 and §4.1): from x = σ_p·noise at the grid's
 * first time (σ_p = `sde.priorStd`, the prior N(0, σ_p²I) standing for p_T), integrates
 * dx = [f(t)·x − g(t)²·∇log p_t(x)] dt + g(t) dw̄ down the grid with `solver`, where ∇log p_t = `scoreOf(space,
 * sde, model)`. An Euler–Maruyama step from t to t − h reads
 *
 *   x ← x − h·[f(t)·x − g(t)²·∇log p_t(x)] + g(t)·√h·z,  z = `normalLike(foldIn(key, k), x)` at step k,
 *
 * so row i of the batch draws from `foldIn(foldIn(key, k), i)`: a sample does not depend on its batch. Yields
 * {step, t, y, nfe} after every step (nfe counts model evaluations) and, with `denoiseFinal` (default), one more
 * record at t = 0 with Tweedie's E[x₀ | x_t]. Weak order 1 in the step for Euler–Maruyama, plus the prior
 * mismatch p_T ≠ N(0, σ_p²I).
 *
 * Works for any linear SDE (VP, sub-VP, VE, EDM, custom) and any model parameterization. Returns `Left` on a bad
 * key, a grid that is not strictly decreasing within [tMin, tMax], non-finite noise, or a `nonFinite` failure.
 *
 * @param noise - A standard normal draw shaped like the output, e.g. `space.normalLike(key, zeros)`.
 * @category Samplers
 */
export function* reverseSdeSteps<V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  noise: V,
  options: ReverseSdeSamplerOptions,
): SolverSteps<V> {
  const input = pipe(
    checkSamplerKey(CONTEXT, options.key),
    E.flatMap(() => checkFiniteState(space, CONTEXT, "noise", noise)),
    E.flatMap(() => checkSamplerGrid(CONTEXT, sde, options.grid, -1)),
    E.flatMap((grid) =>
      E.map((path: BrownianPath<V>) => ({ grid, path }))(gridBrownianPath(space, options.key, noise, grid)),
    ),
  );
  if (E.isLeft(input)) return input;
  const { grid, path } = input.right;
  const reverse = reverseSde(space, toSde(space)(sde), scoreOf(space, sde, model));
  const steps = sdeSteps(
    space,
    options.solver ?? sdeEulerMaruyama,
    reverse,
    space.combine([[sde.priorStd, noise]]),
    grid,
    path,
  );
  return yield* options.denoiseFinal === false ? steps : denoiseFinalStep(space, sde, model, steps, CONTEXT);
}

/**
 * Samples by the reverse-time SDE (see {@link reverseSdeSteps}): `y` holds the samples, `nfe` the model
 * evaluations. Built on {@link reverseSdeSteps}: same checks, same failures.
 *
 * @param noise - A standard normal draw shaped like the output; the SDE starts at `sde.priorStd·noise`.
 * @category Samplers
 */
export const sampleReverseSde = <V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  noise: V,
  options: ReverseSdeSamplerOptions,
): E.Either<SolveError, Solution<V>> =>
  collectSolution(
    reverseSdeSteps(space, sde, model, noise, options),
    options.grid[0],
    space.combine([[sde.priorStd, noise]]),
    options,
  );
