import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { type Tensor64, tensorSpace } from "../../src/core/tensor.js";
import {
  finiteDifferenceDivergence,
  hutchinsonDivergence,
  hutchinsonProbes,
  oracleScoreDivergence,
  probabilityFlowDivergence,
} from "../../src/ode/divergence.js";
import { probabilityFlowLikelihood } from "../../src/ode/likelihood.js";
import { probabilityFlow } from "../../src/ode/probability-flow.js";
import {
  gaussianMixture,
  mixtureLogDensity,
  mixtureOracle,
  mixtureScore,
  randomMixture,
} from "../../src/oracle/index.js";
import { mixtureScoreDivergence } from "../../src/oracle/marginal.js";
import { toSde, veSde, vpSde } from "../../src/sde/index.js";

const vp = orThrow(vpSde());
const ve = orThrow(veSde());

/** n copies of one point: with probes drawn per row, each row is an independent Hutchinson estimate. */
const replicate = (point: readonly number[], n: number): Tensor64 => {
  const data = new Float64Array(n * point.length);
  for (let r = 0; r < n; r++) data.set(point, r * point.length);
  return { shape: [n, point.length], data };
};

/** Sample mean and standard error of the mean. */
const meanAndError = (values: Float64Array): readonly [mean: number, standardError: number] => {
  const n = values.length;
  const mean = values.reduce((a, v) => a + v, 0) / n;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return [mean, Math.sqrt(variance / n)];
};

describe("mixtureScoreDivergence", () => {
  it("is −tr Σ⁻¹ for one Gaussian, whatever x", () => {
    // Σ = [[2, 1], [1, 3]]: det = 5, Σ⁻¹ = [[3, −1], [−1, 2]]/5, tr Σ⁻¹ = 1.
    const gm = orThrow(gaussianMixture({ weights: [1], means: [[0.5, -1]], covariances: [[2, 1, 1, 3]] }));
    const x: Tensor64 = { shape: [3, 2], data: Float64Array.of(0, 0, 4, -2, -7, 9) };
    for (const v of mixtureScoreDivergence(gm, x)) expect(v).toBeCloseTo(-1, 14);
  });

  it("is the second derivative of log p in 1-D (an independent second difference of the log-density)", () => {
    const gm = orThrow(gaussianMixture({ weights: [0.4, 0.6], means: [[-1], [1.5]], variances: [0.3, 0.8] }));
    const h = 1e-4;
    for (const x0 of [-2, -0.5, 0.2, 1, 3]) {
      const at = (x: number): number => mixtureLogDensity(gm, { shape: [1, 1], data: Float64Array.of(x) })[0];
      // Second difference: error h²/12·|f⁗| + 4ε|f|/h² ≈ 10⁻⁸ + 10⁻⁷ here.
      const second = (at(x0 + h) - 2 * at(x0) + at(x0 - h)) / (h * h);
      const analytic = mixtureScoreDivergence(gm, { shape: [1, 1], data: Float64Array.of(x0) })[0];
      expect(Math.abs(analytic - second)).toBeLessThan(1e-5 * Math.max(1, Math.abs(analytic)));
    }
  });
});

describe("finiteDifferenceDivergence", () => {
  const gm = orThrow(randomMixture(orThrow(rngKey(5)), { dim: 4, components: 3 }));
  const score = (x: Tensor64): Tensor64 => mixtureScore(gm, x);
  const x: Tensor64 = {
    shape: [3, 4],
    data: Float64Array.of(0.1, -0.3, 2, 1, -1.5, 0.7, 0.2, -2.2, 3, 3, -1, 0.5),
  };

  it("equals the analytic mixture divergence to 1e-6 relative", () => {
    const numeric = finiteDifferenceDivergence(score, x, 0);
    const analytic = mixtureScoreDivergence(gm, x);
    for (let r = 0; r < 3; r++) {
      expect(Math.abs(numeric[r] - analytic[r])).toBeLessThan(1e-6 * Math.abs(analytic[r]));
    }
  });

  it("gives the probability-flow divergence d·f − ½g²·∇·s under VP and VE", () => {
    for (const sde of [vp, ve]) {
      const oracle = mixtureOracle(sde, gm);
      const space = tensorSpace<Float64Array>();
      const flow = probabilityFlow(space, toSde(space)(sde), oracle.score);
      const divergence = probabilityFlowDivergence(sde, oracleScoreDivergence(oracle));
      for (const t of [1e-3, 0.3, 0.9]) {
        const numeric = finiteDifferenceDivergence(flow.vectorField, x, t);
        const analytic = divergence(x, t);
        for (let r = 0; r < 3; r++) {
          expect(Math.abs(numeric[r] - analytic[r])).toBeLessThan(1e-6 * Math.max(1, Math.abs(analytic[r])));
        }
      }
    }
  });
});

