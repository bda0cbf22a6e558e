/**
 * Generic ODE and SDE solvers that know nothing about diffusion: terms, time grids, explicit Runge–Kutta
 * methods on one tableau-driven stepper, adaptive Dormand–Prince with a PI controller, a virtual Brownian tree,
 * Euler–Maruyama and stochastic Heun. Every solve is generic over the state through a `VectorSpace<V>` and
 * returns its failures as values.
 *
 * @module
 */
export * from "./adaptive.js";
export * from "./brownian.js";
export * from "./controller.js";
export * from "./dopri5.js";
export * from "./euler.js";
export * from "./euler-maruyama.js";
export * from "./grid.js";
export * from "./heun.js";
export * from "./ode.js";
export * from "./rk.js";
export * from "./rk4.js";
export * from "./sde.js";
export * from "./solution.js";
export * from "./stochastic-heun.js";
export * from "./term.js";
