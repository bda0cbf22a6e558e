/**
 * Brownian motion as a path object: ask it for the increment over any [t₀, t₁] and it answers consistently,
 * in any order, as a pure function of its key. Implemented as a virtual Brownian tree (Gaines & Lyons 1997;
 * Li, Wong, Chen & Duvenaud 2020, "Scalable Gradients for Stochastic Differential Equations", AISTATS, §4, the
 * virtual Brownian tree; diffrax `VirtualBrownianTree`).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "../core/errors.js";
import { foldIn, type RngKey } from "../core/rng.js";
import type { VectorSpace } from "../core/tensor.js";
import { checkAll, checkOrdered, isFiniteNumber, isPositive } from "../core/validate.js";
import { timeGrid } from "./grid.js";
import { checkFiniteState } from "./solution.js";

/**
 * A sample path of a standard Brownian motion W shaped like the state, on [tLo, tHi] with W(tLo) = 0.
 *
 * @category Solvers
 */
export interface BrownianPath<V> {
  /** Start of the domain. */
  readonly tLo: number;
  /** End of the domain. */
  readonly tHi: number;
  /**
   * W(t₁) − W(t₀), for any t₀, t₁ in [tLo, tHi] (times outside are clamped to it), either order: its
   * components are N(0, |t₁ − t₀|), independent over disjoint intervals, and increments over a partition sum
   * to the whole increment up to rounding.
   */
  readonly increment: (t0: number, t1: number) => V;
}

/**
 * A virtual Brownian tree (Li et al. 2020, §4; Gaines & Lyons 1997): W(tHi) = √(tHi − tLo)·Z and, to
 * evaluate W(t), bisect [s, u] ∋ t from [tLo, tHi], drawing each midpoint m = (s + u)/2 from the Brownian bridge
 * W(m) = (W(s) + W(u))/2 + √((u − s)/4)·Z (Lévy's construction), until u − s ≤ tol; inside that last interval
 * W(t) = ((u − t)·W(s) + (t − s)·W(u))/(u − s) + √((t − s)(u − t)/(u − s))·Z, the bridge at t, so W(t) has the
 * exact N(0, t − tLo) marginal for every t and exact bridge statistics at every node. Each Z is
 * `space.normalLike(k, like)` with k derived by `foldIn` from the node's path (0 = left, 1 = right) below the
 * root key: W is a pure function of (key, t), the same whatever the order of queries, and each batch row's
 * path is independent of the batch size. Costs O(log₂((tHi − tLo)/tol)) normal draws per query; the last
 * evaluated point is memoized (one entry, invisible).
 *
 * @param key - The path's key.
 * @param like - A finite state whose shape the increments take (its values are not used).
 * @param tLo - Start of the domain, finite.
 * @param tHi - End of the domain, finite, > tLo.
 * @param tol - Resolution, finite and > 0: intervals shorter than tol are not bisected further.
 * @category Solvers
 */
export const virtualBrownianTree = <V>(
  space: VectorSpace<V>,
  key: RngKey,
  like: V,
  tLo: number,
  tHi: number,
  tol: number,
): E.Either<ScoreflowError, BrownianPath<V>> => {
  const context = "virtualBrownianTree";
  const input = E.flatMap(
    E.flatMap(
      checkAll(context, [
        ["tLo", tLo, isFiniteNumber],
        ["tHi", tHi, isFiniteNumber],
        ["tol", tol, isPositive],
      ]),
      () => checkOrdered(context, ["tLo", tLo], ["tHi", tHi], true),
    ),
    () => checkFiniteState(space, context, "like", like),
  );
  return E.map(() => {
    const zero = space.combine([[0, like]]);
    const wHi = space.combine([[Math.sqrt(tHi - tLo), space.normalLike(foldIn(key, 0), like)]]);
    const rootKey = foldIn(key, 1);

    const valueAt = (t: number): V => {
      if (t <= tLo) return zero;
      if (t >= tHi) return wHi;
      let s = tLo;
      let u = tHi;
      let ws = zero;
      let wu = wHi;
      let k = rootKey;
      for (;;) {
        const m = (s + u) / 2;
        if (!(u - s > tol && m > s && m < u)) break;
        const wm = space.combine([
          [0.5, ws],
          [0.5, wu],
          [Math.sqrt((u - s) / 4), space.normalLike(k, like)],
        ]);
        if (t === m) return wm;
        if (t < m) {
          u = m;
          wu = wm;
          k = foldIn(k, 0);
        } else {
          s = m;
          ws = wm;
          k = foldIn(k, 1);
        }
      }
      const w = u - s;
      return space.combine([
        [(u - t) / w, ws],
        [(t - s) / w, wu],
        [Math.sqrt(((t - s) * (u - t)) / w), space.normalLike(k, like)],
      ]);
    };

    let memo: { readonly t: number; readonly w: V } | undefined;
    const memoValueAt = (t: number): V => {
      if (memo?.t !== t) memo = { t, w: valueAt(t) };
      return memo.w;
    };

    return {
      tLo,
      tHi,
      increment: (t0: number, t1: number): V => {
        const w0 = memoValueAt(t0);
        return space.combine([
          [1, memoValueAt(t1)],
          [-1, w0],
        ]);
      },
    };
  })(input);
};

/**
 * A Brownian path known only at the points of a time grid: the increment over grid step k is
 * W(t_{k+1}) − W(t_k) = √|t_{k+1} − t_k|·Z_k with Z_k = `space.normalLike(foldIn(key, k), like)` (independent
 * Gaussian increments, Karatzas & Shreve 1991, Def. 2.1.1). One normal draw per step, against the
 * O(log₂(1/tol)) of {@link virtualBrownianTree}: the path for fixed-grid samplers. `increment(t_a, t_b)` answers
 * for grid points t_a, t_b (the sum of the steps between them); a time off the grid gives a non-finite
 * increment, which the solvers report as a failure rather than a silent error.
 *
 * @param key - The path's key; step k draws from `foldIn(key, k)`.
 * @param like - A state whose shape the increments take.
 * @param grid - The time grid (validated by {@link timeGrid}: at least two finite, strictly monotone times).
 * @category Solvers
 */
export const gridBrownianPath = <V>(
  space: VectorSpace<V>,
  key: RngKey,
  like: V,
  grid: ArrayLike<number>,
): E.Either<ScoreflowError, BrownianPath<V>> =>
  E.map((ts: Float64Array) => {
    const index = new Map<number, number>(Array.from(ts, (t, k) => [t, k]));
    const step = (k: number): V =>
      space.combine([[Math.sqrt(Math.abs(ts[k + 1] - ts[k])), space.normalLike(foldIn(key, k), like)]]);
    const [tLo, tHi] = ts[0] < ts[ts.length - 1] ? [ts[0], ts[ts.length - 1]] : [ts[ts.length - 1], ts[0]];
    return {
      tLo,
      tHi,
      increment: (t0: number, t1: number): V => {
        const a = index.get(t0);
        const b = index.get(t1);
        if (a === undefined || b === undefined) return space.combine([[Number.NaN, like]]);
        if (a === b) return space.combine([[0, like]]);
        const [lo, hi, sign] = a < b ? [a, b, 1] : [b, a, -1];
        // W(t_b) − W(t_a) over grid steps lo … hi−1, oriented along the grid.
        const terms: Array<readonly [number, V]> = [];
        for (let k = lo; k < hi; k++) terms.push([sign, step(k)]);
        return space.combine(terms);
      },
    };
  })(timeGrid(grid, "gridBrownianPath"));
