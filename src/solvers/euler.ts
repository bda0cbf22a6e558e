/**
 * The explicit Euler method as a one-stage Runge–Kutta tableau.
 *
 * @module
 */
import type { RungeKuttaMethod } from "./rk.js";

/**
 * Explicit Euler, y₁ = y + h·F(y, t): one stage, order 1 (Hairer I, §I.7 and §II.1, tableau 0 | 1).
 *
 * @category Solvers
 */
export const odeEuler: RungeKuttaMethod = {
  name: "Euler",
  order: 1,
  tableau: { a: [[]], b: [1], c: [0] },
};
