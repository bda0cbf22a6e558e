/**
 * Exact, keyed sampling from a Gaussian mixture and from its noised marginal. Row i of every batch is a function
 * of (key, i) alone: with r = foldIn(key, i), the component comes from one uniform of foldIn(r, 0), the
 * standard normal of the component from foldIn(r, 1), and the forward noise ε from foldIn(r, 2). The first m
 * rows of a batch of n therefore equal a batch of m, and x_t row i is the noised x_0 row i.
 *
 * @module
 */
import { fillNormal, fillUniform, foldIn, type RngKey } from "../core/rng.js";
import type { Tensor64 } from "../core/tensor.js";
import { matVec } from "./linalg.js";
import type { GaussianPerturbation } from "./marginal.js";
import type { GaussianMixture } from "./mixture.js";

/** Sub-key tags of a row key: component choice, component normal, forward noise. */
const COMPONENT_TAG = 0;
const NORMAL_TAG = 1;
const NOISE_TAG = 2;

/**
 * The inverse-CDF component sampler of a mixture: k(u) = min{k : u < Σ_{j≤k} w_j} for u ~ U(0, 1), falling back
 * to the last component of positive weight when rounding leaves Σ_j w_j just below u.
 */
const componentSampler = (gm: GaussianMixture): ((u: number) => number) => {
  const cumulative = new Float64Array(gm.components);
  let total = 0;
  let last = 0;
  for (let k = 0; k < gm.components; k++) {
    total += gm.weights[k];
    cumulative[k] = total;
    if (gm.weights[k] > 0) last = k;
  }
  return (u) => {
    for (let k = 0; k < cumulative.length; k++) if (u < cumulative[k]) return k;
    return last;
  };
};

/**
 * Calls `row(i, r, k)` for every row i < n with the row key r = foldIn(key, i) and the component k drawn from
 * foldIn(r, 0).
 */
const forEachRow = (
  gm: GaussianMixture,
  key: RngKey,
  n: number,
  row: (i: number, rowKey: RngKey, k: number) => void,
): void => {
  const choose = componentSampler(gm);
  const u = new Float64Array(1);
  for (let i = 0; i < n; i++) {
    const rowKey = foldIn(key, i);
    row(i, rowKey, choose(fillUniform(foldIn(rowKey, COMPONENT_TAG), u)[0]));
  }
};

/**
 * The latent component labels of {@link sampleMixture}: label i is the k with which row i was drawn,
 * P(k) = w_k (Bishop 2006, "Pattern Recognition and Machine Learning", §9.2: ancestral sampling of the latent
 * z ~ Cat(w)). Same key and index ⇒ same label.
 *
 * @param gm - the mixture.
 * @param key - the batch key; row i uses foldIn(key, i) only.
 * @param n - the number of rows, an integer ≥ 1.
 * @returns labels in [0, K), length n.
 * @category Oracle
 */
export const sampleMixtureLabels = (gm: GaussianMixture, key: RngKey, n: number): Uint32Array => {
  const labels = new Uint32Array(n);
  forEachRow(gm, key, n, (i, _rowKey, k) => {
    labels[i] = k;
  });
  return labels;
};

/**
 * Exact samples of a Gaussian mixture by ancestral sampling (Bishop 2006, §9.2 and §11.1.1): draw the component
 * k ~ Cat(w) by inverse CDF, then x = μ_k + L_k·z with z ~ N(0, I) and Σ_k = L_k·L_kᵀ (so Cov[x | k] = Σ_k).
 * Row i depends on (key, i) only: the first m rows of a batch of n equal a batch of m, bit for bit.
 *
 * @param gm - the mixture.
 * @param key - the batch key; row i uses foldIn(key, i) only.
 * @param n - the number of samples, an integer ≥ 1.
 * @returns samples, shape [n, d].
 * @category Oracle
 */
export const sampleMixture = (gm: GaussianMixture, key: RngKey, n: number): Tensor64 =>
  sampleMixtureAtNoise(gm, { scale: 1, std: 0 }, key, n);

/**
 * Exact samples of the marginal p_t of a Gaussian mixture under x_t = s·x_0 + σ·ε: row i is s·x_0 + σ·ε with
 * x_0 row i of {@link sampleMixture}(gm, key, n) and ε ~ N(0, I) from foldIn(foldIn(key, i), 2), so x_t row i
 * is the forward-noised x_0 row i (Song et al. 2021, "Score-Based Generative Modeling through SDEs", ICLR,
 * App. B: the perturbation kernel of a linear SDE). At s = 1, σ = 0 this is {@link sampleMixture}.
 *
 * @param gm - the data mixture p_0.
 * @param perturbation - s and σ ≥ 0.
 * @param key - the batch key; row i uses foldIn(key, i) only.
 * @param n - the number of samples, an integer ≥ 1.
 * @returns samples of p_t, shape [n, d].
 * @category Oracle
 */
export const sampleMixtureAtNoise = (
  gm: GaussianMixture,
  perturbation: GaussianPerturbation,
  key: RngKey,
  n: number,
): Tensor64 => {
  const { dim: d, means, choleskyFactors } = gm;
  const { scale: s, std } = perturbation;
  const dd = d * d;
  const z = new Float64Array(d);
  const lz = new Float64Array(d);
  const eps = new Float64Array(d);
  const out = new Float64Array(n * d);
  forEachRow(gm, key, n, (i, rowKey, k) => {
    fillNormal(foldIn(rowKey, NORMAL_TAG), z);
    matVec(choleskyFactors.subarray(k * dd, (k + 1) * dd), d, z, lz);
    if (std !== 0) fillNormal(foldIn(rowKey, NOISE_TAG), eps);
    for (let j = 0; j < d; j++) out[i * d + j] = s * (means[k * d + j] + lz[j]) + std * eps[j];
  });
  return { shape: [n, d], data: out };
};
