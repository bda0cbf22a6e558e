/**
 * The SDE as data (Song et al. 2021, "Score-Based Generative Modeling through Stochastic Differential
 * Equations", ICLR, eq. 5): dx = f(x, t) dt + g(t) dw on a time domain [tMin, tMax].
 *
 * @module
 */
import type { VectorSpace } from "../core/tensor.js";

/**
 * A general Itô SDE dx = f(x, t) dt + g(t) dw over a state type `V` (Song et al. 2021, eq. 5). Plain record:
 * behaviour lives in the functions that take it.
 *
 * @category SDEs
 */
export interface Sde<V> {
  /** A short human-readable name, e.g. `"VP"`. */
  readonly name: string;
  /** Smallest time the samplers integrate to (the ε of Song et al. 2021, App. C). */
  readonly tMin: number;
  /** The terminal time T, where the prior is reached. */
  readonly tMax: number;
  /** The drift f(x, t). */
  readonly drift: (x: V, t: number) => V;
  /** The scalar diffusion coefficient g(t). */
  readonly diffusion: (t: number) => number;
}

/**
 * A linear SDE dx = f(t)·x dt + g(t) dw (Song et al. 2021, eq. 5 with affine drift; Särkkä & Solin 2019,
 * "Applied SDEs", eq. 5.50–5.51). Its transition is Gaussian: x_t | x_0 ~ N(s(t)·x_0, σ(t)²·I), with
 * s(t) = exp ∫₀ᵗ f(u) du and σ(t)² = s(t)² ∫₀ᵗ g(u)²/s(u)² du.
 *
 * Every function of `t` accepts any t in [0, tMax]; the marginals are those of x_t given x_0 at t = 0.
 *
 * @category SDEs
 */
export interface LinearSde {
  /** A short human-readable name, e.g. `"VP"`. */
  readonly name: string;
  /** Smallest time the samplers integrate to (ε > 0 avoids the σ → 0 singularity of the score). */
  readonly tMin: number;
  /** The terminal time T. */
  readonly tMax: number;
  /** Drift coefficient f(t), so that the drift is f(x, t) = f(t)·x. */
  readonly f: (t: number) => number;
  /** Diffusion coefficient g(t). */
  readonly g: (t: number) => number;
  /** Marginal mean scale s(t) = exp ∫₀ᵗ f(u) du: E[x_t | x_0] = s(t)·x_0. */
  readonly scale: (t: number) => number;
  /** Marginal standard deviation σ(t) of x_t | x_0, with σ(t)² = s(t)² ∫₀ᵗ g(u)²/s(u)² du. */
  readonly std: (t: number) => number;
  /**
   * Inverse of the noise level σ(t)/s(t) (the σ of Karras et al. 2022, Table 1): the time t at which
   * σ(t)/s(t) equals `noiseLevel`. Lets EDM-style samplers run on this SDE.
   */
  readonly timeOfNoiseLevel: (noiseLevel: number) => number;
  /** Standard deviation of the isotropic Gaussian prior p_T = N(0, priorStd²·I). */
  readonly priorStd: number;
}

/**
 * Views a linear SDE as a general {@link Sde} over a state space `V`: drift f(t)·x, diffusion g(t).
 *
 * @category SDEs
 */
export const toSde =
  <V>(space: VectorSpace<V>) =>
  (sde: LinearSde): Sde<V> => ({
    name: sde.name,
    tMin: sde.tMin,
    tMax: sde.tMax,
    drift: (x, t) => space.combine([[sde.f(t), x]]),
    diffusion: sde.g,
  });
