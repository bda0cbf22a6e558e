/**
 * Exact queries on a Gaussian mixture pushed through the Gaussian transition of a linear SDE,
 * x_t = s·x_0 + σ·ε with ε ~ N(0, I): the marginal mixture, its log-density, its score and the posterior mean
 * E[x_0 | x_t] (the ideal denoiser). Every query evaluates the component log-densities once per point and
 * combines them by log-sum-exp into the posterior responsibilities r_k(x).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "../core/errors.js";
import type { Tensor64 } from "../core/tensor.js";
import { checkAll, isNonNegative } from "../core/validate.js";
import { matVec, solveLower, solveLowerTransposed } from "./linalg.js";
import { checkPositiveDefinite, factorMixture, type GaussianMixture } from "./mixture.js";

/**
 * The Gaussian transition x_t | x_0 ~ N(s·x_0, σ²·I) of a linear SDE at one time t: s = `LinearSde.scale(t)`,
 * σ = `LinearSde.std(t)` (Särkkä & Solin 2019, "Applied Stochastic Differential Equations", §6.1: the transition
 * density of a linear SDE is Gaussian, with the mean and covariance of eq. 5.50–5.51; Song et al. 2021,
 * "Score-Based Generative Modeling through SDEs", ICLR, App. B).
 *
 * @category Oracle
 */
export interface GaussianPerturbation {
  /** The mean scale s ≥ 0 (s > 0 for every linear SDE: s(t) = exp ∫₀ᵗ f(u) du). */
  readonly scale: number;
  /** The noise standard deviation σ ≥ 0. */
  readonly std: number;
}

/**
 * The marginal p_t = Σ_k w_k·N(s·μ_k, s²·Σ_k + σ²·I) of x_t = s·x_0 + σ·ε without validation: the
 * perturbation must keep every s²·Σ_k + σ²·I positive definite (s > 0 or σ > 0), as every linear SDE does.
 * Boundary code uses {@link mixtureAtNoise}; not re-exported from the package.
 *
 * @param gm - the data mixture p_0.
 * @param perturbation - s ≥ 0 and σ ≥ 0, not both zero.
 * @category Oracle
 */
export const perturbMixture = (gm: GaussianMixture, perturbation: GaussianPerturbation): GaussianMixture => {
  const { scale: s, std } = perturbation;
  const { dim: d, covariances } = gm;
  const variance = std * std;
  const means = gm.means.map((m) => s * m);
  const perturbed = covariances.map((c) => s * s * c);
  for (let k = 0; k < gm.components; k++)
    for (let i = 0; i < d; i++) perturbed[k * d * d + i * d + i] += variance;
  return factorMixture(d, gm.weights, means, perturbed);
};

/**
 * The marginal at noise (s, σ) of a Gaussian mixture under the transition x_t = s·x_0 + σ·ε, ε ~ N(0, I):
 * p_t = Σ_k w_k·N(s·μ_k, s²·Σ_k + σ²·I) — a linear map of a Gaussian plus independent Gaussian noise is
 * Gaussian, componentwise (Bishop 2006, "Pattern Recognition and Machine Learning", eq. 2.115; Särkkä & Solin
 * 2019, §6.1; Song et al. 2021, App. B). Left when s or σ is negative or not finite, or when s = σ = 0
 * (the marginal is then degenerate).
 *
 * @param gm - the data mixture p_0.
 * @param perturbation - s ≥ 0 and σ ≥ 0, finite, not both zero.
 * @category Oracle
 */
export const mixtureAtNoise = (
  gm: GaussianMixture,
  perturbation: GaussianPerturbation,
): E.Either<ScoreflowError, GaussianMixture> => {
  const { scale, std } = perturbation;
  const valid = checkAll("mixtureAtNoise", [
    ["scale", scale, isNonNegative],
    ["std", std, isNonNegative],
  ]);
  if (E.isLeft(valid)) return valid;
  return checkPositiveDefinite(
    `mixtureAtNoise(scale=${scale}, std=${std})`,
    "perturbed covariances",
    perturbMixture(gm, perturbation),
  );
};

