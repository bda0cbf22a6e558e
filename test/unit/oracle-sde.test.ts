import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { type Tensor64, tensor } from "../../src/core/tensor.js";
import {
  mixtureAtNoise,
  mixtureLogDensity,
  mixtureOracle,
  mixturePosteriorMean,
  mixtureScore,
  oracleAt,
  randomMixture,
  sampleMixtureAtNoise,
} from "../../src/oracle/index.js";
import type { LinearSde } from "../../src/sde/types.js";

/** VP-like with constant β = 2 (Song et al. 2021, eq. 11): f = −1, g = √2, s = e^−t, σ² = 1 − e^−2t. */
const vpLike: LinearSde = {
  name: "VP-like",
  tMin: 1e-3,
  tMax: 2,
  f: () => -1,
  g: () => Math.SQRT2,
  scale: (t) => Math.exp(-t),
  std: (t) => Math.sqrt(-Math.expm1(-2 * t)),
  timeOfNoiseLevel: (nu) => 0.5 * Math.log1p(nu * nu),
  priorStd: 1,
};

/** VE-like (Song et al. 2021, eq. 9 with σ(t) = t): f = 0, g = √(2t), s = 1, σ = t. */
const veLike: LinearSde = {
  name: "VE-like",
  tMin: 1e-3,
  tMax: 3,
  f: () => 0,
  g: (t) => Math.sqrt(2 * t),
  scale: () => 1,
  std: (t) => t,
  timeOfNoiseLevel: (nu) => nu,
  priorStd: 3,
};

const key = orThrow(rngKey(1));
const gm = orThrow(randomMixture(orThrow(rngKey(17)), { dim: 2, components: 3 }));
const x: Tensor64 = orThrow(tensor([3, 2], Float64Array.of(0.5, -1, 2, 2, -3, 0.25)));

describe("oracleAt", () => {
  it("is the marginal at (s(t), σ(t))", () => {
    const t = 0.7;
    expect(orThrow(oracleAt(vpLike, gm, t))).toEqual(
      orThrow(mixtureAtNoise(gm, { scale: Math.exp(-t), std: Math.sqrt(-Math.expm1(-2 * t)) })),
    );
  });

  it.each([-0.1, 2.5, Number.NaN])("rejects t = %f outside [0, tMax]", (t) => {
    const result = oracleAt(vpLike, gm, t);
    expect(E.isLeft(result) && result.left.field).toBe("t");
  });

  it("at t = 0 of the VE-like SDE (s = 1, σ = 0) is the data mixture", () => {
    expect(orThrow(oracleAt(veLike, gm, 0)).choleskyFactors).toEqual(gm.choleskyFactors);
  });
});

describe("mixtureOracle", () => {
  it.each([vpLike, veLike])("$name: functions of (x, t) equal the closed-form queries", (sde) => {
    const oracle = mixtureOracle(sde, gm);
    const t = 0.9;
    const perturbation = { scale: sde.scale(t), std: sde.std(t) };
    const marginal = orThrow(mixtureAtNoise(gm, perturbation));
    expect(oracle.data).toBe(gm);
    expect(oracle.marginal(t)).toEqual(marginal);
    expect(oracle.logDensity(x, t)).toEqual(mixtureLogDensity(marginal, x));
    expect(oracle.score(x, t)).toEqual(mixtureScore(marginal, x));
    expect(oracle.denoiser(x, t)).toEqual(mixturePosteriorMean(gm, perturbation, x));
    expect(oracle.sample(key, 10, t)).toEqual(sampleMixtureAtNoise(gm, perturbation, key, 10));
  });

  it.each([vpLike, veLike])(
    "$name: the marginal solves the Fokker–Planck equation ∂ₜ ln p = −f·d − f·x·∇ln p + ½g²(Δ ln p + |∇ln p|²)",
    (sde) => {
      // The Fokker–Planck–Kolmogorov equation (Särkkä & Solin 2019, Ch. 5) of dx = f(t)·x dt + g(t) dw, over p. Central differences with
      // h = 1e-4: truncation O(h²) ≈ 1e-8 relative, rounding O(ε/h) ≈ 1e-12.
      const h = 1e-4;
      const d = 2;
      for (const t of [0.3, 1.1]) {
        const before = mixtureLogDensity(orThrow(oracleAt(sde, gm, t - h)), x);
        const dLogP = mixtureLogDensity(orThrow(oracleAt(sde, gm, t + h)), x).map(
          (l, i) => (l - before[i]) / (2 * h),
        );
        const oracle = mixtureOracle(sde, gm);
        const score = oracle.score(x, t);
        for (let r = 0; r < 3; r++) {
          let divergence = 0;
          let drift = 0;
          let squared = 0;
          for (let j = 0; j < d; j++) {
            const shifted = (delta: number) => {
              const y = Float64Array.from(x.data.subarray(r * d, (r + 1) * d));
              y[j] += delta;
              return oracle.score({ shape: [1, d], data: y }, t).data[j];
            };
            divergence += (shifted(h) - shifted(-h)) / (2 * h);
            drift += x.data[r * d + j] * score.data[r * d + j];
            squared += score.data[r * d + j] ** 2;
          }
          const f = sde.f(t);
          const g2 = sde.g(t) ** 2;
          const rhs = -f * d - f * drift + 0.5 * g2 * (divergence + squared);
          expect(Math.abs(dLogP[r] - rhs)).toBeLessThan(1e-6 * Math.max(1, Math.abs(rhs)));
        }
      }
    },
  );
});
