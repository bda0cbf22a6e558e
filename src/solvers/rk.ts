/**
 * The generic explicit Runge–Kutta step, driven by a Butcher tableau (Hairer, Nørsett & Wanner 1993, "Solving
 * ODEs I", §II.1, Def. 1.1). Euler, Heun, RK4 and Dormand–Prince are data fed to this one stepper.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import type { VectorSpace } from "../core/tensor.js";
import { checkAll, isFiniteNumber, isPositiveInteger } from "../core/validate.js";

/**
 * An explicit Butcher tableau with s stages (Hairer I, §II.1, eq. 1.8):
 * k_i = F(y + h·Σ_{j<i} a_ij·k_j, t + c_i·h), y₁ = y + h·Σ_i b_i·k_i.
 *
 * @category Solvers
 */
export interface ButcherTableau {
  /** The strictly lower-triangular couplings: row i (0-based) holds a_{i,0} … a_{i,i−1}; row 0 is empty. */
  readonly a: readonly (readonly number[])[];
  /** The weights b_1 … b_s of the stages in the step. */
  readonly b: readonly number[];
  /** The nodes c_1 … c_s, with c_i = Σ_j a_ij (Hairer I, eq. 1.9). */
  readonly c: readonly number[];
}

/**
 * An explicit Runge–Kutta method: its tableau and its classical order p (global error O(hᵖ)).
 *
 * @category Solvers
 */
export interface RungeKuttaMethod {
  /** A short human-readable name, e.g. `"RK4"`. */
  readonly name: string;
  /** The order p: the global error of a fixed-step solve is O(hᵖ). */
  readonly order: number;
  /** The Butcher tableau. */
  readonly tableau: ButcherTableau;
}

/**
 * An embedded pair (Hairer I, §II.4, eq. 4.9): a second set of weights b̂ gives a solution ŷ₁ of order q, and
 * y₁ − ŷ₁ = h·Σ (b_i − b̂_i)·k_i estimates the local error for step-size control.
 *
 * @category Solvers
 */
export interface EmbeddedRungeKuttaMethod extends RungeKuttaMethod {
  /** The weights b̂_1 … b̂_s of the embedded solution. */
  readonly bHat: readonly number[];
  /** The order q of the embedded solution; the error estimate is O(h^{q+1}). */
  readonly errorOrder: number;
}

/** Tolerance on the consistency conditions Σ_j a_ij = c_i and Σ b_i = 1 (rational coefficients in float64). */
const CONSISTENCY_TOL = 1e-12;

/**
 * Builds an explicit Runge–Kutta method after checking its tableau: s ≥ 1 stages, row i of `a` of length i,
 * `b` and `c` of length s, every coefficient finite, c_i = Σ_j a_ij and Σ_i b_i = 1 to 10⁻¹² (Hairer I,
 * eq. 1.9 and the order-1 condition), order an integer ≥ 1. The higher order conditions are not checked.
 *
 * @category Solvers
 */
export const explicitRungeKutta = (
  name: string,
  order: number,
  tableau: ButcherTableau,
): E.Either<ScoreflowError, RungeKuttaMethod> => {
  const context = `explicitRungeKutta (${name})`;
  const { a, b, c } = tableau;
  const s = b.length;
  return E.flatMap(
    checkAll(context, [
      ["order", order, isPositiveInteger],
      ["b.length", s, isPositiveInteger],
    ]),
    () => {
      if (c.length !== s || a.length !== s) {
        return E.left(
          scoreflowError(
            context,
            "tableau",
            s,
            "must have a, b, c of one length s",
            `a.length=${a.length}, b.length=${s}, c.length=${c.length}`,
          ),
        );
      }
      for (let i = 0; i < s; i++) {
        if (a[i].length !== i) {
          return E.left(
            scoreflowError(
              context,
              `a[${i}].length`,
              a[i].length,
              `must equal ${i} (explicit, strictly lower triangular)`,
            ),
          );
        }
        const bad = checkAll(context, [
          [`b[${i}]`, b[i], isFiniteNumber],
          [`c[${i}]`, c[i], isFiniteNumber],
          ...a[i].map((aij, j) => [`a[${i}][${j}]`, aij, isFiniteNumber] as const),
        ]);
        if (E.isLeft(bad)) return bad;
        const rowSum = a[i].reduce((acc, aij) => acc + aij, 0);
        if (Math.abs(rowSum - c[i]) > CONSISTENCY_TOL) {
          return E.left(scoreflowError(context, `c[${i}]`, c[i], `must equal Σ_j a[${i}][j] = ${rowSum}`));
        }
      }
      const bSum = b.reduce((acc, bi) => acc + bi, 0);
      if (Math.abs(bSum - 1) > CONSISTENCY_TOL) {
        return E.left(scoreflowError(context, "b", bSum, "must sum to 1", `Σ b=${bSum}`));
      }
      return E.right({ name, order, tableau });
    },
  );
};

/**
 * True when the tableau is "first same as last" (Hairer I, §II.5): c_s = 1, b_s = 0 and the last row of `a`
 * equals b, so the last stage is F(y₁, t + h) and serves as the first stage of the next step.
 *
 * @category Solvers
 */
export const isFsal = (tableau: ButcherTableau): boolean => {
  const { a, b, c } = tableau;
  const s = b.length;
  return s > 1 && c[s - 1] === 1 && b[s - 1] === 0 && a[s - 1].every((aij, j) => aij === b[j]);
};

/**
 * The outcome of one Runge–Kutta step.
 *
 * @category Solvers
 */
export interface RungeKuttaStep<V> {
  /** The new state y₁ = y + h·Σ b_i·k_i. */
  readonly y: V;
  /** The stage derivatives k_1 … k_s. */
  readonly stages: readonly V[];
  /** Vector-field evaluations made by this step (s, or s − 1 when the first stage was supplied). */
  readonly nfe: number;
}

/**
 * The stage combination base + h·Σ_j w_j·k_j (or h·Σ_j w_j·k_j without a base), skipping zero weights.
 *
 * @category Solvers
 */
export const addStages = <V>(
  space: VectorSpace<V>,
  base: V | undefined,
  h: number,
  weights: readonly number[],
  stages: readonly V[],
): V => {
  const terms: (readonly [number, V])[] = base === undefined ? [] : [[1, base]];
  for (let j = 0; j < weights.length; j++) if (weights[j] !== 0) terms.push([h * weights[j], stages[j]]);
  return space.combine(terms.length > 0 ? terms : [[0, stages[0]]]);
};

/**
 * One explicit Runge–Kutta step of size h (negative h steps backwards in time) (Hairer I, §II.1, eq. 1.8):
 * k_i = F(y + h·Σ_{j<i} a_ij·k_j, t + c_i·h), y₁ = y + h·Σ b_i·k_i.
 *
 * @param field - The vector field F(y, t).
 * @param firstStage - F(y, t) when already known (FSAL, or a rejected step being retried); saves one evaluation.
 * @category Solvers
 */
export const rungeKuttaStep = <V>(
  space: VectorSpace<V>,
  tableau: ButcherTableau,
  field: (x: V, t: number) => V,
  y: V,
  t: number,
  h: number,
  firstStage?: V,
): RungeKuttaStep<V> => {
  const { a, b, c } = tableau;
  const stages: V[] = [firstStage ?? field(y, t)];
  for (let i = 1; i < b.length; i++) stages.push(field(addStages(space, y, h, a[i], stages), t + c[i] * h));
  return {
    y: addStages(space, y, h, b, stages),
    stages,
    nfe: firstStage === undefined ? b.length : b.length - 1,
  };
};
