/**
 * The product of two vector spaces: states that are pairs (a, b), combined componentwise. The likelihood solve
 * integrates such a pair, the points x and their accumulated log-density change Δ log p.
 *
 * @module
 */
import { foldIn } from "../core/rng.js";
import type { VectorSpace } from "../core/tensor.js";

/**
 * The product space A × B of two vector spaces (Halmos 1958, "Finite-Dimensional Vector Spaces", §19, direct
 * sums): Σ cᵢ·(aᵢ, bᵢ) = (Σ cᵢ·aᵢ, Σ cᵢ·bᵢ); the components are those of a followed by those of b (so a
 * solver's error norm runs over both, as in score_sde's likelihood, which concatenates x and Δ log p); the
 * normal noise of (a, b) takes a from `foldIn(key, 0)` and b from `foldIn(key, 1)`.
 *
 * @param first - the space of the first element.
 * @param second - the space of the second element.
 * @category Core
 */
export const productSpace = <A, B>(
  first: VectorSpace<A>,
  second: VectorSpace<B>,
): VectorSpace<readonly [A, B]> => ({
  combine: (terms) => [
    first.combine(terms.map(([c, x]) => [c, x[0]] as const)),
    second.combine(terms.map(([c, x]) => [c, x[1]] as const)),
  ],
  components: ([a, b]) => {
    const ca = first.components(a);
    const cb = second.components(b);
    const out = new Float64Array(ca.length + cb.length);
    for (let i = 0; i < ca.length; i++) out[i] = ca[i];
    for (let i = 0; i < cb.length; i++) out[ca.length + i] = cb[i];
    return out;
  },
  normalLike: (key, [a, b]) => [first.normalLike(foldIn(key, 0), a), second.normalLike(foldIn(key, 1), b)],
});
