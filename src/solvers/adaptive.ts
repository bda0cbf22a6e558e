/**
 * Adaptive ODE integration with an embedded Runge–Kutta pair (Dormand–Prince 5(4) by default), a PI step-size
 * controller and Hairer's starting step size, as an iterator ({@link odeAdaptiveSteps}) and a single call built
 * on it ({@link solveOdeAdaptive}). Works in either time direction.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { allFinite, type VectorSpace } from "../core/tensor.js";
import { checkAll, isFiniteNumber, isNonNegative, isPositive, isPositiveInteger } from "../core/validate.js";
import { decideStep, defaultPiController, type PiController } from "./controller.js";
import {
  addStages,
  type EmbeddedRungeKuttaMethod,
  isFsal,
  type RungeKuttaStep,
  rungeKuttaStep,
} from "./rk.js";
import {
  checkFiniteState,
  runSteps,
  type Solution,
  type SolveError,
  type SolveOptions,
  type SolverStep,
  type SolverSteps,
  solveFailure,
} from "./solution.js";
import type { OdeTerm } from "./term.js";

/**
 * Tolerances and limits of an adaptive solve.
 *
 * @category Solvers
 */
export interface AdaptiveOptions extends SolveOptions {
  /** Relative tolerance, finite and ≥ 0. */
  readonly rtol: number;
  /** Absolute tolerance, finite and > 0 (keeps the error scale positive where the state crosses 0). */
  readonly atol: number;
  /** Magnitude of the first step, > 0; by default chosen by Hairer's starting-step algorithm. */
  readonly h0?: number;
  /** Most step attempts (accepted + rejected), an integer ≥ 1 (default 10 000). */
  readonly maxSteps?: number;
  /** The step-size controller (default {@link defaultPiController}). */
  readonly controller?: PiController;
}

/**
 * The state after an accepted adaptive step.
 *
 * @category Solvers
 */
export interface AdaptiveStep<V> extends SolverStep<V> {
  /** The size of the step just accepted (signed: negative when integrating backwards). */
  readonly h: number;
  /** Rejected attempts so far. */
  readonly rejected: number;
}

/**
 * The outcome of a successful adaptive solve.
 *
 * @category Solvers
 */
export interface AdaptiveSolution<V> extends Solution<V> {
  /** Accepted steps (equal to `steps`). */
  readonly accepted: number;
  /** Rejected step attempts. */
  readonly rejected: number;
}

const DEFAULT_MAX_STEPS = 10_000;

/** The error norm never recorded as the previous error below this floor (Hairer's DOPRI5 code, `FACOLD`). */
const ERR_PREV_FLOOR = 1e-4;

/**
 * The scaled RMS norm √(1/N·Σ (e_i/sc_i)²) with sc_i = atol + rtol·max(|y0_i|, |y1_i|) (Hairer I, §II.4,
 * eq. 4.10–4.11).
 *
 * @category Solvers
 */
export const scaledRmsNorm = (
  e: ArrayLike<number>,
  y0: ArrayLike<number>,
  y1: ArrayLike<number>,
  rtol: number,
  atol: number,
): number => {
  let sum = 0;
  for (let i = 0; i < e.length; i++) {
    const r = e[i] / (atol + rtol * Math.max(Math.abs(y0[i]), Math.abs(y1[i])));
    sum += r * r;
  }
  return Math.sqrt(sum / e.length);
};

