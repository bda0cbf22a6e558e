/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
 * Models", Alg. 2; k-diffusion `sample_dpmpp_2m`): the second-order multistep exponential integrator of the
 * probability-flow ODE in its data-prediction form, in the half log-SNR λ = log(s/σ). Needs only s(t) and σ(t),
 * so it runs on any linear SDE.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { allFinite, type VectorSpace } from "../core/tensor.js";
import { logSnr } from "../sde/marginals.js";
import type { LinearSde } from "../sde/types.js";
import { gridUniformIn } from "../solvers/grid.js";
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
import { type DiffusionModel, predictAs } from "./model.js";
import { checkSamplerGrid } from "./probability-flow.js";

/**
 * The time grid uniform in log-SNR λ(t) = log(s(t)²/σ(t)²) from t₀ to t₁ (Lu et al. 2022, "DPM-Solver",
 * NeurIPS, §3.3: "time steps uniform in λ" — the same grid as uniform in half log-SNR):
 * t_k = λ⁻¹(λ(t₀) + (λ(t₁) − λ(t₀))·k/n), with λ⁻¹(ℓ) = `sde.timeOfNoiseLevel(e^{−ℓ/2})`. The recommended grid
 * of {@link sampleDpmpp2m}, e.g. `gridLogSnr(sde, sde.tMax, sde.tMin, n)`.
 *
 * @param t0 - Start time in (0, tMax].
 * @param t1 - End time in (0, tMax], ≠ t₀.
 * @param n - Number of steps, an integer ≥ 1.
 * @category Samplers
 */
export const gridLogSnr = (
  sde: LinearSde,
  t0: number,
  t1: number,
  n: number,
): E.Either<ScoreflowError, Float64Array> =>
  gridUniformIn(
    (t) => logSnr(sde, t),
    (lambda) => sde.timeOfNoiseLevel(Math.exp(-lambda / 2)),
    t0,
    t1,
    n,
  );

/**
 * Options of DPM-Solver++(2M).
 *
 * @category Samplers
 */
export interface Dpmpp2mOptions extends SolveOptions {
  /**
   * The times t_0 > t_1 > … > t_M in [tMin, tMax] (M ≥ 1 steps), e.g. `gridLogSnr(sde, sde.tMax, sde.tMin, M)`;
   * the last may be exactly 0, where σ = 0 and the last step returns the denoised x₀.
   */
  readonly grid: ArrayLike<number>;
  /**
   * Take the last step at first order (diffusers' `lower_order_final`, which stabilizes few-step sampling).
   * Default: `true` when the grid has fewer than 15 steps, as in diffusers' `DPMSolverMultistepScheduler`.
   * A last time of 0 always gets a first-order step.
   */
  readonly lowerOrderFinal?: boolean;
}

/** diffusers applies `lower_order_final` below this many steps. */
const LOWER_ORDER_FINAL_BELOW = 15;

/**
 * Checks that every step of a decreasing grid increases the half log-SNR λ = log(s/σ) in float64 (h_i > 0), so
 * that r_i = h_{i−1}/h_i is defined: distinct times can share a noise level when they are a few ulps apart. A
 * last time with σ = 0 (λ = ∞) passes without taking log 0.
 */
const checkLogSnrSteps = (
  context: string,
  sde: LinearSde,
  ts: Float64Array,
): E.Either<ScoreflowError, Float64Array> => {
  for (let i = 1; i < ts.length; i++) {
    if (sde.std(ts[i]) === 0) continue; // the last step to the data, λ = ∞
    const [before, after] = [logSnr(sde, ts[i - 1]), logSnr(sde, ts[i])];
    if (!(after > before)) {
      return E.left(
        scoreflowError(
          context,
          `grid[${i}]`,
          ts[i],
          `must have a larger log-SNR than grid[${i - 1}] (distinct noise levels σ(t)/s(t))`,
          `λ(grid[${i - 1}])=${before}, λ(grid[${i}])=${after}`,
        ),
      );
    }
  }
  return E.right(ts);
};

