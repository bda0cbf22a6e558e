/**
 * Probability-flow ODE sampling (Song et al. 2021, "Score-Based Generative Modeling through Stochastic
 * Differential Equations", ICLR, §4.3 and eq. 13): the deterministic flow dx/dt = f(t)·x − ½g(t)²·∇log p_t(x)
 * of a linear SDE, with the score a model implies, integrated by a generic solver from the prior at tMax down to
 * tMin (sampling) or from the data up to tMax (encoding). The flow is a bijection, so encoding then decoding
 * returns the data up to the solver's error.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import type { VectorSpace } from "../core/tensor.js";
import { probabilityFlow } from "../ode/probability-flow.js";
import { type LinearSde, toSde } from "../sde/types.js";
import { type AdaptiveOptions, odeAdaptiveSteps } from "../solvers/adaptive.js";
import { timeGrid } from "../solvers/grid.js";
import { odeSteps } from "../solvers/ode.js";
import type { EmbeddedRungeKuttaMethod, RungeKuttaMethod } from "../solvers/rk.js";
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

/**
 * Validates a sampler's time grid against its SDE: at least two finite times, strictly monotone in `direction`
 * (−1: decreasing, reverse-time sampling; +1: increasing, encoding), every time in [tMin, tMax]; with
 * `allowZeroEnd`, the last time may be exactly 0 (a final step to the data, where σ = 0, taken without
 * evaluating the model there). Returns a float64 copy.
 *
 * @param context - The sampler named in the error.
 * @param sde - The SDE whose time domain [tMin, tMax] bounds the grid.
 * @param grid - The times, e.g. `gridUniform(sde.tMax, sde.tMin, n)`.
 * @param direction - −1 for a decreasing grid, +1 for an increasing one.
 * @param allowZeroEnd - Accept a last time of exactly 0 (default `false`).
 * @category Samplers
 */
export const checkSamplerGrid = (
  context: string,
  sde: LinearSde,
  grid: ArrayLike<number>,
  direction: -1 | 1,
  allowZeroEnd = false,
): E.Either<ScoreflowError, Float64Array> =>
  E.flatMap(timeGrid(grid, context), (ts) => {
    const n = ts.length - 1;
    if (Math.sign(ts[1] - ts[0]) !== direction) {
      return E.left(
        scoreflowError(
          context,
          "grid",
          ts,
          `must ${direction < 0 ? "decrease (from tMax towards tMin)" : "increase (from tMin towards tMax)"}`,
          `grid[0]=${ts[0]}, grid[1]=${ts[1]}`,
        ),
      );
    }
    const zeroEnd = allowZeroEnd && ts[n] === 0;
    const lo = direction < 0 ? ts[zeroEnd ? n - 1 : n] : ts[0];
    const hi = direction < 0 ? ts[0] : ts[n];
    if (!(lo >= sde.tMin && hi <= sde.tMax)) {
      return E.left(
        scoreflowError(
          context,
          "grid",
          ts,
          `must lie in the SDE's time domain [tMin, tMax] = [${sde.tMin}, ${sde.tMax}]${allowZeroEnd ? " (its last time may be 0)" : ""}`,
          `grid from ${ts[0]} to ${ts[n]}`,
        ),
      );
    }
    return E.right(ts);
  });

/**
 * Fixed-step integration of the probability-flow ODE: one step of an explicit Runge–Kutta method per interval
 * of a given grid.
 *
 * @category Samplers
 */
export interface ProbabilityFlowFixed extends SolveOptions {
  /** Any explicit Runge–Kutta method: `odeEuler` (order 1), `odeHeun` (2), `odeRk4` (4). */
  readonly method: RungeKuttaMethod;
  /**
   * The times, in [tMin, tMax]: decreasing for sampling (e.g. `gridUniform(sde.tMax, sde.tMin, n)`),
   * increasing for encoding.
   */
  readonly grid: ArrayLike<number>;
}