/** −½·d·ln 2π: the log of the (2π)^(−d/2) normalizer of a d-dimensional Gaussian density. */
const logNormalizer = (d: number): number => -0.5 * d * Math.log(2 * Math.PI);

/**
 * For one point x: writes the whitened residuals y_k = L_k⁻¹(x − μ_k) into `whitened` (K·d) and the posterior
 * responsibilities r_k(x) = w_k·N(x; μ_k, Σ_k) / p(x) into `responsibilities` (K), and returns ln p(x) by the
 * shifted log-sum-exp ln p = M + ln Σ_k exp(ℓ_k − M), M = max_k ℓ_k, where
 * ℓ_k = ln w_k − ½‖y_k‖² − ½ ln det Σ_k − ½·d·ln 2π (Bishop 2006, eq. 2.43 and 9.13).
 */
const posterior = (
  gm: GaussianMixture,
  x: Float64Array,
  whitened: Float64Array,
  responsibilities: Float64Array,
): number => {
  const { dim: d, components: K, means, choleskyFactors, logWeights, logDeterminants } = gm;
  const dd = d * d;
  const constant = logNormalizer(d);
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < K; k++) {
    const y = whitened.subarray(k * d, (k + 1) * d);
    for (let i = 0; i < d; i++) y[i] = x[i] - means[k * d + i];
    solveLower(choleskyFactors.subarray(k * dd, (k + 1) * dd), d, y, y);
    let quadratic = 0;
    for (let i = 0; i < d; i++) quadratic += y[i] * y[i];
    const logJoint = logWeights[k] - 0.5 * quadratic - 0.5 * logDeterminants[k] + constant;
    responsibilities[k] = logJoint;
    if (logJoint > max) max = logJoint;
  }
  let sum = 0;
  for (let k = 0; k < K; k++) {
    responsibilities[k] = Math.exp(responsibilities[k] - max);
    sum += responsibilities[k];
  }
  for (let k = 0; k < K; k++) responsibilities[k] /= sum;
  return max + Math.log(sum);
};

/**
 * The log-density of a Gaussian mixture at a batch of points,
 * ln p(x) = ln Σ_k w_k·N(x; μ_k, Σ_k), N(x; μ, Σ) = (2π)^(−d/2)·det(Σ)^(−½)·exp(−½(x − μ)ᵀΣ⁻¹(x − μ))
 * (Bishop 2006, eq. 2.43 and 9.7), summed by a shifted log-sum-exp so that no term underflows.
 *
 * @param gm - the mixture (use {@link mixtureAtNoise} for the marginal p_t).
 * @param x - points, shape [n, d] with d = `gm.dim`.
 * @returns ln p(x_i), length n.
 * @category Oracle
 */
export const mixtureLogDensity = (gm: GaussianMixture, x: Tensor64): Float64Array => {
  const { dim: d, components: K } = gm;
  const n = x.shape[0];
  const whitened = new Float64Array(K * d);
  const responsibilities = new Float64Array(K);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = posterior(gm, x.data.subarray(i * d, (i + 1) * d), whitened, responsibilities);
  }
  return out;
};

/**
 * The score of a Gaussian mixture, ∇_x ln p(x) = Σ_k r_k(x)·(−Σ_k⁻¹(x − μ_k)), with the posterior
 * responsibilities r_k(x) = w_k·N(x; μ_k, Σ_k) / p(x) (Bishop 2006, eq. 9.13; the gradient of eq. 2.43 is
 * −Σ⁻¹(x − μ)). Σ_k⁻¹(x − μ_k) comes from two triangular solves with L_k.
 *
 * @param gm - the mixture (use {@link mixtureAtNoise} for the marginal p_t).
 * @param x - points, shape [n, d] with d = `gm.dim`.
 * @returns ∇ ln p(x_i), shape [n, d].
 * @category Oracle
 */
