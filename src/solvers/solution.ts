/**
 * Results as values (the diffrax `RESULTS` idea): every solve returns `Either<SolveError, Solution>`, where a
 * {@link SolveFailure} names the step and time at which integration broke down. The iterator forms yield one
 * {@link SolverStep} per step and return the same `Either`; {@link runSteps} drains them into a {@link Solution}.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import type { VectorSpace } from "../core/tensor.js";

/**
 * Why an integration stopped before its end time.
 *
 * - `nonFinite`: the state became NaN or ±∞ (the vector field blew up, or the step was unstable).
 * - `maxSteps`: an adaptive solve used up its budget of attempted steps.
 * - `stepSizeUnderflow`: an adaptive step shrank below the float64 resolution of t (|h| ≤ 4ε·|t|).
 *
 * @category Solvers
 */
export type SolveFailureReason = "nonFinite" | "maxSteps" | "stepSizeUnderflow";

/**
 * A failure during integration: where (step index, time), why, and a readable message.
 *
 * @category Solvers
 */
export interface SolveFailure {
  /** Discriminant, for narrowing a {@link SolveError}. */
  readonly _tag: "SolveFailure";
  /** The solve and solver, e.g. `"solveOde (Heun)"`. */
  readonly context: string;
  /** Why integration stopped. */
  readonly reason: SolveFailureReason;
  /** The 1-based index of the step that failed (for `maxSteps`, the number of attempts made). */
  readonly step: number;
  /** The time the failing step would have reached (`nonFinite`) or the time reached so far (otherwise). */
  readonly t: number;
  /** A one-sentence human-readable message naming the reason, the step and t. */
  readonly message: string;
}

/**
 * What a solve can return on the left: bad input (a {@link ScoreflowError}, before any step is taken) or a
 * failure during integration (a {@link SolveFailure}). Both carry `_tag` and `message`.
 *
 * @category Solvers
 */
export type SolveError = ScoreflowError | SolveFailure;

const describe: Readonly<Record<SolveFailureReason, string>> = {
  nonFinite: "the state became non-finite",
  maxSteps: "ran out of steps",
  stepSizeUnderflow: "the step size underflowed",
};

/**
 * Builds a {@link SolveFailure}; `detail` adds a clause to the message (e.g. `"maxSteps=100"`).
 *
 * @category Solvers
 */
export const solveFailure = (
  context: string,
  reason: SolveFailureReason,
  step: number,
  t: number,
  detail?: string,
): SolveFailure => ({
  _tag: "SolveFailure",
  context,
  reason,
  step,
  t,
  message: `${context}: ${describe[reason]} at step ${step}, t=${t}${detail === undefined ? "" : ` (${detail})`}`,
});

/**
 * The state after one step of an iterator-form solve.
 *
 * @category Solvers
 */
export interface SolverStep<V> {
  /** The 1-based index of the step just taken (for adaptive solves, of the accepted step). */
  readonly step: number;
  /** The time reached. */
  readonly t: number;
  /** The state at `t`. */
  readonly y: V;
  /** Vector-field (or drift) evaluations so far, this step included. */
  readonly nfe: number;
}

/**
 * An iterator-form solve: yields a step record after every (accepted) step and returns the outcome, `Right`
 * holding the last step, or `Left` with the error that stopped it (in which case no non-finite state was yielded).
 * A `for … of` loop drops the return value; read it with {@link runSteps} or by calling `next()` until `done`.
 *
 * @category Solvers
 */
export type SolverSteps<V, S extends SolverStep<V> = SolverStep<V>> = Generator<
  S,
  E.Either<SolveError, S>,
  void
>;

/**
 * Options shared by the `solve*` functions.
 *
 * @category Solvers
 */
export interface SolveOptions {
  /** Keep the state at every time of `ts` in `ys` (default `false`: only the final state). */
  readonly saveTrajectory?: boolean;
}

/**
 * The outcome of a successful solve.
 *
 * @category Solvers
 */
export interface Solution<V> {
  /** The state at the end time. */
  readonly y: V;
  /** The times reached: the start time, then the end of every (accepted) step; the last is the end time. */
  readonly ts: Float64Array;
  /** With `saveTrajectory`, the states at `ts` (`ys[0]` is the initial state); otherwise absent. */
  readonly ys?: readonly V[];
  /** Vector-field (or drift) evaluations used. */
  readonly nfe: number;
  /** Steps taken (accepted steps for adaptive solves). */
  readonly steps: number;
}

/**
 * Drains an iterator-form solve into a {@link Solution} (and the last step record, which may carry more, e.g.
 * rejected-step counts). The `solve*` functions are this applied to their iterator forms.
 *
 * @param steps - The iterator, fresh.
 * @param t0 - The start time (first entry of `ts`).
 * @param y0 - The initial state (first entry of `ys`).
 * @category Solvers
 */
export const runSteps = <V, S extends SolverStep<V>>(
  steps: SolverSteps<V, S>,
  t0: number,
  y0: V,
  options: SolveOptions = {},
): E.Either<SolveError, readonly [solution: Solution<V>, last: S]> => {
  const ts: number[] = [t0];
  const ys: V[] | undefined = options.saveTrajectory === true ? [y0] : undefined;
  for (;;) {
    const next = steps.next();
    if (next.done === true) {
      return E.map((last: S) => {
        const solution: Solution<V> = {
          y: last.y,
          ts: Float64Array.from(ts),
          ...(ys === undefined ? {} : { ys }),
          nfe: last.nfe,
          steps: last.step,
        };
        return [solution, last] as const;
      })(next.value);
    }
    ts.push(next.value.t);
    ys?.push(next.value.y);
  }
};

/**
 * Checks that every component of a state is finite, naming the first offending component.
 *
 * @category Solvers
 */
export const checkFiniteState = <V>(
  space: VectorSpace<V>,
  context: string,
  field: string,
  x: V,
): E.Either<ScoreflowError, V> => {
  const c = space.components(x);
  for (let i = 0; i < c.length; i++) {
    if (!Number.isFinite(c[i]))
      return E.left(scoreflowError(context, `${field}[${i}]`, c[i], "must be finite"));
  }
  return E.right(x);
};

/**
 * Drains an iterator-form solve into its {@link Solution} alone: {@link runSteps} without the last step record.
 * Every `solve…` and `sample…` function is this applied to its iterator form.
 *
 * @param steps - The iterator, fresh.
 * @param t0 - The start time (first entry of `ts`).
 * @param y0 - The initial state (first entry of `ys`).
 * @category Solvers
 */
export const collectSolution = <V, S extends SolverStep<V>>(
  steps: SolverSteps<V, S>,
  t0: number,
  y0: V,
  options: SolveOptions = {},
): E.Either<SolveError, Solution<V>> =>
  E.map(([solution]: readonly [Solution<V>, S]) => solution)(runSteps(steps, t0, y0, options));