/**
 * Adaptive integration of the probability-flow ODE over the whole time domain (tMax → tMin for sampling,
 * tMin → tMax for encoding) with an embedded pair and error control (RK45: `odeDopri5`, as score_sde's
 * `get_ode_sampler` with scipy's RK45). The step sizes depend on the whole batch through the error norm, so a
 * sample's result depends on its batch up to the tolerances.
 *
 * @category Samplers
 */
export interface ProbabilityFlowAdaptive extends AdaptiveOptions {
  /** An embedded Runge–Kutta pair, e.g. `odeDopri5`. */
  readonly method: EmbeddedRungeKuttaMethod;
}

/**
 * How the probability-flow ODE is integrated: on a fixed grid, or adaptively (told apart by `grid`).
 *
 * @category Samplers
 */
export type ProbabilityFlowIntegration = ProbabilityFlowFixed | ProbabilityFlowAdaptive;

/**
 * Options of {@link sampleProbabilityFlow}: the integration and whether to denoise the result.
 *
 * @category Samplers
 */
export type ProbabilityFlowOptions = ProbabilityFlowIntegration & {
  /**
   * After reaching the last time t, replace x_t by Tweedie's E[x₀ | x_t] = (x_t + σ(t)²·∇log p_t(x_t))/s(t)
   * (Efron 2011; score_sde's `denoise` option), one more model evaluation, reported as a step to t = 0.
   * Default `false`.
   */
  readonly denoiseFinal?: boolean;
};

/** Checks a fixed grid (in `direction`) or nothing (adaptive), then the finiteness of the start state. */
const checkFlowInput = <V>(
  space: VectorSpace<V>,
  context: string,
  sde: LinearSde,
  integration: ProbabilityFlowIntegration,
  direction: -1 | 1,
  field: string,
  x: V,
): E.Either<ScoreflowError, V> =>
  E.flatMap(
    "grid" in integration ? checkSamplerGrid(context, sde, integration.grid, direction) : E.right(undefined),
    () => checkFiniteState(space, context, field, x),
  );

/** Integrates the probability-flow ODE of `sde` with the model's score from y₀ at t₀ towards t₁. */
function* flowSteps<V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  y0: V,
  t0: number,
  t1: number,
  integration: ProbabilityFlowIntegration,
): SolverSteps<V> {
  const ode = probabilityFlow(space, toSde(space)(sde), scoreOf(space, sde, model));
  return "grid" in integration
    ? yield* odeSteps(space, integration.method, ode, y0, integration.grid)
    : yield* odeAdaptiveSteps(space, integration.method, ode, y0, t0, t1, integration);
}

/** The start time of an integration: the grid's first time, or `adaptiveStart`. */
const startTime = (integration: ProbabilityFlowIntegration, adaptiveStart: number): number =>
  "grid" in integration ? integration.grid[0] : adaptiveStart;

/**
 * Probability-flow ODE sampling as an iterator (Song et al. 2021, §4.3, eq. 13): from x = σ_p·noise at the
 * first time (σ_p = `sde.priorStd`, the prior N(0, σ_p²I) standing for p_T), integrates
 * dx/dt = f(t)·x − ½g(t)²·∇log p_t(x), with ∇log p_t = `scoreOf(space, sde, model)`, down the grid (fixed step)
 * or from tMax to tMin (adaptive), yielding {step, t, y, nfe} after every (accepted) step; nfe counts model
 * evaluations (one per vector-field evaluation). With `denoiseFinal`, a last record at t = 0 holds Tweedie's
 * E[x₀ | x_t] = (x_t + σ(t)²·∇log p_t(x_t))/s(t) (Efron 2011; score_sde `get_ode_sampler`, `denoise`).
 * The output is a sample of p_{tMin} up to the solver's error, O(hᵖ) on a fixed grid for a method of order p
 * (with `denoiseFinal`, an estimate of p₀ whose components are shrunk by their posterior variance at tMin).
 *
 * Returns `Left` on a grid that is not decreasing within [tMin, tMax], non-finite noise, bad adaptive options,
 * or a {@link SolveFailure} during integration.
 *
 * @param noise - A standard normal draw shaped like the output, e.g. `space.normalLike(key, zeros)`.
 * @category Samplers
 */
