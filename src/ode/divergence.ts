/**
 * Divergences ∇·v(x, t) = Σ_i ∂v_i/∂x_i of a batched vector field given only as a function (there is no
 * autodiff): the exact trace by central finite differences, the Hutchinson–Skilling estimator with a
 * finite-difference Jacobian-vector product, and the closed-form Laplacian of a Gaussian mixture's log-density.
 *
 * Batches are float64 tensors of shape [n, d], one point per row. The field must act row by row, as every
 * score model does: row r of v(x, t) depends on row r of x only. One batched call then perturbs all the rows at
 * once, so each estimator costs a number of calls that does not grow with n.
 *
 * @module
 */
import { fillNormal, fillRademacher, foldIn, type RngKey } from "../core/rng.js";
import type { Tensor64 } from "../core/tensor.js";
import { mixtureScoreDivergence } from "../oracle/marginal.js";
import type { MixtureOracle } from "../oracle/oracle.js";
import type { LinearSde } from "../sde/types.js";

/**
 * A batched vector field v(x, t) on points of shape [n, d] that acts row by row.
 *
 * @category Likelihood
 */
export type BatchField = (x: Tensor64, t: number) => Tensor64;

/**
 * The divergence of a batched vector field, one value per row: (x, t) ↦ (∇·v)(x_r, t) for every row r.
 *
 * @category Likelihood
 */
export type BatchDivergence = (x: Tensor64, t: number) => Float64Array;

/**
 * ∛ε with ε = 2⁻⁵² the float64 machine epsilon (≈ 6.06·10⁻⁶): the relative step that balances the O(h²)
 * truncation error of a central difference against its O(ε/h) rounding error.
 */
const CBRT_EPSILON = Math.cbrt(Number.EPSILON);

/**
 * The central-difference step for a coordinate of value x: h = ∛ε·max(1, |x|) (Press et al. 2007, "Numerical
 * Recipes", 3rd ed., §5.7, eq. 5.7.8: the central difference D = (v(x + h) − v(x − h))/(2h) has truncation
 * error h²·|v‴|/6 and rounding error ≈ ε·|v|/h; their sum is smallest at h ≈ (3ε·|v|/|v‴|)^{1/3}, i.e. ∛ε
 * times the scale on which v varies, taken as max(1, |x|)). The relative error of D is then O(ε^{2/3}) ≈ 4·10⁻¹¹.
 */
const differenceStep = (x: number): number => CBRT_EPSILON * Math.max(1, Math.abs(x));

/**
 * The exact divergence of a batched field by central differences along every coordinate:
 *
 *   ∇·v(x) = Σ_j ∂v_j/∂x_j ≈ Σ_j (v_j(x + h_j·e_j) − v_j(x − h_j·e_j)) / (x_j⁺ − x_j⁻),
 *
 * with h_j = ∛ε·max(1, |x_j|) per row (Press et al. 2007, §5.7) and the denominator x_j⁺ − x_j⁻ taken from the
 * perturbed coordinates as stored, so that the rounding of x ± h does not bias the quotient. Error O(ε^{2/3})
 * relative to the scale of v. Costs 2d batched calls of the field, whatever n; for low dimensions (Grathwohl et
 * al. 2019, "FFJORD", ICLR, §2 uses the exact trace when d is small).
 *
 * @param field - the vector field, acting row by row on [n, d].
 * @param x - the points, shape [n, d].
 * @param t - the time.
 * @returns ∇·v(x_r, t) for each row r, length n.
 * @category Likelihood
 */
export const finiteDifferenceDivergence = (field: BatchField, x: Tensor64, t: number): Float64Array => {
  const [n, d] = x.shape;
  const out = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    const plus = x.data.slice();
    const minus = x.data.slice();
    for (let r = 0; r < n; r++) {
      const h = differenceStep(x.data[r * d + j]);
      plus[r * d + j] += h;
      minus[r * d + j] -= h;
    }
    const vPlus = field({ shape: x.shape, data: plus }, t).data;
    const vMinus = field({ shape: x.shape, data: minus }, t).data;
    for (let r = 0; r < n; r++) {
      const i = r * d + j;
      out[r] += (vPlus[i] - vMinus[i]) / (plus[i] - minus[i]);
    }
  }
  return out;
};

/**
 * The distribution of the Hutchinson probes ε: Rademacher signs ±1 (Hutchinson 1989, the minimum-variance
 * choice) or standard normals (Skilling 1989). Both have E[ε] = 0 and E[εεᵀ] = I.
 *
 * @category Likelihood
 */
export type ProbeDistribution = "rademacher" | "gaussian";

