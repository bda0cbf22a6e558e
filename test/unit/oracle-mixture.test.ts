import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import {
  type GaussianMixtureParams,
  gaussianMixture,
  mixtureCovariance,
  mixtureMean,
  randomMixture,
  ringMixture,
} from "../../src/oracle/index.js";

const key = orThrow(rngKey(7));

describe("gaussianMixture: construction", () => {
  it("stores flat means, symmetric covariances, Cholesky factors and log-determinants", () => {
    const gm = orThrow(
      gaussianMixture({
        weights: [0.25, 0.75],
        means: [
          [0, 1],
          [2, -1],
        ],
        covariances: [
          [
            [4, 2],
            [2, 5],
          ],
          Float64Array.of(1, 0, 0, 9),
        ],
      }),
    );
    expect(gm.dim).toBe(2);
    expect(gm.components).toBe(2);
    expect(Array.from(gm.means)).toEqual([0, 1, 2, -1]);
    expect(Array.from(gm.covariances)).toEqual([4, 2, 2, 5, 1, 0, 0, 9]);
    // [[4,2],[2,5]] = L·Lᵀ with L = [[2,0],[1,2]]; diag(1, 9) has L = diag(1, 3).
    expect(Array.from(gm.choleskyFactors)).toEqual([2, 0, 1, 2, 1, 0, 0, 3]);
    expect(gm.logDeterminants[0]).toBeCloseTo(Math.log(16), 14);
    expect(gm.logDeterminants[1]).toBeCloseTo(Math.log(9), 14);
    expect(Array.from(gm.logWeights)).toEqual([Math.log(0.25), Math.log(0.75)]);
  });

  it("accepts isotropic, per-component isotropic and diagonal variances", () => {
    const means = [
      [0, 0, 0],
      [1, 1, 1],
    ];
    const shared = orThrow(gaussianMixture({ weights: [0.5, 0.5], means, variances: 2 }));
    const perComponent = orThrow(gaussianMixture({ weights: [0.5, 0.5], means, variances: [2, [1, 2, 3]] }));
    const eye = (v: readonly number[]) => [v[0], 0, 0, 0, v[1], 0, 0, 0, v[2]];
    expect(Array.from(shared.covariances)).toEqual([...eye([2, 2, 2]), ...eye([2, 2, 2])]);
    expect(Array.from(perComponent.covariances)).toEqual([...eye([2, 2, 2]), ...eye([1, 2, 3])]);
  });

  it("renormalizes weights that sum to 1 within 1e-9, keeps zero weights as −∞ log-weights", () => {
    const gm = orThrow(
      gaussianMixture({ weights: [0.5 + 4e-10, 0.5, 0], means: [[0], [1], [2]], variances: 1 }),
    );
    expect(gm.weights[0] + gm.weights[1] + gm.weights[2]).toBeCloseTo(1, 15);
    expect(gm.logWeights[2]).toBe(Number.NEGATIVE_INFINITY);
  });

  it("symmetrizes a covariance that is symmetric to rounding", () => {
    const gm = orThrow(
      gaussianMixture({ weights: [1], means: [[0, 0]], covariances: [[2, 1 + 1e-13, 1, 2]] }),
    );
    expect(gm.covariances[1]).toBe(gm.covariances[2]);
  });
});