export function* probabilityFlowSteps<V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  noise: V,
  options: ProbabilityFlowOptions,
): SolverSteps<V> {
  const context = "sampleProbabilityFlow";
  const input = checkFlowInput(space, context, sde, options, -1, "noise", noise);
  if (E.isLeft(input)) return input;
  const flow = flowSteps(
    space,
    sde,
    model,
    space.combine([[sde.priorStd, noise]]),
    sde.tMax,
    sde.tMin,
    options,
  );
  return yield* options.denoiseFinal === true ? denoiseFinalStep(space, sde, model, flow, context) : flow;
}

/**
 * Samples by integrating the probability-flow ODE from the prior (see {@link probabilityFlowSteps}): `y` holds
 * the samples, `nfe` the model evaluations. Built on {@link probabilityFlowSteps}: same checks, same failures.
 *
 * @param noise - A standard normal draw shaped like the output; the ODE starts at `sde.priorStd·noise`.
 * @param options - `{ method, grid }` (e.g. `odeHeun` on `gridUniform(sde.tMax, sde.tMin, n)`) or
 *   `{ method: odeDopri5, rtol, atol }`, and `denoiseFinal`.
 * @category Samplers
 */
export const sampleProbabilityFlow = <V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  noise: V,
  options: ProbabilityFlowOptions,
): E.Either<SolveError, Solution<V>> =>
  collectSolution(
    probabilityFlowSteps(space, sde, model, noise, options),
    startTime(options, sde.tMax),
    space.combine([[sde.priorStd, noise]]),
    options,
  );

/**
 * Encoding along the probability flow, as an iterator: the same ODE as {@link probabilityFlowSteps} integrated
 * forwards, from data x at the first time (≥ tMin; adaptive: from tMin) to the last (≤ tMax; adaptive: to tMax),
 * yielding after every (accepted) step. The final state is the latent x_T (score_sde's likelihood latent z);
 * `x_T/sde.priorStd` is the noise that {@link sampleProbabilityFlow} maps back to x (the flow is a bijection,
 * Song et al. 2021, §4.3 "exact likelihood computation" and "manipulating latent representations").
 *
 * Returns `Left` on a grid that is not increasing within [tMin, tMax], non-finite x, bad adaptive options, or a
 * {@link SolveFailure} during integration.
 *
 * @param x - Data at the first time, e.g. a sample of p_{tMin}.
 * @category Samplers
 */
export function* probabilityFlowEncodeSteps<V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  x: V,
  options: ProbabilityFlowIntegration,
): SolverSteps<V> {
  const input = checkFlowInput(space, "encodeProbabilityFlow", sde, options, 1, "x", x);
  if (E.isLeft(input)) return input;
  return yield* flowSteps(space, sde, model, x, sde.tMin, sde.tMax, options);
}

/**
 * Encodes data into the latent x_T of the probability flow (see {@link probabilityFlowEncodeSteps}): `y` is
 * x_T, and `x_T/sde.priorStd` decodes back to x through {@link sampleProbabilityFlow}.
 *
 * @param x - Data at the first time of the integration (tMin when adaptive).
 * @param options - `{ method, grid }` with an increasing grid, or `{ method: odeDopri5, rtol, atol }`.
 * @category Samplers
 */
export const encodeProbabilityFlow = <V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  x: V,
  options: ProbabilityFlowIntegration,
): E.Either<SolveError, Solution<V>> =>
  collectSolution(
    probabilityFlowEncodeSteps(space, sde, model, x, options),
    startTime(options, sde.tMin),
    x,
    options,
  );
