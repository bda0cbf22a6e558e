import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { foldIn, rngKey } from "../../src/core/rng.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import {
  type GaussianMixture,
  gaussianMixture,
  mixtureAtNoise,
  mixtureCovariance,
  mixtureMean,
  mixturePosteriorMean,
  randomMixture,
  ringMixture,
  sampleMixture,
  sampleMixtureAtNoise,
  sampleMixtureLabels,
} from "../../src/oracle/index.js";

/** Monte-Carlo size: 4 standard errors of a mean are then 4/√20000 ≈ 2.8 % of a standard deviation. */
const N = 20_000;
const key = orThrow(rngKey(2024));
const ring = orThrow(ringMixture());
const random3d = orThrow(randomMixture(orThrow(rngKey(99)), { dim: 3, components: 3 }));

/**
 * Checks the sample mean and covariance of `x` against the exact mean m and covariance C: each mean within
 * 4·√(C_ii/n), each covariance entry (centred at the exact m) within 4 empirical standard errors
 * √(Var[(x_i − m_i)(x_j − m_j)]/n).
 */
const expectMoments = (x: Tensor64, m: Float64Array, c: Float64Array): void => {
  const [n, d] = x.shape;
  for (let i = 0; i < d; i++) {
    let sum = 0;
    for (let r = 0; r < n; r++) sum += x.data[r * d + i];
    expect(Math.abs(sum / n - m[i])).toBeLessThan(4 * Math.sqrt(c[i * d + i] / n));
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      let sumSq = 0;
      for (let r = 0; r < n; r++) {
        const p = (x.data[r * d + i] - m[i]) * (x.data[r * d + j] - m[j]);
        sum += p;
        sumSq += p * p;
      }
      const mean = sum / n;
      const standardError = Math.sqrt((sumSq / n - mean * mean) / n);
      expect(Math.abs(mean - c[i * d + j])).toBeLessThan(4 * standardError);
    }
  }
};

describe("sampleMixture: exact samples", () => {
  it.each([
    ["the 8-Gaussian ring", ring],
    ["a random 3-D full-covariance mixture", random3d],
  ])("%s: mean and covariance within 4 standard errors", (_, gm: GaussianMixture) => {
    const x = sampleMixture(gm, key, N);
    expect(x.shape).toEqual([N, gm.dim]);
    expectMoments(x, mixtureMean(gm), mixtureCovariance(gm));
  });

  it("component frequencies within 4 binomial standard errors", () => {
    for (const gm of [ring, random3d]) {
      const labels = sampleMixtureLabels(gm, key, N);
      const counts = new Float64Array(gm.components);
      for (const k of labels) counts[k] += 1;
      for (let k = 0; k < gm.components; k++) {
        const w = gm.weights[k];
        expect(Math.abs(counts[k] / N - w)).toBeLessThan(4 * Math.sqrt((w * (1 - w)) / N));
      }
    }
  });

  it("labels are the components the points were drawn from (well-separated ring: nearest mean)", () => {
    // Neighbouring means are 2·2·sin(π/8) ≈ 1.53 apart, 7.6 standard deviations from the midpoint.
    const x = sampleMixture(ring, key, 2000);
    const labels = sampleMixtureLabels(ring, key, 2000);
    for (let i = 0; i < 2000; i++) {
      let best = 0;
      for (let k = 1; k < 8; k++) {
        const dk = Math.hypot(x.data[2 * i] - ring.means[2 * k], x.data[2 * i + 1] - ring.means[2 * k + 1]);
        const db = Math.hypot(
          x.data[2 * i] - ring.means[2 * best],
          x.data[2 * i + 1] - ring.means[2 * best + 1],
        );
        if (dk < db) best = k;
      }
      expect(best).toBe(labels[i]);
    }
  });

  it("never picks a zero-weight component", () => {
    const gm = orThrow(gaussianMixture({ weights: [0.5, 0, 0.5], means: [[0], [1], [2]], variances: 1 }));
    expect(sampleMixtureLabels(gm, key, 5000).includes(1)).toBe(false);
  });
});

