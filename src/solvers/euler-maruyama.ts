/**
 * The Euler–Maruyama method for SDEs with additive noise.
 *
 * @module
 */
import type { SdeSolver } from "./sde.js";

/**
 * Euler–Maruyama (Kloeden & Platen 1992, "Numerical Solution of Stochastic Differential Equations", §10.2
 * (strong) and §14.1 (weak)): y₁ = y + f(y, t)·dt + g(t)·dW. One drift evaluation per step. Strong order
 * ½ in general, but 1 for additive noise (where it coincides with the Milstein scheme, K&P §10.3), which is the
 * only noise an `SdeTerm` expresses; weak order 1.
 *
 * @category Solvers
 */
export const sdeEulerMaruyama: SdeSolver = {
  name: "Euler–Maruyama",
  strongOrder: 1,
  weakOrder: 1,
  step: (space, term, y, t, dt, dW) => ({
    y: space.combine([
      [1, y],
      [dt, term.drift(y, t)],
      [term.diffusion(t), dW],
    ]),
    nfe: 1,
  }),
};
