/**
 * The classical fourth-order Runge–Kutta method as a tableau.
 *
 * @module
 */
import type { RungeKuttaMethod } from "./rk.js";

/**
 * Classical RK4 (Kutta 1901; Hairer I, §II.1, Table 1.2, left): c = (0, ½, ½, 1), b = (⅙, ⅓, ⅓, ⅙),
 * a₂₁ = ½, a₃₂ = ½, a₄₃ = 1; order 4.
 *
 * @category Solvers
 */
export const odeRk4: RungeKuttaMethod = {
  name: "RK4",
  order: 4,
  tableau: {
    a: [[], [1 / 2], [0, 1 / 2], [0, 0, 1]],
    b: [1 / 6, 1 / 3, 1 / 3, 1 / 6],
    c: [0, 1 / 2, 1 / 2, 1],
  },
};
