/**
 * Fixed-step SDE integration on a time grid, driven by a {@link BrownianPath}, as an iterator ({@link sdeSteps})
 * and a single call built on it ({@link solveSde}). Time may run backwards: then dt < 0 and the increment is
 * the path's increment over the step, of variance |dt|.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { allFinite, type VectorSpace } from "../core/tensor.js";
import type { BrownianPath } from "./brownian.js";
import { timeGrid } from "./grid.js";
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
import type { SdeTerm } from "./term.js";

/**
 * One step of an SDE solver: the new state and the drift evaluations it used.
 *
 * @category Solvers
 */
export interface SdeSolverStep<V> {
  /** The state at t + dt. */
  readonly y: V;
  /** Drift evaluations made. */
  readonly nfe: number;
}

/**
 * A one-step method for dy = f(y, t) dt + g(t) dW: its convergence orders for additive noise and its step.
 *
 * @category Solvers
 */
export interface SdeSolver {
  /** A short human-readable name, e.g. `"Euler–Maruyama"`. */
  readonly name: string;
  /** Strong order γ for additive noise: E|y_N − y(T)| = O(h^γ) on the same Brownian path. */
  readonly strongOrder: number;
  /** Weak order β for additive noise: |E φ(y_N) − E φ(y(T))| = O(h^β) for smooth φ. */
  readonly weakOrder: number;
  /**
   * Advances y from t to t + dt (dt may be negative) given the Brownian increment dW = W(t + dt) − W(t).
   */
  readonly step: <V>(
    space: VectorSpace<V>,
    term: SdeTerm<V>,
    y: V,
    t: number,
    dt: number,
    dW: V,
  ) => SdeSolverStep<V>;
}

/** Checks that every grid time lies in the Brownian path's domain and that its increments are shaped like y₀. */
const checkPath = <V>(
  space: VectorSpace<V>,
  context: string,
  ts: Float64Array,
  path: BrownianPath<V>,
  y0: V,
): E.Either<ScoreflowError, Float64Array> => {
  const lo = Math.min(ts[0], ts[ts.length - 1]);
  const hi = Math.max(ts[0], ts[ts.length - 1]);
  if (!(lo >= path.tLo && hi <= path.tHi)) {
    return E.left(
      scoreflowError(
        context,
        "grid",
        ts,
        `must lie within the Brownian path's domain [${path.tLo}, ${path.tHi}]`,
        `grid from ${ts[0]} to ${ts[ts.length - 1]}`,
      ),
    );
  }
  const pathSize = space.components(path.increment(ts[0], ts[0])).length;
  const stateSize = space.components(y0).length;
  return pathSize === stateSize
    ? E.right(ts)
    : E.left(
        scoreflowError(
          context,
          "path",
          pathSize,
          "increments must have as many components as y0",
          `path components=${pathSize}, y0 components=${stateSize}`,
        ),
      );
};

/**
 * Integrates dy = f(y, t) dt + g(t) dW over the grid t₀, t₁, …, t_n, one solver step per interval with
 * dt = t_{k+1} − t_k and dW = path.increment(t_k, t_{k+1}), yielding the state after every step. Returns `Left`
 * on a bad grid, a non-finite y₀, a grid outside the path's domain or a path shaped unlike y₀, and stops with a `nonFinite`
 * {@link SolveFailure} naming the step and time at which the state left the finite numbers.
 *
 * @category Solvers
 */
export function* sdeSteps<V>(
  space: VectorSpace<V>,
  solver: SdeSolver,
  term: SdeTerm<V>,
  y0: V,
  grid: ArrayLike<number>,
  path: BrownianPath<V>,
): SolverSteps<V> {
  const context = `solveSde (${solver.name})`;
  const input = E.flatMap(
    E.flatMap(timeGrid(grid, context), (ts) => E.map(() => ts)(checkFiniteState(space, context, "y0", y0))),
    (ts) => checkPath(space, context, ts, path, y0),
  );
  if (E.isLeft(input)) return input;
  const ts = input.right;
  let y = y0;
  let nfe = 0;
  let last: SolverStep<V> = { step: 0, t: ts[0], y, nfe };
  for (let k = 1; k < ts.length; k++) {
    const step = solver.step(space, term, y, ts[k - 1], ts[k] - ts[k - 1], path.increment(ts[k - 1], ts[k]));
    nfe += step.nfe;
    y = step.y;
    if (!allFinite(space, y)) return E.left(solveFailure(context, "nonFinite", k, ts[k]));
    last = { step: k, t: ts[k], y, nfe };
    yield last;
  }
  return E.right(last);
}

/**
 * Solves dy = f(y, t) dt + g(t) dW from y(t₀) = y₀ along the grid with a fixed-step SDE solver, on the given
 * Brownian path. Built on {@link sdeSteps}: same checks, same failures.
 *
 * @param solver - e.g. `sdeEulerMaruyama`, `sdeHeun`.
 * @param path - A Brownian path covering the grid, e.g. from `virtualBrownianTree`.
 * @category Solvers
 */
export const solveSde = <V>(
  space: VectorSpace<V>,
  solver: SdeSolver,
  term: SdeTerm<V>,
  y0: V,
  grid: ArrayLike<number>,
  path: BrownianPath<V>,
  options: SolveOptions = {},
): E.Either<SolveError, Solution<V>> =>
  collectSolution(sdeSteps(space, solver, term, y0, grid, path), grid[0], y0, options);
