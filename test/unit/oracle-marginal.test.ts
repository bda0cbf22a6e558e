import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { type Tensor64, tensor } from "../../src/core/tensor.js";
import {
  gaussianMixture,
  mixtureAtNoise,
  mixtureCovariance,
  mixtureLogDensity,
  mixtureMean,
  mixturePosteriorMean,
  mixtureScore,
  randomMixture,
  ringMixture,
} from "../../src/oracle/index.js";

const points = (rows: readonly (readonly number[])[]): Tensor64 =>
  orThrow(tensor([rows.length, rows[0].length], Float64Array.from(rows.flat())));

/** A 2-D Gaussian with Σ = [[2, 0.6], [0.6, 1]]: det Σ = 1.64, Σ⁻¹ = [[1, −0.6], [−0.6, 2]] / 1.64. */
const mu = [1, -1];
const gaussian2d = orThrow(gaussianMixture({ weights: [1], means: [mu], covariances: [[2, 0.6, 0.6, 1]] }));
const inverse = [1 / 1.64, -0.6 / 1.64, -0.6 / 1.64, 2 / 1.64];
const xs = points([
  [0, 0],
  [1, -1],
  [3.5, 2],
  [-4, 7],
]);

/** Trapezoid sum Σ p(x)·h over a uniform grid of a density that vanishes at the ends. */
const gridMass = (logp: Float64Array, cell: number): number =>
  logp.reduce((acc, l) => acc + Math.exp(l), 0) * cell;

describe("log-density and score of one Gaussian", () => {
  it("equal the textbook N(x; μ, Σ) and −Σ⁻¹(x − μ)", () => {
    const logp = mixtureLogDensity(gaussian2d, xs);
    const score = mixtureScore(gaussian2d, xs);
    for (let i = 0; i < 4; i++) {
      const q0 = xs.data[2 * i] - mu[0];
      const q1 = xs.data[2 * i + 1] - mu[1];
      const g0 = inverse[0] * q0 + inverse[1] * q1;
      const g1 = inverse[2] * q0 + inverse[3] * q1;
      const expected = -Math.log(2 * Math.PI) - 0.5 * Math.log(1.64) - 0.5 * (q0 * g0 + q1 * g1);
      expect(logp[i]).toBeCloseTo(expected, 12);
      expect(score.data[2 * i]).toBeCloseTo(-g0, 12);
      expect(score.data[2 * i + 1]).toBeCloseTo(-g1, 12);
    }
    expect(score.shape).toEqual([4, 2]);
  });

  it("with a diagonal covariance factorizes into 1-D normals", () => {
    const variances = [0.5, 1, 2, 4];
    const means = [0.1, -0.2, 0.3, 0];
    const gm = orThrow(gaussianMixture({ weights: [1], means: [means], variances: [variances] }));
    const x = points([[1, 2, -1, 0.5]]);
    let expected = 0;
    for (let j = 0; j < 4; j++) {
      const z = x.data[j] - means[j];
      expected += -0.5 * Math.log(2 * Math.PI * variances[j]) - (0.5 * z * z) / variances[j];
    }
    expect(mixtureLogDensity(gm, x)[0]).toBeCloseTo(expected, 13);
  });

  it("stay finite and exact far in the tails (log-sum-exp)", () => {
    const twin = orThrow(gaussianMixture({ weights: [0.5, 0.5], means: [[0], [0]], variances: 0.01 }));
    const single = orThrow(gaussianMixture({ weights: [1], means: [[0]], variances: 0.01 }));
    const far = points([[50], [-300]]);
    const expected = mixtureLogDensity(single, far);
    expect(expected[0]).toBeCloseTo(-0.5 * Math.log(2 * Math.PI * 0.01) - 125000, 8);
    const logp = mixtureLogDensity(twin, far);
    const score = mixtureScore(twin, far);
    for (let i = 0; i < 2; i++) {
      expect(logp[i]).toBeCloseTo(expected[i], 8);
      expect(score.data[i]).toBeCloseTo(-far.data[i] / 0.01, 8);
    }
  });
});

describe("the densities integrate to 1", () => {
  const oneD = orThrow(
    gaussianMixture({ weights: [0.2, 0.5, 0.3], means: [[-2], [0], [3]], variances: [0.3, 1, 0.05] }),
  );

  it.each([
    [1, 0],
    [0.6, 0.4],
    [1, 3],
  ])("in 1-D at s = %f, σ = %f", (scale, std) => {
    const h = 0.005;
    const grid = points(Array.from({ length: 8001 }, (_, i) => [-20 + i * h]));
    const mass = gridMass(mixtureLogDensity(orThrow(mixtureAtNoise(oneD, { scale, std })), grid), h);
    expect(Math.abs(mass - 1)).toBeLessThan(1e-6);
  });

  it.each([
    ["the 8-Gaussian ring", orThrow(ringMixture()), 4, 0.02],
    [
      "the ring at s = 0.8, σ = 0.3",
      orThrow(mixtureAtNoise(orThrow(ringMixture()), { scale: 0.8, std: 0.3 })),
      5,
      0.04,
    ],
    [
      "a random full-covariance mixture",
      orThrow(randomMixture(orThrow(rngKey(3)), { dim: 2, components: 3 })),
      14,
      0.05,
    ],
  ])("in 2-D: %s", (_, gm, half, h) => {
    const m = Math.round((2 * half) / h) + 1;
    const rows: number[][] = [];
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) rows.push([-half + i * h, -half + j * h]);
    const mass = gridMass(mixtureLogDensity(gm, points(rows)), h * h);
    expect(Math.abs(mass - 1)).toBeLessThan(1e-6);
  });
});