export const mixtureScore = (gm: GaussianMixture, x: Tensor64): Tensor64 => {
  const { dim: d, components: K, choleskyFactors } = gm;
  const dd = d * d;
  const n = x.shape[0];
  const whitened = new Float64Array(K * d);
  const responsibilities = new Float64Array(K);
  const z = new Float64Array(d);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    posterior(gm, x.data.subarray(i * d, (i + 1) * d), whitened, responsibilities);
    for (let k = 0; k < K; k++) {
      const r = responsibilities[k];
      if (r === 0) continue;
      solveLowerTransposed(choleskyFactors.subarray(k * dd, (k + 1) * dd), d, whitened.subarray(k * d), z);
      for (let j = 0; j < d; j++) out[i * d + j] -= r * z[j];
    }
  }
  return { shape: [n, d], data: out };
};

/**
 * The posterior mean E[x_0 | x_t = x] for data x_0 ~ p_0 = `gm0` and x_t = s·x_0 + σ·ε — the ideal
 * (minimum-mean-squared-error) denoiser:
 *
 *   E[x_0 | x_t] = Σ_k r_k(x_t)·[μ_k + s·Σ_k·C_k⁻¹(x_t − s·μ_k)],  C_k = s²·Σ_k + σ²·I,
 *
 * with r_k the responsibilities of the marginal p_t (Bishop 2006, §2.3.3, eq. 2.116–2.117 for the Gaussian
 * conditional, written in its Kalman-gain form, mixed over components by eq. 9.13). It satisfies Tweedie's
 * formula E[x_0 | x_t] = (x_t + σ²·∇ ln p_t(x_t)) / s (Efron 2011, "Tweedie's formula and selection bias",
 * JASA 106, §1; Robbins 1956). The EDM denoiser D(x̂; σ̃) of Karras et al. 2022 (eq. 2–3) is this function at s = 1, σ = σ̃,
 * x = x̂; for another linear SDE it is this function at x = s·x̂ with σ = s·σ̃.
 *
 * @param gm0 - the data mixture p_0.
 * @param perturbation - s ≥ 0 and σ ≥ 0, not both zero.
 * @param x - noisy points x_t, shape [n, d] with d = `gm0.dim`.
 * @returns E[x_0 | x_t = x_i], shape [n, d].
 * @category Oracle
 */
export const mixturePosteriorMean = (
  gm0: GaussianMixture,
  perturbation: GaussianPerturbation,
  x: Tensor64,
): Tensor64 => {
  const { dim: d, components: K, means, covariances } = gm0;
  const s = perturbation.scale;
  const marginal = perturbMixture(gm0, perturbation);
  const dd = d * d;
  const n = x.shape[0];
  const whitened = new Float64Array(K * d);
  const responsibilities = new Float64Array(K);
  const z = new Float64Array(d);
  const sigmaZ = new Float64Array(d);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    posterior(marginal, x.data.subarray(i * d, (i + 1) * d), whitened, responsibilities);
    for (let k = 0; k < K; k++) {
      const r = responsibilities[k];
      if (r === 0) continue;
      solveLowerTransposed(
        marginal.choleskyFactors.subarray(k * dd, (k + 1) * dd),
        d,
        whitened.subarray(k * d),
        z,
      );
      matVec(covariances.subarray(k * dd, (k + 1) * dd), d, z, sigmaZ);
      for (let j = 0; j < d; j++) out[i * d + j] += r * (means[k * d + j] + s * sigmaZ[j]);
    }
  }
  return { shape: [n, d], data: out };
};

