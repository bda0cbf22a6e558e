/**
 * The sliced Wasserstein-2 distance between two point clouds: the distribution error the sampler benchmarks
 * report.
 *
 * @module
 */
import { fillNormal, foldIn, type RngKey } from "../core/rng.js";
import type { Tensor64 } from "../core/tensor.js";

/**
 * The squared 2-Wasserstein distance between two empirical distributions on the line, computed exactly from
 * their quantile functions: W₂² = ∫₀¹ (F⁻¹(u) − G⁻¹(u))² du (Villani 2003, "Topics in Optimal Transportation",
 * Thm. 2.18), where both quantile functions are step functions, so the integral is a finite sum over the merged
 * breakpoints i/n and j/m. Sizes may differ.
 *
 * @param a - values, sorted ascending.
 * @param b - values, sorted ascending.
 * @category Metrics
 */
export const wasserstein2SquaredSorted = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  const n = a.length;
  const m = b.length;
  let i = 0;
  let j = 0;
  let u = 0;
  let total = 0;
  while (i < n && j < m) {
    // Next breakpoint: the smaller of (i+1)/n and (j+1)/m, compared exactly in integers.
    const cmp = (i + 1) * m - (j + 1) * n;
    const next = cmp <= 0 ? (i + 1) / n : (j + 1) / m;
    total += (next - u) * (a[i] - b[j]) ** 2;
    u = next;
    if (cmp <= 0) i++;
    if (cmp >= 0) j++;
  }
  return total;
};

/**
 * The sliced Wasserstein-2 distance (Rabin et al. 2011; Bonneel et al. 2015, eq. 2):
 * SW₂(μ, ν) = (E_θ W₂²(θᵀ#μ, θᵀ#ν))^{1/2} with θ uniform on the unit sphere, estimated with `projections`
 * directions drawn from `key` (direction k from `foldIn(key, k)`), each 1-D distance exact
 * ({@link wasserstein2SquaredSorted}). The same key gives the same directions, so two samplers compared with
 * one key are compared on the same slices.
 *
 * @param x - points, shape [n, d].
 * @param y - points, shape [m, d] (m may differ from n).
 * @param projections - number of directions, ≥ 1 (default 128).
 * @category Metrics
 */
export const slicedWasserstein2 = (x: Tensor64, y: Tensor64, key: RngKey, projections = 128): number => {
  const [n, d] = x.shape;
  const m = y.shape[0];
  const theta = new Float64Array(d);
  const px = new Float64Array(n);
  const py = new Float64Array(m);
  let total = 0;
  for (let k = 0; k < projections; k++) {
    fillNormal(foldIn(key, k), theta);
    const norm = Math.hypot(...theta);
    const project = (points: Tensor64, out: Float64Array) => {
      for (let i = 0; i < out.length; i++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += theta[j] * points.data[i * d + j];
        out[i] = dot / norm;
      }
      return out.sort();
    };
    total += wasserstein2SquaredSorted(project(x, px), project(y, py));
  }
  return Math.sqrt(total / projections);
};
