import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { foldIn, rngKey } from "../../src/core/rng.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import {
  type GaussianMixture,
  type GaussianMixtureParams,
  type GaussianPerturbation,
  gaussianMixture,
  mixtureAtNoise,
  mixtureCovariance,
  mixtureLogDensity,
  mixtureMean,
  mixturePosteriorMean,
  mixtureScore,
  randomMixture,
  sampleMixture,
  sampleMixtureAtNoise,
} from "../../src/oracle/index.js";

const finite = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

/** A random mixture from the seeded preset: d = 1…5, K = 1…4. */
const presetMixture = fc
  .record({ seed: fc.nat(), dim: fc.integer({ min: 1, max: 5 }), components: fc.integer({ min: 1, max: 4 }) })
  .map(({ seed, dim, components }) => orThrow(randomMixture(orThrow(rngKey(seed)), { dim, components })));

/** A mixture drawn by fast-check itself: weights ∝ positive numbers, Σ_k = B_k·B_kᵀ + 0.05·I. */
const drawnParams = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }))
  .chain(([d, K]) =>
    fc.record({
      weights: fc.array(finite(0.05, 1), { minLength: K, maxLength: K }),
      means: fc.array(fc.array(finite(-3, 3), { minLength: d, maxLength: d }), {
        minLength: K,
        maxLength: K,
      }),
      factors: fc.array(fc.array(finite(-1, 1), { minLength: d * d, maxLength: d * d }), {
        minLength: K,
        maxLength: K,
      }),
    }),
  )
  .map(({ weights, means, factors }) => {
    const d = means[0].length;
    const total = weights.reduce((a, b) => a + b, 0);
    const covariances = factors.map((b) =>
      Array.from({ length: d * d }, (_, ij) => {
        const [i, j] = [Math.floor(ij / d), ij % d];
        let acc = i === j ? 0.05 : 0;
        for (let m = 0; m < d; m++) acc += b[i * d + m] * b[j * d + m];
        return acc;
      }),
    );
    return { weights: weights.map((w) => w / total), means, covariances };
  });

const anyMixture = fc.oneof(
  presetMixture,
  drawnParams.map((p) => orThrow(gaussianMixture(p))),
);

/** VE-like s = 1, σ = t, or VP-like s = e^−t, σ = √(1 − e^−2t), at t ∈ [0.05, 2]. */
const perturbation: fc.Arbitrary<GaussianPerturbation> = fc
  .tuple(fc.boolean(), finite(0.05, 2))
  .map(([ve, t]) =>
    ve ? { scale: 1, std: t } : { scale: Math.exp(-t), std: Math.sqrt(-Math.expm1(-2 * t)) },
  );

/** Three points: samples of the marginal moved by up to ±2 in each coordinate. */
const pointsNear = (
  gm: GaussianMixture,
  p: GaussianPerturbation,
  seed: number,
  shift: readonly number[],
): Tensor64 => {
  const x = sampleMixtureAtNoise(gm, p, orThrow(rngKey(seed)), 3);
  return { shape: x.shape, data: x.data.map((v, i) => v + shift[i % shift.length]) };
};
const shifts = fc.array(finite(-2, 2), { minLength: 5, maxLength: 5 });

const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

