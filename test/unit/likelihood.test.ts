import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { type Tensor64, tensor, tensorSpace } from "../../src/core/tensor.js";
import { oracleScoreDivergence, probabilityFlowDivergence } from "../../src/ode/divergence.js";
import {
  type LikelihoodOptions,
  odeLikelihood,
  priorLogDensities,
  probabilityFlowLikelihood,
} from "../../src/ode/likelihood.js";
import { probabilityFlow } from "../../src/ode/probability-flow.js";
import {
  type GaussianMixture,
  gaussianMixture,
  type MixtureOracle,
  mixtureOracle,
} from "../../src/oracle/index.js";
import { priorLogDensity, toSde, veSde, vpSde } from "../../src/sde/index.js";
import type { LinearSde } from "../../src/sde/types.js";

const vp = orThrow(vpSde());
const ve = orThrow(veSde());
const sdes: ReadonlyArray<readonly [string, LinearSde]> = [
  ["VP", vp],
  ["VE", ve],
];

/** μ_i = ½·sin(i + 1) and c_i = 0.4 + 0.1·i: an anisotropic Gaussian N(μ, diag c²) in ℝ^d. */
const meanOf = (d: number): number[] => Array.from({ length: d }, (_, i) => 0.5 * Math.sin(i + 1));
const variancesOf = (d: number): number[] => Array.from({ length: d }, (_, i) => (0.4 + 0.1 * i) ** 2);

const gaussian = (d: number, centered = false): GaussianMixture =>
  orThrow(
    gaussianMixture({
      weights: [1],
      means: [centered ? new Array<number>(d).fill(0) : meanOf(d)],
      variances: [variancesOf(d)],
    }),
  );

/** Two components, unequal weights and covariances; `centered` makes it symmetric about 0 (mean 0). */
const mixture = (d: number, centered = false): GaussianMixture => {
  const mu = meanOf(d);
  const c2 = variancesOf(d);
  return orThrow(
    centered
      ? gaussianMixture({ weights: [0.5, 0.5], means: [mu, mu.map((m) => -m)], variances: [c2, c2] })
      : gaussianMixture({
          weights: [0.3, 0.7],
          means: [mu, mu.map((m) => -m - 0.5)],
          variances: [c2, c2.map((v) => v / 2)],
        }),
  );
};

const key = orThrow(rngKey(2024));
const TIGHT: LikelihoodOptions = { t0: 1e-5, rtol: 1e-6, atol: 1e-6 };

interface Case {
  readonly name: string;
  readonly sde: LinearSde;
  readonly oracle: MixtureOracle;
  readonly x: Tensor64;
  readonly d: number;
}

const cases = (centered: boolean): Case[] =>
  [2, 8].flatMap((d) =>
    sdes.flatMap(([sdeName, sde]) =>
      [
        ["Gaussian", gaussian(d, centered)],
        ["mixture", mixture(d, centered)],
      ].map(([dataName, gm]): Case => {
        const oracle = mixtureOracle(sde, gm as GaussianMixture);
        return { name: `${dataName} d=${d} ${sdeName}`, sde, oracle, x: oracle.sample(key, 3, 0), d };
      }),
    ),
  );