/**
 * The posterior responsibilities r_k(x) = w_k·N(x; μ_k, Σ_k) / p(x) of each component for each point (Bishop
 * 2006, eq. 9.13): row i holds the K probabilities that x_i came from component k. The most responsible
 * component classifies a sample, which is how sampler tests recover mixture weights.
 *
 * @param gm - the mixture (use {@link mixtureAtNoise} for the marginal p_t).
 * @param x - points, shape [n, d] with d = `gm.dim`.
 * @returns r_k(x_i), shape [n, K]; each row sums to 1.
 * @category Oracle
 */
export const mixtureResponsibilities = (gm: GaussianMixture, x: Tensor64): Tensor64 => {
  const { dim: d, components: K } = gm;
  const n = x.shape[0];
  const whitened = new Float64Array(K * d);
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    posterior(gm, x.data.subarray(i * d, (i + 1) * d), whitened, out.subarray(i * K, (i + 1) * K));
  }
  return { shape: [n, K], data: out };
};

/**
 * The Laplacian of the log-density of a Gaussian mixture, i.e. the divergence of its score, in closed form:
 *
 *   ∇·∇ log p(x) = tr ∇² log p(x) = Σ_k r_k·(|g_k|² − tr Σ_k⁻¹) − |Σ_k r_k·g_k|²,  g_k = −Σ_k⁻¹(x − μ_k),
 *
 * with the responsibilities r_k(x) = w_k·N(x; μ_k, Σ_k)/p(x). Derivation: ∇ log p = Σ_k r_k·g_k with
 * ∇g_k = −Σ_k⁻¹ and ∇r_k = r_k·(g_k − Σ_j r_j·g_j) (Bishop 2006, "Pattern Recognition and Machine Learning",
 * eq. 9.13 for r_k), so ∇² log p = Σ_k r_k·(−Σ_k⁻¹ + g_k·g_kᵀ) − s·sᵀ with s = ∇ log p; take the trace. With
 * Σ_k = L_k·L_kᵀ, g_k = −L_k⁻ᵀ·y_k for y_k = L_k⁻¹(x − μ_k), and tr Σ_k⁻¹ = ‖L_k⁻¹‖_F².
 *
 * @param gm - the mixture (its marginal at time t for the score of p_t: `oracle.marginal(t)`).
 * @param x - points, shape [n, d] with d = `gm.dim`.
 * @returns tr ∇² log p(x_r) for each row r, length n.
 * @category Oracle
 */
export const mixtureScoreDivergence = (gm: GaussianMixture, x: Tensor64): Float64Array => {
  const { dim: d, components: K, choleskyFactors } = gm;
  const dd = d * d;
  // tr Σ_k⁻¹ = ‖L_k⁻¹‖_F², column by column.
  const traces = new Float64Array(K);
  const column = new Float64Array(d);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < d; j++) {
      column.fill(0);
      column[j] = 1;
      solveLower(choleskyFactors.subarray(k * dd, (k + 1) * dd), d, column, column);
      for (let i = 0; i < d; i++) traces[k] += column[i] * column[i];
    }
  }
  const n = x.shape[0];
  const whitened = new Float64Array(K * d);
  const responsibilities = new Float64Array(K);
  const g = new Float64Array(d);
  const score = new Float64Array(d);
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    posterior(gm, x.data.subarray(r * d, (r + 1) * d), whitened, responsibilities);
    score.fill(0);
    let acc = 0;
    for (let k = 0; k < K; k++) {
      const responsibility = responsibilities[k];
      if (responsibility === 0) continue;
      solveLowerTransposed(choleskyFactors.subarray(k * dd, (k + 1) * dd), d, whitened.subarray(k * d), g);
      let squared = 0;
      for (let i = 0; i < d; i++) {
        squared += g[i] * g[i];
        score[i] -= responsibility * g[i];
      }
      acc += responsibility * (squared - traces[k]);
    }
    let scoreSquared = 0;
    for (let i = 0; i < d; i++) scoreSquared += score[i] * score[i];
    out[r] = acc - scoreSquared;
  }
  return out;
};
