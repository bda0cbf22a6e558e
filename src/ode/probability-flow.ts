/**
 * The probability-flow ODE of an SDE (Song et al. 2021, eq. 13; Maoutsa et al. 2020): a deterministic flow
 * whose marginals equal those of the SDE at every t.
 *
 * @module
 */
import type { VectorSpace } from "../core/tensor.js";
import type { Sde } from "../sde/types.js";
import type { Ode } from "./types.js";

/**
 * The probability-flow ODE dx/dt = f(x, t) − ½g(t)²·∇ log p_t(x) of the SDE dx = f dt + g dw, given the score
 * ∇ log p_t(x) as `score(x, t)` (Song et al. 2021, eq. 13 and App. D.1, from the Fokker–Planck equation). Its
 * solutions carry p_t to p_{t'} in either direction of time, over [tMin, tMax] of the SDE. The lecture notes
 * this project started from drop the ½; the ½ is correct: with it, for data N(0, c²I) under a linear SDE the
 * flow gives dVar/dt = 2f·Var + g², the SDE's own variance equation, while without it g² would be counted
 * twice.
 *
 * @category SDEs
 */
export const probabilityFlow = <V>(
  space: VectorSpace<V>,
  sde: Sde<V>,
  score: (x: V, t: number) => V,
): Ode<V> => ({
  name: `probability flow ${sde.name}`,
  tMin: sde.tMin,
  tMax: sde.tMax,
  vectorField: (x, t) => {
    const g = sde.diffusion(t);
    return space.combine([
      [1, sde.drift(x, t)],
      [-0.5 * g * g, score(x, t)],
    ]);
  },
});