describe("mixtureAtNoise", () => {
  const gm = orThrow(randomMixture(orThrow(rngKey(11)), { dim: 3, components: 4 }));

  it("has mean s·m and covariance s²·C + σ²·I", () => {
    const scale = 0.7;
    const std = 1.3;
    const marginal = orThrow(mixtureAtNoise(gm, { scale, std }));
    const m = mixtureMean(gm);
    const c = mixtureCovariance(gm);
    const mt = mixtureMean(marginal);
    const ct = mixtureCovariance(marginal);
    for (let i = 0; i < 3; i++) expect(mt[i]).toBeCloseTo(scale * m[i], 13);
    for (let i = 0; i < 9; i++)
      expect(ct[i]).toBeCloseTo(scale * scale * c[i] + (i % 4 === 0 ? std * std : 0), 12);
    expect(Array.from(marginal.weights)).toEqual(Array.from(gm.weights));
  });

  it("at s = 1, σ = 0 is the data mixture", () => {
    const same = orThrow(mixtureAtNoise(gm, { scale: 1, std: 0 }));
    expect(Array.from(same.choleskyFactors)).toEqual(Array.from(gm.choleskyFactors));
    expect(Array.from(same.logDeterminants)).toEqual(Array.from(gm.logDeterminants));
  });

  it.each([
    [{ scale: Number.NaN, std: 1 }, "scale"],
    [{ scale: -1, std: 1 }, "scale"],
    [{ scale: Number.POSITIVE_INFINITY, std: 1 }, "scale"],
    [{ scale: 1, std: -0.1 }, "std"],
    [{ scale: 1, std: Number.NaN }, "std"],
    [{ scale: 0, std: 0 }, "perturbed covariances[0]"],
  ])("rejects %o", (perturbation, field) => {
    const result = mixtureAtNoise(gm, perturbation);
    expect(E.isLeft(result) && result.left.field).toBe(field);
  });
});

describe("mixturePosteriorMean", () => {
  it("of one 1-D Gaussian is μ + s·v·(x − s·μ)/(s²·v + σ²)", () => {
    const gm = orThrow(gaussianMixture({ weights: [1], means: [[0.5]], variances: 2 }));
    const [s, std] = [0.7, 0.5];
    const x = points([[-1], [0], [2.5]]);
    const mean = mixturePosteriorMean(gm, { scale: s, std }, x);
    for (let i = 0; i < 3; i++) {
      expect(mean.data[i]).toBeCloseTo(0.5 + (s * 2 * (x.data[i] - s * 0.5)) / (s * s * 2 + std * std), 13);
    }
  });

  it("of one 2-D Gaussian is Bishop's information form (Σ⁻¹ + s²/σ²·I)⁻¹(Σ⁻¹μ + s·x/σ²)", () => {
    const [s, std] = [0.8, 0.6];
    const mean = mixturePosteriorMean(gaussian2d, { scale: s, std }, xs);
    const precision = inverse.map((p, i) => p + (i % 3 === 0 ? (s * s) / (std * std) : 0));
    const det = precision[0] * precision[3] - precision[1] * precision[2];
    for (let i = 0; i < 4; i++) {
      const b0 = inverse[0] * mu[0] + inverse[1] * mu[1] + (s * xs.data[2 * i]) / (std * std);
      const b1 = inverse[2] * mu[0] + inverse[3] * mu[1] + (s * xs.data[2 * i + 1]) / (std * std);
      expect(mean.data[2 * i]).toBeCloseTo((precision[3] * b0 - precision[1] * b1) / det, 12);
      expect(mean.data[2 * i + 1]).toBeCloseTo((precision[0] * b1 - precision[2] * b0) / det, 12);
    }
  });

  const gm = orThrow(randomMixture(orThrow(rngKey(5)), { dim: 3, components: 3 }));
  const x = points([
    [0.3, -1, 2],
    [4, 0, -3],
  ]);

  it("is x/s without noise (σ = 0)", () => {
    const mean = mixturePosteriorMean(gm, { scale: 0.5, std: 0 }, x);
    for (let i = 0; i < 6; i++) expect(mean.data[i]).toBeCloseTo(x.data[i] / 0.5, 12);
  });

  it("tends to the prior mean when σ → ∞", () => {
    const mean = mixturePosteriorMean(gm, { scale: 1, std: 1e7 }, x);
    const prior = mixtureMean(gm);
    for (let i = 0; i < 6; i++) expect(mean.data[i]).toBeCloseTo(prior[i % 3], 6);
  });
});

describe("a zero-weight component", () => {
  it("changes no query", () => {
    const means = [[-1], [1], [4]];
    const withZero = orThrow(gaussianMixture({ weights: [0.3, 0.7, 0], means, variances: [1, 2, 0.5] }));
    const without = orThrow(
      gaussianMixture({ weights: [0.3, 0.7], means: means.slice(0, 2), variances: [1, 2] }),
    );
    const x = points([[-2], [0.5], [4]]);
    const perturbation = { scale: 0.9, std: 0.4 };
    const [a, b] = [withZero, without].map((gm) => orThrow(mixtureAtNoise(gm, perturbation)));
    expect(Array.from(mixtureLogDensity(a, x))).toEqual(Array.from(mixtureLogDensity(b, x)));
    expect(Array.from(mixtureScore(a, x).data)).toEqual(Array.from(mixtureScore(b, x).data));
    expect(Array.from(mixturePosteriorMean(withZero, perturbation, x).data)).toEqual(
      Array.from(mixturePosteriorMean(without, perturbation, x).data),
    );
  });
});