/**
 * Hairer's starting step size (Hairer I, §II.4, "Starting Step Size", p. 169), with the norm scaled by
 * sc_i = atol + rtol·|y0_i|: d₀ = ‖y₀‖, d₁ = ‖f₀‖; h₀ = 0.01·d₀/d₁ (10⁻⁶ if either is < 10⁻⁵); one Euler step
 * to y₁ = y₀ + h₀·f₀ gives d₂ = ‖F(y₁, t₀ + h₀) − f₀‖/h₀; h₁ = (0.01/max(d₁, d₂))^{1/(q+1)} (or
 * max(10⁻⁶, 10⁻³·h₀) when max(d₁, d₂) ≤ 10⁻¹⁵); the result is min(100·h₀, h₁), and h₀, h₁ are capped at
 * |t₁ − t₀|. Costs one evaluation. Returns the magnitude (> 0), to be taken towards t₁.
 *
 * @param f0 - F(y₀, t₀).
 * @param t1 - The end time (≠ t₀), which sets the direction and caps the step.
 * @param errorOrder - q, the order of the embedded solution (4 for Dormand–Prince).
 * @category Solvers
 */
export const initialStepSize = <V>(
  space: VectorSpace<V>,
  field: (x: V, t: number) => V,
  y0: V,
  f0: V,
  t0: number,
  t1: number,
  errorOrder: number,
  rtol: number,
  atol: number,
): number => {
  const direction = Math.sign(t1 - t0);
  const span = Math.abs(t1 - t0);
  const c0 = space.components(y0);
  const norm = (x: ArrayLike<number>): number => scaledRmsNorm(x, c0, c0, rtol, atol);
  const d0 = norm(c0);
  const d1 = norm(space.components(f0));
  const h0 = Math.min(span, d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1);
  const y1 = space.combine([
    [1, y0],
    [direction * h0, f0],
  ]);
  const f1 = field(y1, t0 + direction * h0);
  const d2 =
    norm(
      space.components(
        space.combine([
          [1, f1],
          [-1, f0],
        ]),
      ),
    ) / h0;
  const dMax = Math.max(d1, d2);
  const h1 = dMax <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / dMax) ** (1 / (errorOrder + 1));
  const h = Math.min(100 * h0, h1, span);
  return Number.isFinite(h) && h > 0 ? h : h0;
};

/** Validates the inputs of an adaptive solve. */
const checkAdaptive = <V>(
  space: VectorSpace<V>,
  context: string,
  y0: V,
  t0: number,
  t1: number,
  options: AdaptiveOptions,
): E.Either<ScoreflowError, void> =>
  E.flatMap(
    checkAll(context, [
      ["t0", t0, isFiniteNumber],
      ["t1", t1, isFiniteNumber],
      ["rtol", options.rtol, isNonNegative],
      ["atol", options.atol, isPositive],
      ...(options.h0 === undefined ? [] : [["h0", options.h0, isPositive] as const]),
      ["maxSteps", options.maxSteps ?? DEFAULT_MAX_STEPS, isPositiveInteger],
    ]),
    () =>
      t0 === t1
        ? E.left(scoreflowError(context, "t1", t1, "must differ from t0", `t0=${t0}, t1=${t1}`))
        : E.map(() => undefined)(checkFiniteState(space, context, "y0", y0)),
  );

/**
 * Integrates dy/dt = F(y, t) from y(t₀) = y₀ to t₁ (either direction) with an embedded Runge–Kutta pair and
 * error control (Hairer I, §II.4): each attempt of size h gives y₁ and the error estimate
 * e = h·Σ (b_i − b̂_i)·k_i; with err = √(1/N·Σ (e_i/sc_i)²), sc_i = atol + rtol·max(|y0_i|, |y1_i|), the step is
 * accepted when err ≤ 1, and the PI controller picks the next h. FSAL pairs reuse their last stage. Yields the
 * state after every accepted step; the last step is cut to land on t₁ exactly.
 *
 * Stops with a {@link SolveFailure}: `maxSteps` when the attempts run out, `stepSizeUnderflow` when |h| ≤ 4ε·|t|
 * (e.g. a solution blowing up in finite time). Non-finite trial states are rejected like large errors.
 *
 * @category Solvers
 */
