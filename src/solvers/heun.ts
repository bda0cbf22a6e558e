/**
 * Heun's method (the explicit trapezoidal rule) as a two-stage Runge–Kutta tableau.
 *
 * @module
 */
import type { RungeKuttaMethod } from "./rk.js";

/**
 * Heun's method: k₁ = F(y, t), k₂ = F(y + h·k₁, t + h), y₁ = y + h·(k₁ + k₂)/2; order 2 (Hairer I, §II.1,
 * Table 1.1, "Heun 1900"; the predictor–corrector of Karras et al. 2022, Alg. 1).
 *
 * @category Solvers
 */
export const odeHeun: RungeKuttaMethod = {
  name: "Heun",
  order: 2,
  tableau: {
    a: [[], [1]],
    b: [1 / 2, 1 / 2],
    c: [0, 1],
  },
};