describe("probabilityFlowLikelihood with the oracle's exact score", () => {
  // Error budget of log p_{t₀}(x) = log p_T(x(T)) + ∫ ∇·v dt as computed here:
  // - ODE tolerance: rtol = atol = 10⁻⁶ over (x, Δ); the global error of Dormand–Prince over ~15–30 steps stays
  //   ~10⁻⁶ nats (measured ≤ 2·10⁻⁶ per dimension), and the central-difference divergence adds O(ε^{2/3}) ≈ 10⁻¹⁰.
  // - Prior mismatch: the library adds the prior N(0, σ_p²I), but p_T is the exact marginal at T. For data of mean
  //   μ the gap log p_T − log prior is ≈ s(T)·μᵀx(T) for VP (s(T) = e^{−5.025} ≈ 6.6·10⁻³) and ≈ μᵀx(T)/σmax² for
  //   VE (x(T) ~ σmax = 50), i.e. up to ~10⁻² nats per dimension for |μ| ~ 0.5: more than 10⁻³. It is O(s(T)²)
  //   and O(1/σmax²) (≲ 10⁻⁴) when the data have mean 0. So the first test swaps in the exact log p_T to measure the
  //   ODE alone on any data, and the second keeps the prior on centered data.
  // - t₀ = ε: the ODE returns the marginal log p_{t₀}, which is what the first two tests compare with; at
  //   t₀ = 10⁻⁵, log p_{t₀} − log p_0 = O(σ(t₀)²/c²) ≲ 2·10⁻⁶ per dimension (VP: σ(t₀)² ≈ βmin·t₀ = 10⁻⁶).
  it.each(cases(false))(
    "recovers log p_t0 to 1e-5 nats/dim with the exact p_T in place of the prior ($name)",
    ({ sde, oracle, x, d }) => {
      const result = orThrow(probabilityFlowLikelihood(sde, oracle.score, x, TIGHT));
      const exact = oracle.logDensity(x, 1e-5);
      const terminal = oracle.logDensity(result.latent, sde.tMax);
      for (let r = 0; r < 3; r++) {
        const ode = result.logLikelihood[r] - result.logPrior[r] + terminal[r];
        expect(Math.abs(ode - exact[r]) / d).toBeLessThan(1e-5);
      }
    },
  );

  it.each(cases(true))(
    "matches log p_t0 and log p_0 within 1e-3 nats/dim with the SDE's prior ($name)",
    ({ sde, oracle, x, d }) => {
      const result = orThrow(probabilityFlowLikelihood(sde, oracle.score, x, TIGHT));
      const atT0 = oracle.logDensity(x, 1e-5);
      const atZero = oracle.logDensity(x, 0);
      for (let r = 0; r < 3; r++) {
        expect(Math.abs(result.logLikelihood[r] - atT0[r]) / d).toBeLessThan(1e-3);
        expect(Math.abs(result.logLikelihood[r] - atZero[r]) / d).toBeLessThan(1e-3);
        expect(result.logPrior[r]).toBe(
          priorLogDensity(sde, result.latent.data.subarray(r * d, (r + 1) * d)),
        );
        expect(result.bitsPerDim[r]).toBeCloseTo(-result.logLikelihood[r] / (d * Math.LN2), 14);
      }
      expect(result.latent.shape).toEqual([3, d]);
    },
  );

  it("computes the marginal at t0, not the data density: t0 = 0.1 gives log p_0.1", () => {
    const oracle = mixtureOracle(vp, mixture(2));
    const x = oracle.sample(key, 3, 0.1);
    const result = orThrow(probabilityFlowLikelihood(vp, oracle.score, x, { ...TIGHT, t0: 0.1 }));
    const terminal = oracle.logDensity(result.latent, vp.tMax);
    const atT0 = oracle.logDensity(x, 0.1);
    const atZero = oracle.logDensity(x, 0);
    for (let r = 0; r < 3; r++) {
      const ode = result.logLikelihood[r] - result.logPrior[r] + terminal[r];
      expect(Math.abs(ode - atT0[r])).toBeLessThan(2e-5);
      expect(Math.abs(ode - atZero[r])).toBeGreaterThan(1e-2);
    }
  });

  it("defaults to t0 = tMin and score_sde's tolerances 1e-5", () => {
    const oracle = mixtureOracle(vp, mixture(2));
    const x = oracle.sample(key, 3, 0);
    const result = orThrow(probabilityFlowLikelihood(vp, oracle.score, x));
    const terminal = oracle.logDensity(result.latent, vp.tMax);
    const atTMin = oracle.logDensity(x, vp.tMin);
    for (let r = 0; r < 3; r++) {
      const ode = result.logLikelihood[r] - result.logPrior[r] + terminal[r];
      expect(Math.abs(ode - atTMin[r]) / 2).toBeLessThan(1e-4);
    }
  });

  it("gives the same likelihood with the analytic divergence, at 1 + k·(1 + 2d) vs 1 + k calls of the score", () => {
    const d = 8;
    const oracle = mixtureOracle(ve, mixture(d));
    const x = oracle.sample(key, 3, 0);
    let calls = 0;
    const score = (y: Tensor64, t: number): Tensor64 => {
      calls += 1;
      return oracle.score(y, t);
    };
    const exact = orThrow(probabilityFlowLikelihood(ve, score, x, TIGHT));
    expect(exact.nfe).toBe(calls);
    calls = 0;
    const analytic = orThrow(
      probabilityFlowLikelihood(ve, score, x, {
        ...TIGHT,
        divergence: {
          kind: "analytic",
          divergence: probabilityFlowDivergence(ve, oracleScoreDivergence(oracle)),
        },
      }),
    );
    expect(analytic.nfe).toBe(calls);
    // Same steps (the divergences agree to ~1e-10), so the call counts differ by the factor 1 + 2d exactly.
    expect(exact.steps).toBe(analytic.steps);
    expect(exact.nfe - 1).toBe((analytic.nfe - 1) * (1 + 2 * d));
    for (let r = 0; r < 3; r++)
      expect(Math.abs(exact.logLikelihood[r] - analytic.logLikelihood[r])).toBeLessThan(1e-7);
  });

  it("odeLikelihood takes any flow and terminal density", () => {
    const oracle = mixtureOracle(vp, gaussian(2));
    const x = oracle.sample(key, 2, 0);
    const space = tensorSpace<Float64Array>();
    const flow = probabilityFlow(space, toSde(space)(vp), oracle.score);
    const viaPrior = orThrow(odeLikelihood(flow, (z) => priorLogDensities(vp, z), x, TIGHT));
    const direct = orThrow(probabilityFlowLikelihood(vp, oracle.score, x, TIGHT));
    expect(viaPrior.logLikelihood).toEqual(direct.logLikelihood);
    const viaExact = orThrow(odeLikelihood(flow, (z) => oracle.logDensity(z, vp.tMax), x, TIGHT));
    const exact = oracle.logDensity(x, 1e-5);
    for (let r = 0; r < 2; r++) expect(Math.abs(viaExact.logLikelihood[r] - exact[r])).toBeLessThan(2e-5);
  });
});