/**
 * A batch of Hutchinson probes of shape [n, d], row r drawn from `foldIn(key, r)` so that a point's probe does
 * not depend on the batch size. FFJORD and score_sde draw the probes once and keep them for the whole solve
 * (Grathwohl et al. 2019, §3.1), which makes the integrated estimate an unbiased estimate of the integrated
 * trace.
 *
 * @param key - the key of the batch.
 * @param distribution - Rademacher or Gaussian.
 * @param n - the number of rows, an integer ≥ 1.
 * @param d - the dimension, an integer ≥ 1.
 * @category Likelihood
 */
export const hutchinsonProbes = (
  key: RngKey,
  distribution: ProbeDistribution,
  n: number,
  d: number,
): Tensor64 => {
  const data = new Float64Array(n * d);
  const fill = distribution === "rademacher" ? fillRademacher : fillNormal;
  for (let r = 0; r < n; r++) fill(foldIn(key, r), data.subarray(r * d, (r + 1) * d));
  return { shape: [n, d], data };
};

/**
 * The Hutchinson–Skilling estimate of the divergence, one probe per row (Hutchinson 1989, "A stochastic
 * estimator of the trace of the influence matrix", Commun. Stat. Simul. 18; Skilling 1989; Grathwohl et al.
 * 2019, eq. 7):
 *
 *   ∇·v(x) = tr J(x) = E_ε[εᵀ J(x) ε],   J ε ≈ (v(x + h·ε) − v(x − h·ε)) / (2h),
 *
 * with the Jacobian-vector product by a central difference along ε, h = ∛ε_mach·max(1, ‖x‖_∞)/‖ε‖_∞ per row
 * (so that the largest coordinate moves by the step of {@link finiteDifferenceDivergence}). Unbiased up to the
 * O(h²) difference error; the variance of εᵀJε is 2·Σ_{i≠j} ((J_ij + J_ji)/2)² for Rademacher probes and
 * 2·‖(J + Jᵀ)/2‖_F² for Gaussian ones. Costs 2 batched calls of the field.
 *
 * @param field - the vector field, acting row by row on [n, d].
 * @param x - the points, shape [n, d].
 * @param t - the time.
 * @param probes - the probes ε, shape [n, d] (see {@link hutchinsonProbes}); no row all zero.
 * @returns εᵀ J(x_r) ε for each row r, length n.
 * @category Likelihood
 */
export const hutchinsonDivergence = (
  field: BatchField,
  x: Tensor64,
  t: number,
  probes: Tensor64,
): Float64Array => {
  const [n, d] = x.shape;
  const plus = x.data.slice();
  const minus = x.data.slice();
  const steps = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let xMax = 0;
    let probeMax = 0;
    for (let j = 0; j < d; j++) {
      xMax = Math.max(xMax, Math.abs(x.data[r * d + j]));
      probeMax = Math.max(probeMax, Math.abs(probes.data[r * d + j]));
    }
    const h = differenceStep(xMax) / probeMax;
    steps[r] = h;
    for (let j = 0; j < d; j++) {
      plus[r * d + j] += h * probes.data[r * d + j];
      minus[r * d + j] -= h * probes.data[r * d + j];
    }
  }
  const vPlus = field({ shape: x.shape, data: plus }, t).data;
  const vMinus = field({ shape: x.shape, data: minus }, t).data;
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let quadratic = 0;
    for (let j = 0; j < d; j++) {
      const i = r * d + j;
      quadratic += probes.data[i] * (vPlus[i] - vMinus[i]);
    }
    out[r] = quadratic / (2 * steps[r]);
  }
  return out;
};

/**
 * The divergence of the oracle's exact score at time t: x ↦ tr ∇² log p_t(x), from
 * {@link mixtureScoreDivergence} on the marginal p_t = `oracle.marginal(t)`.
 *
 * @param oracle - the Gaussian-mixture oracle of a linear SDE.
 * @category Likelihood
 */
export const oracleScoreDivergence =
  (oracle: MixtureOracle): BatchDivergence =>
  (x, t) =>
    mixtureScoreDivergence(oracle.marginal(t), x);

/**
 * The divergence of the probability-flow vector field v = f(t)·x − ½g(t)²·s(x, t) of a linear SDE from the
 * divergence of its score model s (Song et al. 2021, eq. 13 and App. D.2, eq. 39–40):
 *
 *   ∇·v(x, t) = d·f(t) − ½g(t)²·∇·s(x, t),  d the number of components of a row.
 *
 * @param sde - the linear SDE.
 * @param scoreDivergence - ∇·s per row, e.g. {@link oracleScoreDivergence}.
 * @category Likelihood
 */
export const probabilityFlowDivergence =
  (sde: LinearSde, scoreDivergence: BatchDivergence): BatchDivergence =>
  (x, t) => {
    const d = x.data.length / x.shape[0];
    const g = sde.g(t);
    const drift = d * sde.f(t);
    return scoreDivergence(x, t).map((div) => drift - 0.5 * g * g * div);
  };