describe("sampleMixture: keyed, batch-size independent", () => {
  it("the first m rows of a batch of n equal a batch of m, bit for bit", () => {
    const big = sampleMixture(random3d, key, 1000);
    const small = sampleMixture(random3d, key, 137);
    expect(Array.from(big.data.subarray(0, 137 * 3))).toEqual(Array.from(small.data));
    expect(Array.from(sampleMixtureLabels(random3d, key, 1000).subarray(0, 137))).toEqual(
      Array.from(sampleMixtureLabels(random3d, key, 137)),
    );
  });

  it("same key ⇒ same output; another key ⇒ another output", () => {
    expect(sampleMixture(ring, key, 50)).toEqual(sampleMixture(ring, key, 50));
    expect(Array.from(sampleMixture(ring, foldIn(key, 1), 50).data)).not.toEqual(
      Array.from(sampleMixture(ring, key, 50).data),
    );
  });
});

describe("sampleMixtureAtNoise: the forward-noised data", () => {
  const perturbations = [
    ["VE-like s = 1, σ = t at t = 0.8", { scale: 1, std: 0.8 }],
    [
      "VP-like s = e^−t, σ = √(1 − e^−2t) at t = 0.5",
      { scale: Math.exp(-0.5), std: Math.sqrt(1 - Math.exp(-1)) },
    ],
  ] as const;

  it.each(perturbations)("%s: mean and covariance of the closed-form marginal", (_, perturbation) => {
    for (const gm of [ring, random3d]) {
      const marginal = orThrow(mixtureAtNoise(gm, perturbation));
      expectMoments(
        sampleMixtureAtNoise(gm, perturbation, key, N),
        mixtureMean(marginal),
        mixtureCovariance(marginal),
      );
    }
  });

  it("is s·x_0 + σ·ε with x_0 = sampleMixture and ε standard normal, independent of x_0", () => {
    const [s, std] = [0.6, 0.9];
    const x0 = sampleMixture(random3d, key, N);
    const xt = sampleMixtureAtNoise(random3d, { scale: s, std }, key, N);
    const eps = xt.data.map((v, i) => (v - s * x0.data[i]) / std);
    // ε has mean 0, covariance I, and zero correlation with x_0 (every standard error ≤ ~√(Var/n)).
    const identity = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
    expectMoments({ shape: [N, 3], data: eps }, new Float64Array(3), identity);
    const m0 = mixtureMean(random3d);
    const c0 = mixtureCovariance(random3d);
    for (let i = 0; i < 3; i++) {
      let cross = 0;
      for (let r = 0; r < N; r++) cross += eps[3 * r + i] * (x0.data[3 * r + i] - m0[i]);
      expect(Math.abs(cross / N)).toBeLessThan(4 * Math.sqrt(c0[4 * i] / N));
    }
  });

  it("at s = 1, σ = 0 is sampleMixture bit for bit", () => {
    expect(sampleMixtureAtNoise(ring, { scale: 1, std: 0 }, key, 100)).toEqual(sampleMixture(ring, key, 100));
  });
});

describe("the posterior mean against coupled samples", () => {
  it("x_0 − E[x_0 | x_t] has mean 0 and is orthogonal to x_t (4 standard errors)", () => {
    const perturbation = { scale: 0.8, std: 0.7 };
    const x0 = sampleMixture(random3d, key, N);
    const xt = sampleMixtureAtNoise(random3d, perturbation, key, N);
    const denoised = mixturePosteriorMean(random3d, perturbation, xt);
    for (let i = 0; i < 3; i++) {
      for (const weight of [() => 1, (r: number) => xt.data[3 * r + i]]) {
        let sum = 0;
        let sumSq = 0;
        for (let r = 0; r < N; r++) {
          const v = (x0.data[3 * r + i] - denoised.data[3 * r + i]) * weight(r);
          sum += v;
          sumSq += v * v;
        }
        const mean = sum / N;
        expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt((sumSq / N - mean * mean) / N));
      }
    }
  });
});
