/**
 * The stochastic Heun method for SDEs with additive noise.
 *
 * @module
 */
import type { SdeSolver } from "./sde.js";

/**
 * Stochastic Heun (Rümelin 1982, "Numerical treatment of stochastic differential equations", SIAM J. Numer.
 * Anal. 19, the second-order explicit Runge–Kutta scheme; Kloeden & Platen 1992, §15.1, the explicit order 2.0 weak
 * scheme for additive noise; diffrax `Heun`): predictor ỹ = y + f(y, t)·dt + g(t)·dW, then
 * y₁ = y + ½·(f(y, t) + f(ỹ, t + dt))·dt + ½·(g(t) + g(t + dt))·dW. Two drift evaluations per step. For additive
 * noise (Itô = Stratonovich) it has strong order 1 and weak order 2.
 *
 * @category Solvers
 */
export const sdeHeun: SdeSolver = {
  name: "Heun",
  strongOrder: 1,
  weakOrder: 2,
  step: (space, term, y, t, dt, dW) => {
    const g0 = term.diffusion(t);
    const f0 = term.drift(y, t);
    const predictor = space.combine([
      [1, y],
      [dt, f0],
      [g0, dW],
    ]);
    const f1 = term.drift(predictor, t + dt);
    return {
      y: space.combine([
        [1, y],
        [dt / 2, f0],
        [dt / 2, f1],
        [(g0 + term.diffusion(t + dt)) / 2, dW],
      ]),
      nfe: 2,
    };
  },
};