export function* odeAdaptiveSteps<V>(
  space: VectorSpace<V>,
  method: EmbeddedRungeKuttaMethod,
  term: OdeTerm<V>,
  y0: V,
  t0: number,
  t1: number,
  options: AdaptiveOptions,
): SolverSteps<V, AdaptiveStep<V>> {
  const context = `solveOdeAdaptive (${method.name})`;
  const input = checkAdaptive(space, context, y0, t0, t1, options);
  if (E.isLeft(input)) return input;
  const { rtol, atol, controller = defaultPiController } = options;
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const { tableau, bHat } = method;
  const errorWeights = tableau.b.map((bi, i) => bi - bHat[i]);
  const fsal = isFsal(tableau);
  const field = term.vectorField;
  const direction = Math.sign(t1 - t0);

  const f0 = field(y0, t0);
  let firstStage: V | undefined = f0;
  let nfe = 1;
  let h: number;
  if (options.h0 === undefined) {
    h = direction * initialStepSize(space, field, y0, f0, t0, t1, method.errorOrder, rtol, atol);
    nfe += 1;
  } else {
    h = direction * Math.min(options.h0, Math.abs(t1 - t0));
  }

  let t = t0;
  let y = y0;
  let errPrev = 1;
  let rejectedLast = false;
  let accepted = 0;
  let rejected = 0;
  for (;;) {
    if (accepted + rejected >= maxSteps) {
      return E.left(solveFailure(context, "maxSteps", accepted + rejected, t, `maxSteps=${maxSteps}`));
    }
    if (!(Math.abs(h) > 4 * Number.EPSILON * Math.abs(t))) {
      return E.left(solveFailure(context, "stepSizeUnderflow", accepted + 1, t, `h=${h}`));
    }
    const lastStep = direction * (t + h - t1) >= 0;
    const hStep = lastStep ? t1 - t : h;
    const trial: RungeKuttaStep<V> = rungeKuttaStep(space, tableau, field, y, t, hStep, firstStage);
    nfe += trial.nfe;
    const errorEstimate = addStages(space, undefined, hStep, errorWeights, trial.stages);
    const err = allFinite(space, trial.y)
      ? scaledRmsNorm(
          space.components(errorEstimate),
          space.components(y),
          space.components(trial.y),
          rtol,
          atol,
        )
      : Number.POSITIVE_INFINITY;
    const decision = decideStep(controller, err, errPrev, rejectedLast);
    if (decision.accept) {
      t = lastStep ? t1 : t + hStep;
      y = trial.y;
      firstStage = fsal ? trial.stages[trial.stages.length - 1] : undefined;
      errPrev = Math.max(err, ERR_PREV_FLOOR);
      rejectedLast = false;
      accepted += 1;
      const step: AdaptiveStep<V> = { step: accepted, t, y, nfe, h: hStep, rejected };
      yield step;
      if (t === t1) return E.right(step);
    } else {
      firstStage = trial.stages[0];
      rejectedLast = true;
      rejected += 1;
    }
    h = hStep * decision.factor;
  }
}

/**
 * Solves dy/dt = F(y, t) from y(t₀) = y₀ to t₁ with error control (see {@link odeAdaptiveSteps}); `ts` holds
 * the accepted times. Built on {@link odeAdaptiveSteps}: same checks, same failures.
 *
 * @param method - An embedded pair, e.g. `odeDopri5`.
 * @category Solvers
 */
export const solveOdeAdaptive = <V>(
  space: VectorSpace<V>,
  method: EmbeddedRungeKuttaMethod,
  term: OdeTerm<V>,
  y0: V,
  t0: number,
  t1: number,
  options: AdaptiveOptions,
): E.Either<SolveError, AdaptiveSolution<V>> =>
  E.map(
    ([solution, last]: readonly [Solution<V>, AdaptiveStep<V>]): AdaptiveSolution<V> => ({
      ...solution,
      accepted: last.step,
      rejected: last.rejected,
    }),
  )(runSteps(odeAdaptiveSteps(space, method, term, y0, t0, t1, options), t0, y0, options));