describe("Hutchinson–Skilling estimator", () => {
  const gm = orThrow(randomMixture(orThrow(rngKey(9)), { dim: 4, components: 3 }));
  const oracle = mixtureOracle(vp, gm);
  const t = 0.2;
  const score = (x: Tensor64): Tensor64 => oracle.score(x, t);
  const point = [0.4, -1.1, 0.8, 0.3];

  it("draws row r from foldIn(key, r): a point's probe does not depend on the batch size", () => {
    const key = orThrow(rngKey(3));
    for (const probe of ["rademacher", "gaussian"] as const) {
      const big = hutchinsonProbes(key, probe, 5, 3);
      const small = hutchinsonProbes(key, probe, 2, 3);
      expect(big.data.subarray(0, 6)).toEqual(small.data);
      expect(big.shape).toEqual([5, 3]);
    }
    expect(hutchinsonProbes(key, "rademacher", 4, 8).data.every((e) => e === 1 || e === -1)).toBe(true);
  });

  // 4000 independent probes (one per row of a replicated batch, i.e. 4000 keys foldIn(key, r)); with the
  // off-diagonal Hessian entries of a full-covariance mixture the estimator has a nonzero variance, and the mean
  // must lie within 3 standard errors of tr J (a 99.7% interval; the seed is fixed).
  it.each(["rademacher", "gaussian"] as const)("is unbiased at a fixed point (%s probes)", (probe) => {
    const n = 4000;
    const x = replicate(point, n);
    const estimates = hutchinsonDivergence(score, x, t, hutchinsonProbes(orThrow(rngKey(1)), probe, n, 4));
    const exact = mixtureScoreDivergence(oracle.marginal(t), x)[0];
    const [mean, standardError] = meanAndError(estimates);
    expect(standardError).toBeGreaterThan(1e-3);
    expect(Math.abs(mean - exact)).toBeLessThan(3 * standardError);
  });

  // Var[εᵀJε] = 2·Σ_{i≠j} S_ij² for Rademacher and 2·‖S‖_F² for Gaussian probes, S = (J + Jᵀ)/2 (Hutchinson
  // 1989, Prop. 1; J here is the symmetric Hessian of log p_t, taken by central differences of the score). The
  // sample variance of 4000 estimates must match within 4 of its standard errors √((m₄ − s⁴)/n).
  it("has the variance 2Σ_{i≠j}S_ij² (Rademacher) and 2‖S‖_F² (Gaussian)", () => {
    const h = 1e-5;
    const at = (p: readonly number[]): Float64Array =>
      score({ shape: [1, 4], data: Float64Array.from(p) }).data;
    const jacobian = point.map((_, j) => {
      const plus = at(point.map((v, i) => (i === j ? v + h : v)));
      const minus = at(point.map((v, i) => (i === j ? v - h : v)));
      return Array.from(plus, (v, i) => (v - minus[i]) / (2 * h));
    });
    let offDiagonal = 0;
    let diagonal = 0;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const s = (jacobian[i][j] + jacobian[j][i]) / 2;
        if (i === j) diagonal += s * s;
        else offDiagonal += s * s;
      }
    }
    const n = 4000;
    const x = replicate(point, n);
    for (const [probe, theory] of [
      ["rademacher", 2 * offDiagonal],
      ["gaussian", 2 * (offDiagonal + diagonal)],
    ] as const) {
      const estimates = hutchinsonDivergence(score, x, t, hutchinsonProbes(orThrow(rngKey(12)), probe, n, 4));
      const [mean] = meanAndError(estimates);
      const variance = estimates.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
      const fourth = estimates.reduce((a, v) => a + (v - mean) ** 4, 0) / n;
      const standardError = Math.sqrt((fourth - variance * variance) / n);
      expect(Math.abs(variance - theory)).toBeLessThan(4 * standardError);
    }
  });

  // The probes are fixed along the solve and do not move x(t), so the Hutchinson likelihood is an unbiased
  // estimate of the exact one; 400 rows of one point give 400 independent estimates in one solve.
  it.each(["rademacher", "gaussian"] as const)("gives an unbiased likelihood (%s probes)", (probe) => {
    const d = 4;
    const options = { t0: 1e-5, rtol: 1e-6, atol: 1e-6 };
    const exact = orThrow(probabilityFlowLikelihood(vp, oracle.score, replicate(point, 1), options));
    const n = 400;
    let calls = 0;
    const counted = (y: Tensor64, time: number): Tensor64 => {
      calls += 1;
      return oracle.score(y, time);
    };
    const estimate = orThrow(
      probabilityFlowLikelihood(vp, counted, replicate(point, n), {
        ...options,
        divergence: { kind: "hutchinson", key: orThrow(rngKey(13)), probe },
      }),
    );
    const [mean, standardError] = meanAndError(estimate.logLikelihood);
    expect(standardError).toBeGreaterThan(1e-3);
    expect(Math.abs(mean - exact.logLikelihood[0])).toBeLessThan(3 * standardError);
    // One boundary call, then 3 calls (v(x), v(x ± hε)) per evaluation of the augmented field.
    expect(estimate.nfe).toBe(calls);
    expect((estimate.nfe - 1) % 3).toBe(0);
    expect(estimate.latent.data.subarray(0, d)).toEqual(estimate.latent.data.subarray(d, 2 * d));
  });
});