/**
 * DPM-Solver++(2M) as an iterator (Lu et al. 2022, "DPM-Solver++", Alg. 2). With s_i = s(t_i), σ_i = σ(t_i),
 * λ_i = log(s_i/σ_i), h_i = λ_i − λ_{i−1} > 0, x₀-predictions x0_i = `predictAs(space, sde, model, "x0")`(x_i,
 * t_i), and x_0 = σ_p·noise at t_0 (σ_p = `sde.priorStd`), step i = 1 … M takes
 *   x_i = (σ_i/σ_{i−1})·x_{i−1} − s_i·(e^{−h_i} − 1)·D_i,
 * with D_1 = x0_0 (first order: DDIM) and, after, D_i = (1 + 1/(2r_i))·x0_{i−1} − (1/(2r_i))·x0_{i−2},
 * r_i = h_{i−1}/h_i (second-order multistep). The last step is first order (D_M = x0_{M−1}) with
 * `lowerOrderFinal`, and when t_M = 0 it is x_M = s_M·x0_{M−1}, the denoised estimate (σ_M = 0, λ_M = ∞:
 * no log 0 is taken). e^{−h} − 1 is evaluated as expm1(−h). One model evaluation per step (NFE = M); the
 * global error is O(h²) for h = max h_i. Yields {step, t, y, nfe} after every step.
 *
 * Returns `Left` on a grid that is not decreasing within [tMin, tMax] (a last time of 0 allowed) or whose
 * log-SNR does not strictly increase at every step, non-finite noise, or a `nonFinite` {@link SolveFailure}.
 *
 * @param noise - A standard normal draw shaped like the output.
 * @category Samplers
 */
export function* dpmpp2mSteps<V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  noise: V,
  options: Dpmpp2mOptions,
): SolverSteps<V> {
  const context = "sampleDpmpp2m";
  const halfLogSnr = (t: number): number => logSnr(sde, t) / 2;
  const input = E.flatMap(
    E.flatMap(checkSamplerGrid(context, sde, options.grid, -1, true), (ts) =>
      checkLogSnrSteps(context, sde, ts),
    ),
    (ts) => E.map(() => ts)(checkFiniteState(space, context, "noise", noise)),
  );
  if (E.isLeft(input)) return input;
  const ts = input.right;
  const steps = ts.length - 1;
  const lowerOrderFinal = options.lowerOrderFinal ?? steps < LOWER_ORDER_FINAL_BELOW;
  const predictX0 = predictAs(space, sde, model, "x0");
  let x = space.combine([[sde.priorStd, noise]]);
  let previousX0: V | undefined;
  let previousH = 0;
  let last: SolverStep<V> = { step: 0, t: ts[0], y: x, nfe: 0 };
  for (let i = 1; i <= steps; i++) {
    const x0 = predictX0(x, ts[i - 1]);
    const sigma = sde.std(ts[i]);
    if (sigma === 0) {
      x = space.combine([[sde.scale(ts[i]), x0]]);
    } else {
      const h = halfLogSnr(ts[i]) - halfLogSnr(ts[i - 1]);
      let d = x0;
      if (previousX0 !== undefined && !(i === steps && lowerOrderFinal)) {
        const c = h / (2 * previousH); // 1/(2r_i), r_i = h_{i−1}/h_i
        d = space.combine([
          [1 + c, x0],
          [-c, previousX0],
        ]);
      }
      x = space.combine([
        [sigma / sde.std(ts[i - 1]), x],
        [-sde.scale(ts[i]) * Math.expm1(-h), d],
      ]);
      previousH = h;
    }
    previousX0 = x0;
    if (!allFinite(space, x)) return E.left(solveFailure(context, "nonFinite", i, ts[i]));
    last = { step: i, t: ts[i], y: x, nfe: i };
    yield last;
  }
  return E.right(last);
}

/**
 * Samples with DPM-Solver++(2M) (see {@link dpmpp2mSteps}): `y` holds the samples, `nfe` the model
 * evaluations (one per step). Built on {@link dpmpp2mSteps}: same checks, same failures.
 *
 * @param noise - A standard normal draw shaped like the output; the solver starts at `sde.priorStd·noise`.
 * @param options - The time grid (`gridLogSnr` recommended) and `lowerOrderFinal`.
 * @category Samplers
 */
export const sampleDpmpp2m = <V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  noise: V,
  options: Dpmpp2mOptions,
): E.Either<SolveError, Solution<V>> =>
  collectSolution(
    dpmpp2mSteps(space, sde, model, noise, options),
    options.grid[0],
    space.combine([[sde.priorStd, noise]]),
    options,
  );
