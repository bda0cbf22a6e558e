/**
 * Sample moments of a batch of points, the first check of any sampler against the exact moments of its target.
 *
 * @module
 */
import type { Tensor64 } from "../core/tensor.js";
import { mixtureResponsibilities } from "../oracle/marginal.js";
import type { GaussianMixture } from "../oracle/mixture.js";

/**
 * The sample mean x̄ = (1/n) Σᵢ xᵢ of points of shape [n, d].
 *
 * @returns x̄, length d.
 * @category Metrics
 */
export const sampleMean = (x: Tensor64): Float64Array => {
  const [n, d] = x.shape;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x.data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  return mean;
};

/**
 * The unbiased sample covariance S = (1/(n − 1)) Σᵢ (xᵢ − x̄)(xᵢ − x̄)ᵀ of points of shape [n, d], n ≥ 2.
 *
 * @returns S, row-major d×d.
 * @category Metrics
 */
export const sampleCovariance = (x: Tensor64): Float64Array => {
  const [n, d] = x.shape;
  const mean = sampleMean(x);
  const cov = new Float64Array(d * d);
  const r = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) r[j] = x.data[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[a * d + b] += r[a] * r[b];
  }
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      cov[a * d + b] /= n - 1;
      cov[b * d + a] = cov[a * d + b];
    }
  return cov;
};

/**
 * The fraction of points whose most responsible mixture component (the maximum of r_k(x), Bishop 2006,
 * eq. 9.13) is k: an estimate of the mixture weights from samples, exact in the limit of well-separated
 * components.
 *
 * @returns the K frequencies, summing to 1.
 * @category Metrics
 */
export const componentFrequencies = (gm: GaussianMixture, x: Tensor64): Float64Array => {
  const K = gm.components;
  const r = mixtureResponsibilities(gm, x).data;
  const n = x.shape[0];
  const counts = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (r[i * K + k] > r[i * K + best]) best = k;
    counts[best] += 1 / n;
  }
  return counts;
};
