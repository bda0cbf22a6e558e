import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, foldIn, rngKey } from "../../src/core/rng.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import {
  componentFrequencies,
  sampleCovariance,
  sampleMean,
  slicedWasserstein2,
  wasserstein2SquaredSorted,
} from "../../src/metrics/index.js";
import { gaussianMixture } from "../../src/oracle/mixture.js";
import { sampleMixture, sampleMixtureLabels } from "../../src/oracle/sample.js";

const points = (rows: number[][]): Tensor64 => ({
  shape: [rows.length, rows[0].length],
  data: Float64Array.from(rows.flat()),
});

describe("sample moments", () => {
  it("match hand-computed values", () => {
    const x = points([
      [1, 2],
      [3, 0],
      [5, 4],
    ]);
    expect(Array.from(sampleMean(x))).toEqual([3, 2]);
    // deviations (−2, 0), (0, −2), (2, 2): S = [[8, 4], [4, 8]] / 2.
    expect(Array.from(sampleCovariance(x))).toEqual([4, 2, 2, 4]);
  });

  it("recover mixture weights from well-separated samples", () => {
    const gm = orThrow(
      gaussianMixture({
        weights: [0.2, 0.8],
        means: [
          [-5, 0],
          [5, 0],
        ],
        variances: 0.5,
      }),
    );
    const key = orThrow(rngKey(3));
    const x = sampleMixture(gm, key, 5000);
    const labels = sampleMixtureLabels(gm, key, 5000);
    const truth = labels.filter((l) => l === 0).length / 5000;
    expect(componentFrequencies(gm, x)[0]).toBeCloseTo(truth, 12);
  });
});

describe("Wasserstein-2", () => {
  it("is exact on the line for unequal sizes", () => {
    // F⁻¹ of {0, 1}: 0 on [0, ½), 1 on [½, 1); G⁻¹ of {0, 0.5, 1}: 0, 0.5, 1 on thirds.
    // ∫(F⁻¹ − G⁻¹)² = (1/6)(0.5)² + (1/6)(0.5)² = 1/12.
    expect(wasserstein2SquaredSorted([0, 1], [0, 0.5, 1])).toBeCloseTo(1 / 12, 15);
    expect(wasserstein2SquaredSorted([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(wasserstein2SquaredSorted([0, 0], [3])).toBe(9);
  });

  it("of a translation by c equals √(mean over the directions of (θᵀc)²)", () => {
    const key = orThrow(rngKey(5));
    const n = 300;
    const d = 3;
    const x = { shape: [n, d], data: fillNormal(foldIn(key, 99), new Float64Array(n * d)) };
    const c = [1, -2, 0.5];
    const y = { shape: [n, d], data: x.data.map((v, i) => v + c[i % d]) };
    const theta = new Float64Array(d);
    let expected = 0;
    for (let k = 0; k < 64; k++) {
      fillNormal(foldIn(key, k), theta);
      const norm = Math.hypot(...theta);
      expected += ((theta[0] * c[0] + theta[1] * c[1] + theta[2] * c[2]) / norm) ** 2 / 64;
    }
    expect(slicedWasserstein2(x, y, key, 64)).toBeCloseTo(Math.sqrt(expected), 10);
    expect(slicedWasserstein2(x, x, key, 64)).toBe(0);
  });
});