describe("gaussianMixture: bad input is a Left naming the field", () => {
  const good: GaussianMixtureParams = {
    weights: [0.4, 0.6],
    means: [
      [0, 0],
      [1, 1],
    ],
    covariances: [
      [1, 0, 0, 1],
      [2, 0.5, 0.5, 1],
    ],
  };
  const cases: ReadonlyArray<readonly [string, GaussianMixtureParams, string]> = [
    ["K = 0", { ...good, weights: [], means: [] }, "weights"],
    ["NaN weight", { ...good, weights: [Number.NaN, 0.6] }, "weights[0]"],
    ["infinite weight", { ...good, weights: [0.4, Number.POSITIVE_INFINITY] }, "weights[1]"],
    ["negative weight", { ...good, weights: [-0.4, 1.4] }, "weights[0]"],
    ["weights not summing to 1", { ...good, weights: [0.4, 0.5] }, "weights"],
    ["one mean missing", { ...good, means: [[0, 0]] }, "means"],
    ["zero-dimensional means", { ...good, means: [[], []] }, "means[0]"],
    ["means of different lengths", { ...good, means: [[0, 0], [1]] }, "means[1]"],
    [
      "NaN mean",
      {
        ...good,
        means: [
          [0, 0],
          [1, Number.NaN],
        ],
      },
      "means[1][1]",
    ],
    [
      "infinite mean",
      {
        ...good,
        means: [
          [Number.NEGATIVE_INFINITY, 0],
          [1, 1],
        ],
      },
      "means[0][0]",
    ],
    ["neither covariances nor variances", { weights: good.weights, means: good.means }, "covariances"],
    ["both covariances and variances", { ...good, variances: 1 }, "covariances"],
    ["one covariance missing", { ...good, covariances: [[1, 0, 0, 1]] }, "covariances"],
    ["covariance of the wrong size", { ...good, covariances: [[1, 0, 0, 1], [1]] }, "covariances[1]"],
    [
      "covariance row of the wrong size",
      {
        ...good,
        covariances: [
          [1, 0, 0, 1],
          [[1, 0], [0]],
        ],
      },
      "covariances[1][1]",
    ],
    [
      "NaN covariance entry",
      {
        ...good,
        covariances: [
          [1, 0, 0, 1],
          [1, Number.NaN, 0, 1],
        ],
      },
      "covariances[1][1]",
    ],
    [
      "asymmetric covariance",
      {
        ...good,
        covariances: [
          [1, 0, 0, 1],
          [1, 0.5, 0.4, 1],
        ],
      },
      "covariances[1][1][0]",
    ],
    [
      "indefinite covariance",
      {
        ...good,
        covariances: [
          [1, 0, 0, 1],
          [1, 2, 2, 1],
        ],
      },
      "covariances[1]",
    ],
    [
      "singular covariance",
      {
        ...good,
        covariances: [
          [1, 1, 1, 1],
          [1, 0, 0, 1],
        ],
      },
      "covariances[0]",
    ],
    ["negative variance", { weights: good.weights, means: good.means, variances: -1 }, "variances"],
    ["zero variance", { weights: good.weights, means: good.means, variances: [1, 0] }, "variances[1]"],
    [
      "NaN diagonal variance",
      { weights: good.weights, means: good.means, variances: [1, [1, Number.NaN]] },
      "variances[1][1]",
    ],
    [
      "negative diagonal variance",
      { weights: good.weights, means: good.means, variances: [[1, -1], 1] },
      "variances[0][1]",
    ],
    [
      "diagonal variance of the wrong size",
      { weights: good.weights, means: good.means, variances: [[1], 1] },
      "variances[0]",
    ],
    [
      "variances not one per component",
      { weights: good.weights, means: good.means, variances: [1] },
      "variances",
    ],
  ];

  it("accepts the reference input", () => {
    expect(E.isRight(gaussianMixture(good))).toBe(true);
  });

  it.each(cases)("%s", (_, params, field) => {
    const result = gaussianMixture(params);
    expect(E.isLeft(result)).toBe(true);
    if (E.isLeft(result)) {
      expect(result.left.context).toBe("Gaussian mixture");
      expect(result.left.field).toBe(field);
      expect(result.left.message).toContain(`${field} `);
    }
  });

  it("reads like the library's other errors", () => {
    const result = gaussianMixture({
      ...good,
      covariances: [
        [1, 0, 0, 1],
        [1, 2, 2, 1],
      ],
    });
    expect(E.isLeft(result) && result.left.message).toBe(
      "Gaussian mixture: covariances[1] must be symmetric positive definite (Cholesky failed), got covariances[1]=[1, 2, 2, 1]",
    );
  });
});

