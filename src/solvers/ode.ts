/**
 * Fixed-step ODE integration with any explicit Runge–Kutta method on a given time grid, as an iterator
 * ({@link odeSteps}) and as a single call built on it ({@link solveOde}).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { allFinite, type VectorSpace } from "../core/tensor.js";
import { timeGrid } from "./grid.js";
import { isFsal, type RungeKuttaMethod, rungeKuttaStep } from "./rk.js";
import {
  checkFiniteState,
  collectSolution,
  type Solution,
  type SolveError,
  type SolveOptions,
  type SolverStep,
  type SolverSteps,
  solveFailure,
} from "./solution.js";
import type { OdeTerm } from "./term.js";

/**
 * Integrates dy/dt = F(y, t) over the grid t₀, t₁, …, t_n with one Runge–Kutta step per interval,
 * h_k = t_{k+1} − t_k (negative when the grid decreases), yielding the state after every step. FSAL
 * tableaux reuse their last stage as the next first stage. Returns `Left` on a bad grid (fewer than 2 times,
 * non-finite, not strictly monotone) or non-finite y₀, and stops with a `nonFinite` {@link SolveFailure} naming
 * the step and time at which the state left the finite numbers (Hairer I, §II.1, eq. 1.8, on a given grid).
 *
 * @category Solvers
 */
export function* odeSteps<V>(
  space: VectorSpace<V>,
  method: RungeKuttaMethod,
  term: OdeTerm<V>,
  y0: V,
  grid: ArrayLike<number>,
): SolverSteps<V> {
  const context = `solveOde (${method.name})`;
  const input = E.flatMap(timeGrid(grid, context), (ts) =>
    E.map(() => ts)(checkFiniteState(space, context, "y0", y0)),
  );
  if (E.isLeft(input)) return input;
  const ts = input.right;
  const fsal = isFsal(method.tableau);
  let y = y0;
  let nfe = 0;
  let firstStage: V | undefined;
  let last: SolverStep<V> = { step: 0, t: ts[0], y, nfe };
  for (let k = 1; k < ts.length; k++) {
    const step = rungeKuttaStep(
      space,
      method.tableau,
      term.vectorField,
      y,
      ts[k - 1],
      ts[k] - ts[k - 1],
      firstStage,
    );
    nfe += step.nfe;
    y = step.y;
    firstStage = fsal ? step.stages[step.stages.length - 1] : undefined;
    if (!allFinite(space, y)) return E.left(solveFailure(context, "nonFinite", k, ts[k]));
    last = { step: k, t: ts[k], y, nfe };
    yield last;
  }
  return E.right(last);
}

/**
 * Solves dy/dt = F(y, t) from y(t₀) = y₀ along the grid with a fixed-step Runge–Kutta method; the final state
 * is y(t_n) up to O(hᵖ) for a method of order p. Built on {@link odeSteps}: same checks, same failures.
 *
 * @param space - The vector space of the state (e.g. `float64Space`, `tensorSpace()`).
 * @param method - Any explicit Runge–Kutta method, e.g. `odeEuler`, `odeHeun`, `odeRk4`, `odeDopri5`.
 * @param grid - The times, strictly monotone in either direction (see the `grid*` constructors).
 * @category Solvers
 */
export const solveOde = <V>(
  space: VectorSpace<V>,
  method: RungeKuttaMethod,
  term: OdeTerm<V>,
  y0: V,
  grid: ArrayLike<number>,
  options: SolveOptions = {},
): E.Either<SolveError, Solution<V>> =>
  collectSolution(odeSteps(space, method, term, y0, grid), grid[0], y0, options);
