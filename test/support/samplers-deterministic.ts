/**
 * Fixtures and checks shared by the tests of the deterministic samplers (probability flow, EDM, DPM-Solver++):
 * the oracle models, the two data mixtures, and a distribution check with tolerances from the sample size.
 */
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { type Tensor64, tensorSpace, zeros64 } from "../../src/core/tensor.js";
import { componentFrequencies, sampleCovariance, sampleMean } from "../../src/metrics/index.js";
import {
  type GaussianMixture,
  mixtureCovariance,
  mixtureMean,
  mixtureOracle,
  randomMixture,
  ringMixture,
} from "../../src/oracle/index.js";
import type { TimeModel } from "../../src/samplers/model.js";
import type { LinearSde } from "../../src/sde/index.js";

/** The state space of every sampler test: float64 tensors of shape [n, d]. */
export const space = tensorSpace<Float64Array>();

/** The 2-D ring of 8 Gaussians (radius 2, std 0.1): well-separated modes that expose mode dropping. */
export const ring = orThrow(ringMixture());

/** A random 16-D mixture of 3 full-covariance Gaussians (means ~ N(0, 4I): well separated in 16-D). */
export const mixture16 = orThrow(randomMixture(orThrow(rngKey(3)), { dim: 16, components: 3 }));

/** The exact score of `gm` under `sde` as a score-parameterized model. */
export const scoreModel = (sde: LinearSde, gm: GaussianMixture): TimeModel<Tensor64> => ({
  parameterization: "score",
  predict: mixtureOracle(sde, gm).score,
});

/** A standard normal draw of shape [n, d] from the seed. */
export const standardNoise = (seed: number, n: number, d: number): Tensor64 =>
  space.normalLike(orThrow(rngKey(seed)), zeros64([n, d]));

/** The largest absolute componentwise difference. */
export const maxAbsDiff = (a: Tensor64, b: Tensor64): number => {
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
  return worst;
};

/** The least-squares slope of log(error) against log(steps). */
export const logLogSlope = (steps: readonly number[], errors: readonly number[]): number => {
  const x = steps.map(Math.log);
  const y = errors.map(Math.log);
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxy / sxx;
};

/** Allowances for a sampler's discretization bias, added to the Monte-Carlo tolerance. */
export interface Bias {
  /** On each coordinate of the mean. */
  readonly mean: number;
  /** On each entry of the covariance. */
  readonly cov: number;
  /** On each mixture weight. */
  readonly weights: number;
}

/** Standard errors allowed: with ≈ 100 checks per distribution, P(any |z| > 4.5) ≈ 10⁻³ for an exact sampler. */
const Z = 4.5;

/**
 * The checks a sample of n points fails against the exact distribution `target`: each mean coordinate within
 * Z·√(C_jj/n), each covariance entry within Z·SE (SE the sample standard deviation of (x_a − x̄_a)(x_b − x̄_b)
 * over √n, a plug-in estimate valid for any distribution with fourth moments), each mixture weight (the
 * frequency of the most responsible component) within Z·√(w(1 − w)/n) — plus the sampler's bias allowance.
 * Returns the list of violations (empty when the sample passes), so a failure names every entry that broke.
 */
export const distributionViolations = (y: Tensor64, target: GaussianMixture, bias: Bias): string[] => {
  const [n, d] = y.shape;
  const m = sampleMean(y);
  const s = sampleCovariance(y);
  const mu = mixtureMean(target);
  const c = mixtureCovariance(target);
  const out: string[] = [];
  for (let j = 0; j < d; j++) {
    const tol = Z * Math.sqrt(c[j * d + j] / n) + bias.mean;
    if (!(Math.abs(m[j] - mu[j]) <= tol)) out.push(`mean[${j}]=${m[j]} vs ${mu[j]} (tol ${tol})`);
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      let sum = 0;
      let sum2 = 0;
      for (let i = 0; i < n; i++) {
        const v = (y.data[i * d + a] - m[a]) * (y.data[i * d + b] - m[b]);
        sum += v;
        sum2 += v * v;
      }
      const se = Math.sqrt((sum2 / n - (sum / n) ** 2) / n);
      const tol = Z * se + bias.cov;
      const k = a * d + b;
      if (!(Math.abs(s[k] - c[k]) <= tol)) out.push(`cov[${a}][${b}]=${s[k]} vs ${c[k]} (tol ${tol})`);
    }
  }
  const f = componentFrequencies(target, y);
  for (let k = 0; k < target.components; k++) {
    const w = target.weights[k];
    const tol = Z * Math.sqrt((w * (1 - w)) / n) + bias.weights;
    if (!(Math.abs(f[k] - w) <= tol)) out.push(`weight[${k}]=${f[k]} vs ${w} (tol ${tol})`);
  }
  return out;
};
