/**
 * Terms: the right-hand sides the solvers integrate, kept apart from the solvers themselves (the diffrax
 * separation of terms and solvers). An ODE term is a vector field; an SDE term is a drift plus an additive,
 * scalar diffusion driven by a Brownian path. Arguments are always `(x, t)`.
 *
 * @module
 */

/**
 * An ODE term dy/dt = F(y, t) over a state type `V` (Hairer, Nørsett & Wanner 1993, "Solving ODEs I",
 * §I.1). Any record with a `vectorField(x, t)` is one, e.g. a probability-flow ODE.
 *
 * @category Solvers
 */
export interface OdeTerm<V> {
  /** The vector field F(y, t): the time derivative of the state at (y, t). */
  readonly vectorField: (x: V, t: number) => V;
}

/**
 * An SDE term with additive noise, dy = f(y, t) dt + g(t) dW, where g(t) is a scalar and W a standard Brownian
 * motion shaped like the state (Kloeden & Platen 1992, "Numerical Solution of SDEs", Ch. 4, additive noise b = g(t)·I).
 * The `Sde<V>` record of `src/sde/types.ts` is one structurally.
 *
 * @category Solvers
 */
export interface SdeTerm<V> {
  /** The drift f(y, t). */
  readonly drift: (x: V, t: number) => V;
  /** The scalar diffusion coefficient g(t), multiplying every component of the Brownian increment. */
  readonly diffusion: (t: number) => number;
}