describe("mixture moments", () => {
  it("match the hand-computed mean and variance of a 1-D two-component mixture", () => {
    // m = 0.3·(−1) + 0.7·2 = 1.1; Var = 0.3·(0.5 + 2.1²) + 0.7·(2 + 0.9²) = 3.44.
    const gm = orThrow(gaussianMixture({ weights: [0.3, 0.7], means: [[-1], [2]], variances: [0.5, 2] }));
    expect(mixtureMean(gm)[0]).toBeCloseTo(1.1, 14);
    expect(mixtureCovariance(gm)[0]).toBeCloseTo(3.44, 14);
  });

  it("of one component are its mean and covariance", () => {
    const gm = orThrow(gaussianMixture({ weights: [1], means: [[1, 2]], covariances: [[2, 0.3, 0.3, 1]] }));
    expect(Array.from(mixtureMean(gm))).toEqual([1, 2]);
    expect(Array.from(mixtureCovariance(gm))).toEqual([2, 0.3, 0.3, 1]);
  });
});

describe("presets", () => {
  it("ringMixture: K equal weights on a circle, mean 0, covariance (r²/2 + std²)·I", () => {
    const gm = orThrow(ringMixture());
    expect(gm.dim).toBe(2);
    expect(gm.components).toBe(8);
    for (let k = 0; k < 8; k++) {
      expect(gm.weights[k]).toBe(1 / 8);
      expect(Math.hypot(gm.means[2 * k], gm.means[2 * k + 1])).toBeCloseTo(2, 14);
    }
    const mean = mixtureMean(gm);
    const cov = mixtureCovariance(gm);
    expect(Math.abs(mean[0]) + Math.abs(mean[1])).toBeLessThan(1e-15);
    expect(cov[0]).toBeCloseTo(2 + 0.01, 14);
    expect(cov[3]).toBeCloseTo(2 + 0.01, 14);
    expect(cov[1]).toBeCloseTo(0, 14);
  });

  it("ringMixture rejects bad options", () => {
    const fields = [
      [{ components: 0 }, "components"],
      [{ components: 2.5 }, "components"],
      [{ radius: -1 }, "radius"],
      [{ std: 0 }, "std"],
      [{ std: Number.NaN }, "std"],
    ] as const;
    for (const [options, field] of fields) {
      const result = ringMixture(options);
      expect(E.isLeft(result) && result.left.field).toBe(field);
    }
  });

  it("randomMixture: deterministic in the key, full covariances with eigenvalues ≥ 0.1", () => {
    const a = orThrow(randomMixture(key, { dim: 4, components: 3 }));
    const b = orThrow(randomMixture(key, { dim: 4, components: 3 }));
    const other = orThrow(randomMixture(orThrow(rngKey(8)), { dim: 4, components: 3 }));
    expect(a).toEqual(b);
    expect(Array.from(other.means)).not.toEqual(Array.from(a.means));
    expect(a.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 15);
    expect(Math.max(...a.weights) / Math.min(...a.weights)).toBeLessThanOrEqual(2);
    // Σ − 0.1·I = ½·A·Aᵀ/d is positive semi-definite: every xᵀ(Σ − 0.1·I)x ≥ 0 on a few directions.
    for (let k = 0; k < 3; k++) {
      const sigma = a.covariances.subarray(16 * k, 16 * (k + 1));
      expect(sigma[1]).not.toBe(0);
      for (const x of [
        [1, 0, 0, 0],
        [1, -1, 1, -1],
        [0.3, 2, -1, 0.5],
      ]) {
        let q = 0;
        for (let i = 0; i < 4; i++)
          for (let j = 0; j < 4; j++) q += x[i] * (sigma[4 * i + j] - (i === j ? 0.1 : 0)) * x[j];
        expect(q).toBeGreaterThanOrEqual(-1e-12);
      }
    }
  });

  it("randomMixture: component k depends on the key and k only", () => {
    const small = orThrow(randomMixture(key, { dim: 2, components: 2 }));
    const large = orThrow(randomMixture(key, { dim: 2, components: 5 }));
    expect(Array.from(large.means.subarray(0, 4))).toEqual(Array.from(small.means));
    expect(Array.from(large.covariances.subarray(0, 8))).toEqual(Array.from(small.covariances));
  });

  it("randomMixture rejects bad options", () => {
    const zeroDim = randomMixture(key, { dim: 0, components: 2 });
    const fractional = randomMixture(key, { dim: 2, components: 1.5 });
    expect(E.isLeft(zeroDim) && zeroDim.left.field).toBe("dim");
    expect(E.isLeft(fractional) && fractional.left.field).toBe("components");
  });
});