describe("likelihood validation", () => {
  const oracle = mixtureOracle(vp, gaussian(2));
  const x = oracle.sample(key, 2, 0);
  const fieldOf = (options: LikelihoodOptions, points: Tensor64 = x): string | undefined => {
    const result = probabilityFlowLikelihood(vp, oracle.score, points, options);
    return E.isLeft(result) && result.left._tag === "ScoreflowError" ? result.left.field : undefined;
  };

  it.each([
    ["rtol", { rtol: -1 }],
    ["rtol", { rtol: Number.NaN }],
    ["atol", { atol: 0 }],
    ["atol", { atol: Number.POSITIVE_INFINITY }],
    ["t0", { t0: -1e-3 }],
    ["t0", { t0: 1 }],
    ["t0", { t0: Number.NaN }],
    ["maxSteps", { maxSteps: 2.5 }],
  ] as const)("names %s for %o", (field, options) => {
    expect(fieldOf(options)).toBe(field);
  });

  it("rejects points that are not a finite [n, d] tensor", () => {
    expect(fieldOf({}, { shape: [4], data: new Float64Array(4) })).toBe("x.shape");
    expect(fieldOf({}, { shape: [2, 2], data: new Float64Array(3) })).toBe("x.data");
    expect(fieldOf({}, { shape: [2, 2], data: Float64Array.of(0, 1, Number.NaN, 0) })).toBe("x.data[2]");
    expect(fieldOf({}, { shape: [0, 2], data: new Float64Array(0) })).toBe("x.shape");
  });

  it("rejects a field or divergence whose output does not match the points", () => {
    // A score of dimension 2 on points of dimension 3: the flow's combination runs past the score's 4 entries.
    const wide = orThrow(tensor([2, 3], new Float64Array(6)));
    expect(fieldOf({}, wide)).toBe("vectorField(x, t0)[4]");
    const transposed = odeLikelihood(
      {
        name: "transposed",
        tMin: 0,
        tMax: 1,
        vectorField: (y) => ({ shape: [y.shape[1], y.shape[0]], data: y.data }),
      },
      (z) => priorLogDensities(vp, z),
      wide,
    );
    expect(E.isLeft(transposed) && transposed.left.message).toBe(
      "odeLikelihood (transposed): vectorField(x, t0) must have shape [2, 3], got shape=[3, 2] with 6 entries",
    );
    const nan = probabilityFlowLikelihood(
      vp,
      (y) => ({ shape: y.shape, data: y.data.map(() => Number.NaN) }),
      x,
    );
    expect(E.isLeft(nan) && nan.left.message).toMatch(/vectorField\(x, t0\)\[0\] must be finite/);
    expect(fieldOf({ divergence: { kind: "analytic", divergence: () => new Float64Array(3) } })).toBe(
      "divergence(x, t0)",
    );
  });

  it("returns a SolveFailure when the solve breaks down", () => {
    const result = probabilityFlowLikelihood(vp, oracle.score, x, { maxSteps: 1 });
    expect(E.isLeft(result) && result.left._tag === "SolveFailure" && result.left.reason).toBe("maxSteps");
  });
});
