/**
 * The ODE as data: dx/dt = v(x, t) on a time domain [tMin, tMax].
 *
 * @module
 */

/**
 * An ordinary differential equation dx/dt = v(x, t) over a state type `V`, e.g. the probability-flow ODE of
 * an SDE (Song et al. 2021, eq. 13). Plain record: solvers integrate it in either direction of time.
 *
 * @category SDEs
 */
export interface Ode<V> {
  /** A short human-readable name, e.g. `"probability flow VP"`. */
  readonly name: string;
  /** Smallest time of the domain. */
  readonly tMin: number;
  /** Largest time of the domain. */
  readonly tMax: number;
  /** The vector field v(x, t) = dx/dt. */
  readonly vectorField: (x: V, t: number) => V;
}
