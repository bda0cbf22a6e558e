/**
 * The reverse-time SDE of a diffusion (Anderson 1982, "Reverse-Time Diffusion Equation Models", Stochastic
 * Processes and their Applications 12(3); Song et al. 2021, eq. 6).
 *
 * @module
 */
import type { VectorSpace } from "../core/tensor.js";
import type { Sde } from "./types.js";

/**
 * The reverse-time SDE dx = [f(x, t) − g(t)²·∇ log p_t(x)] dt + g(t) dw̄ of a forward SDE dx = f dt + g dw
 * (Anderson 1982; Song et al. 2021, eq. 6), given the score ∇ log p_t(x) as `score(x, t)`. Time runs
 * backwards, from tMax down to tMin: dt < 0 and w̄ is a Brownian motion in reversed time, so an
 * Euler–Maruyama step of size h > 0 from t to t − h reads x ← x − h·drift(x, t) + g(t)·√h·z, z ~ N(0, I). The
 * returned `drift` is the coefficient of that negative dt, f − g²·score; `diffusion` is g unchanged; tMin and
 * tMax are the forward ones.
 *
 * @category SDEs
 */
export const reverseSde = <V>(space: VectorSpace<V>, sde: Sde<V>, score: (x: V, t: number) => V): Sde<V> => ({
  name: `reverse ${sde.name}`,
  tMin: sde.tMin,
  tMax: sde.tMax,
  drift: (x, t) => {
    const g = sde.diffusion(t);
    return space.combine([
      [1, sde.drift(x, t)],
      [-g * g, score(x, t)],
    ]);
  },
  diffusion: sde.diffusion,
});