describe("oracle properties", () => {
  it("the score is the central finite-difference gradient of the log-density (relative 1e-6)", () => {
    fc.assert(
      fc.property(anyMixture, perturbation, fc.nat(), shifts, (gm0, p, seed, shift) => {
        const gm = orThrow(mixtureAtNoise(gm0, p));
        const x = pointsNear(gm0, p, seed, shift);
        const score = mixtureScore(gm, x);
        const d = gm.dim;
        const h = 1e-5;
        const fd = new Float64Array(x.data.length);
        for (let i = 0; i < x.data.length; i++) {
          const step = (delta: number) => {
            const y = Float64Array.from(x.data);
            y[i] += delta;
            return mixtureLogDensity(gm, { shape: x.shape, data: y })[Math.floor(i / d)];
          };
          fd[i] = (step(h) - step(-h)) / (2 * h);
        }
        const error = maxAbs(fd.map((v, i) => v - score.data[i]));
        expect(error).toBeLessThan(1e-6 * Math.max(1, maxAbs(score.data)));
      }),
      { numRuns: 100 },
    );
  });

  it("Tweedie: the posterior mean is (x + σ²·score)/s to 1e-10", () => {
    fc.assert(
      fc.property(anyMixture, perturbation, fc.nat(), shifts, (gm0, p, seed, shift) => {
        const x = pointsNear(gm0, p, seed, shift);
        const score = mixtureScore(orThrow(mixtureAtNoise(gm0, p)), x);
        const mean = mixturePosteriorMean(gm0, p, x);
        const tweedie = x.data.map((v, i) => (v + p.std * p.std * score.data[i]) / p.scale);
        expect(maxAbs(tweedie.map((v, i) => v - mean.data[i]))).toBeLessThan(
          1e-10 * Math.max(1, maxAbs(tweedie)),
        );
      }),
      { numRuns: 100 },
    );
  });

  it("EDM form: E[x_0 | x_t = x] at (s, σ) equals E[x_0 | x̂ = x/s] at (1, σ/s)", () => {
    fc.assert(
      fc.property(anyMixture, perturbation, fc.nat(), shifts, (gm0, p, seed, shift) => {
        const x = pointsNear(gm0, p, seed, shift);
        const a = mixturePosteriorMean(gm0, p, x);
        const b = mixturePosteriorMean(
          gm0,
          { scale: 1, std: p.std / p.scale },
          { shape: x.shape, data: x.data.map((v) => v / p.scale) },
        );
        expect(maxAbs(a.data.map((v, i) => v - b.data[i]))).toBeLessThan(1e-9 * Math.max(1, maxAbs(a.data)));
      }),
      { numRuns: 100 },
    );
  });

  it("the marginal has mean s·m and covariance s²·C + σ²·I", () => {
    fc.assert(
      fc.property(anyMixture, perturbation, (gm0, p) => {
        const gm = orThrow(mixtureAtNoise(gm0, p));
        const d = gm.dim;
        const m0 = mixtureMean(gm0);
        const c0 = mixtureCovariance(gm0);
        const meanError = maxAbs(mixtureMean(gm).map((v, i) => v - p.scale * m0[i]));
        const expected = c0.map((c, ij) => p.scale * p.scale * c + (ij % (d + 1) === 0 ? p.std * p.std : 0));
        const covError = maxAbs(mixtureCovariance(gm).map((c, ij) => c - expected[ij]));
        return (
          meanError <= 1e-12 * Math.max(1, maxAbs(m0)) && covError <= 1e-12 * Math.max(1, maxAbs(expected))
        );
      }),
      { numRuns: 100 },
    );
  });

  it("valid parameters build a mixture whose factors reproduce the covariances", () => {
    fc.assert(
      fc.property(drawnParams, (params) => {
        const gm = orThrow(gaussianMixture(params));
        const d = gm.dim;
        for (let k = 0; k < gm.components; k++) {
          let logDet = 0;
          for (let i = 0; i < d; i++) {
            logDet += 2 * Math.log(gm.choleskyFactors[k * d * d + i * d + i]);
            for (let j = 0; j < d; j++) {
              let llt = 0;
              for (let m = 0; m < d; m++) {
                llt += gm.choleskyFactors[k * d * d + i * d + m] * gm.choleskyFactors[k * d * d + j * d + m];
              }
              expect(llt).toBeCloseTo(params.covariances[k][i * d + j], 12);
            }
          }
          expect(gm.logDeterminants[k]).toBeCloseTo(logDet, 14);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("samples: the first m rows of a batch of n equal a batch of m, bit for bit", () => {
    fc.assert(
      fc.property(
        presetMixture,
        fc.nat(),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        (gm, seed, a, b) => {
          const [m, n] = a <= b ? [a, b] : [b, a];
          const key = foldIn(orThrow(rngKey(seed)), 3);
          const big = sampleMixture(gm, key, n).data.subarray(0, m * gm.dim);
          const small = sampleMixture(gm, key, m).data;
          return big.every((v, i) => Object.is(v, small[i]));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("the constructor never throws: any input is a Left or a valid mixture", () => {
    const junkNumber = fc.oneof(fc.double(), fc.integer({ min: -3, max: 3 }));
    const junkVector = fc.oneof(
      fc.array(junkNumber, { maxLength: 4 }),
      fc.float64Array({ maxLength: 4 }),
      fc.constant(null),
      fc.constant(undefined),
      fc.string({ maxLength: 3 }),
      junkNumber,
    );
    const junk = fc.oneof(
      junkVector,
      fc.array(junkVector, { maxLength: 3 }),
      fc.array(fc.array(junkVector, { maxLength: 3 }), { maxLength: 3 }),
    );
    const params = fc.record({
      weights: fc.oneof(fc.constant([1]), fc.constant([0.5, 0.5]), junk),
      means: fc.oneof(fc.constant([[0, 0]]), fc.constant([[0], [1]]), junk),
      covariances: fc.oneof(
        fc.constant(undefined),
        fc.constant([[1, 0, 0, 1]]),
        fc.constant([[[2]], [1]]),
        junk,
      ),
      variances: fc.oneof(fc.constant(undefined), fc.constant(1), fc.constant([1, [2]]), junk),
    });
    fc.assert(
      fc.property(params, (p) => {
        const result = gaussianMixture(p as unknown as GaussianMixtureParams);
        if (E.isLeft(result)) return result.left._tag === "ScoreflowError" && result.left.message.length > 0;
        const gm = result.right;
        const sum = gm.weights.reduce((a, w) => a + w, 0);
        return (
          Math.abs(sum - 1) < 1e-12 &&
          gm.weights.every((w) => w >= 0) &&
          gm.logDeterminants.every(Number.isFinite) &&
          gm.means.every(Number.isFinite)
        );
      }),
      { numRuns: 500 },
    );
  });
});
