/**
 * Two data-generating mixtures for tests and benchmarks: the 2-D ring of Gaussians (the "8 Gaussians" toy
 * data set of the score-matching and flow literature) and a seeded random mixture in any dimension with
 * well-conditioned full covariances.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "../core/errors.js";
import { fillNormal, fillUniform, foldIn, type RngKey } from "../core/rng.js";
import { checkAll, isNonNegative, isPositive, isPositiveInteger } from "../core/validate.js";
import { type GaussianMixture, gaussianMixture } from "./mixture.js";

/**
 * Options of {@link ringMixture}.
 *
 * @category Oracle
 */
export interface RingMixtureOptions {
  /** The number K ≥ 1 of components; default 8. */
  readonly components?: number;
  /** The radius r ≥ 0 of the circle of means; default 2. */
  readonly radius?: number;
  /** The isotropic standard deviation > 0 of every component; default 0.1. */
  readonly std?: number;
}

/**
 * K equally weighted isotropic Gaussians on a circle in ℝ²:
 * p = (1/K)·Σ_k N((r·cos 2πk/K, r·sin 2πk/K), std²·I). The defaults K = 8, r = 2, std = 0.1 give a sharp
 * version of the "8 Gaussians" toy data of the density-estimation literature (Grathwohl et al. 2019, "FFJORD",
 * ICLR, toy experiments, which use r = 2√2 and std ≈ 0.35): well-separated modes that expose mode dropping.
 *
 * @param options - K ≥ 1, r ≥ 0, std > 0; see {@link RingMixtureOptions}.
 * @category Oracle
 */
export const ringMixture = (options: RingMixtureOptions = {}): E.Either<ScoreflowError, GaussianMixture> => {
  const { components = 8, radius = 2, std = 0.1 } = options;
  const valid = checkAll("ringMixture", [
    ["components", components, isPositiveInteger],
    ["radius", radius, isNonNegative],
    ["std", std, isPositive],
  ]);
  if (E.isLeft(valid)) return valid;
  const means = Array.from({ length: components }, (_, k) => {
    const angle = (2 * Math.PI * k) / components;
    return [radius * Math.cos(angle), radius * Math.sin(angle)];
  });
  return gaussianMixture({
    weights: new Array<number>(components).fill(1 / components),
    means,
    variances: std * std,
  });
};

/**
 * Options of {@link randomMixture}.
 *
 * @category Oracle
 */
export interface RandomMixtureOptions {
  /** The dimension d ≥ 1. */
  readonly dim: number;
  /** The number K ≥ 1 of components. */
  readonly components: number;
}

/**
 * A random Gaussian mixture in ℝ^d with full covariances, a pure function of the key. Component k uses the
 * key r = foldIn(key, k) only: weight w_k ∝ 1 + u_k with u_k ~ U(0, 1) from foldIn(r, 0) (so no weight is
 * below half of another), mean μ_k ~ N(0, 4·I) from foldIn(r, 1), and covariance
 * Σ_k = 0.1·I + ½·A_k·A_kᵀ/d with A_k a d × d standard normal matrix from foldIn(r, 2) — every eigenvalue is
 * ≥ 0.1, and ≤ 0.1 + ½·‖A_k‖²/d ≈ 2.1 typically (the largest singular value of A_k is ≈ 2√d, Edelman 1988,
 * "Eigenvalues and condition numbers of random matrices", SIAM J. Matrix Anal. Appl.), so Σ_k is
 * well-conditioned.
 *
 * @param key - the key; the same key gives the same mixture.
 * @param options - d ≥ 1 and K ≥ 1; see {@link RandomMixtureOptions}.
 * @category Oracle
 */
export const randomMixture = (
  key: RngKey,
  options: RandomMixtureOptions,
): E.Either<ScoreflowError, GaussianMixture> => {
  const { dim: d, components: K } = options;
  const valid = checkAll("randomMixture", [
    ["dim", d, isPositiveInteger],
    ["components", K, isPositiveInteger],
  ]);
  if (E.isLeft(valid)) return valid;
  const raw = new Float64Array(K);
  const means: Float64Array[] = [];
  const covariances: Float64Array[] = [];
  for (let k = 0; k < K; k++) {
    const r = foldIn(key, k);
    raw[k] = 1 + fillUniform(foldIn(r, 0), new Float64Array(1))[0];
    means.push(fillNormal(foldIn(r, 1), new Float64Array(d)).map((z) => 2 * z));
    const a = fillNormal(foldIn(r, 2), new Float64Array(d * d));
    const sigma = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        let acc = 0;
        for (let m = 0; m < d; m++) acc += a[i * d + m] * a[j * d + m];
        const v = (0.5 * acc) / d + (i === j ? 0.1 : 0);
        sigma[i * d + j] = v;
        sigma[j * d + i] = v;
      }
    }
    covariances.push(sigma);
  }
  const total = raw.reduce((acc, w) => acc + w, 0);
  return gaussianMixture({ weights: raw.map((w) => w / total), means, covariances });
};
