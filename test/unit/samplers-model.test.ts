import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import { mixtureOracle, mixturePosteriorMean, sampleMixture } from "../../src/oracle/index.js";
import {
  type DenoiserModel,
  type DiffusionModel,
  denoiserOf,
  predictAs,
  scoreOf,
  type TimeModel,
} from "../../src/samplers/model.js";
import {
  edmSde,
  type LinearSde,
  linearSde,
  noiseLevel,
  type Parameterization,
  veSde,
  vpSde,
} from "../../src/sde/index.js";
import { ring, space } from "../support/samplers-deterministic.js";

const sdes: readonly LinearSde[] = [
  orThrow(vpSde()),
  orThrow(veSde()),
  orThrow(edmSde()),
  // A custom SDE with moments integrated numerically: f(t) = −0.3 − t, g(t)² = 0.5 + 2t.
  orThrow(
    linearSde({ name: "custom", f: (t) => -0.3 - t, g: (t) => Math.sqrt(0.5 + 2 * t), tMin: 1e-3, tMax: 1 }),
  ),
];

const targets: readonly Parameterization[] = ["eps", "x0", "v", "score"];

/** a·x + b·y, componentwise. */
const lin = (a: number, x: Tensor64, b: number, y: Tensor64): Tensor64 =>
  space.combine([
    [a, x],
    [b, y],
  ]);

/**
 * The exact prediction of each target at (x, t) from the oracle: score = ∇log p_t(x), x₀ = E[x₀ | x_t = x]
 * (Tweedie), ε = E[ε | x_t = x] = −σ·score, v = (s·ε − σ·x₀)/√(s² + σ²).
 */
const exact = (sde: LinearSde, target: Parameterization, x: Tensor64, t: number): Tensor64 => {
  const oracle = mixtureOracle(sde, ring);
  const s = sde.scale(t);
  const sigma = sde.std(t);
  const score = oracle.score(x, t);
  const eps = space.combine([[-sigma, score]]);
  const x0 = oracle.denoiser(x, t);
  const forms: Record<Parameterization, () => Tensor64> = {
    score: () => score,
    x0: () => x0,
    eps: () => eps,
    v: () => lin(s / Math.hypot(s, sigma), eps, -sigma / Math.hypot(s, sigma), x0),
  };
  return forms[target]();
};

/** The oracle as a time model of the given parameterization. */
const timeModel = (sde: LinearSde, parameterization: Parameterization): TimeModel<Tensor64> => ({
  parameterization,
  predict: (x, t) => exact(sde, parameterization, x, t),
});

/** The exact EDM denoiser D(x̂; σ) = E[x₀ | x₀ + σ·n = x̂], independent of any SDE. */
const exactDenoiser: DenoiserModel<Tensor64> = {
  parameterization: "denoiser",
  denoise: (xHat, sigma) => mixturePosteriorMean(ring, { scale: 1, std: sigma }, xHat),
};

/** max |a − b| / max(1, max |b|). */
const relativeError = (a: Tensor64, b: Tensor64): number => {
  let diff = 0;
  let size = 1;
  for (let i = 0; i < b.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
    size = Math.max(size, Math.abs(b.data[i]));
  }
  return diff / size;
};

describe("predictAs: every (model parameterization, target) pair against the oracle's closed forms", () => {
  for (const sde of sdes) {
    const times = [sde.tMin, 0.5 * (sde.tMin + sde.tMax), sde.tMax];
    const models: readonly DiffusionModel<Tensor64>[] = [
      ...targets.map((p) => timeModel(sde, p)),
      exactDenoiser,
    ];
    for (const model of models) {
      it(`${sde.name}: a ${model.parameterization} model predicts ε, x₀, v and the score`, () => {
        for (const [k, t] of times.entries()) {
          const x = mixtureOracle(sde, ring).sample(orThrow(rngKey(k)), 8, t);
          for (const target of targets) {
            // Relative to the largest component. x₀ → ε or score takes x − s·x₀ = σ·ε, which amplifies the
            // rounding of x₀ by |x|/σ: ≈ 10⁴ at VE's tMin (σ ≈ 1.3·10⁻⁴), hence 10⁻⁹ (measured ≤ 6.1·10⁻¹⁰).
            expect(
              relativeError(predictAs(space, sde, model, target)(x, t), exact(sde, target, x, t)),
            ).toBeLessThan(1e-9);
          }
        }
      });
    }
  }

  it("returns a time model's own prediction unconverted when the target is its parameterization", () => {
    const sde = sdes[0];
    const x = mixtureOracle(sde, ring).sample(orThrow(rngKey(1)), 4, 0.3);
    for (const p of targets) {
      const model = timeModel(sde, p);
      expect(predictAs(space, sde, model, p)(x, 0.3)).toEqual(model.predict(x, 0.3));
    }
    expect(scoreOf(space, sde, timeModel(sde, "score"))(x, 0.3)).toEqual(exact(sde, "score", x, 0.3));
  });
});

describe("denoiserOf", () => {
  for (const sde of sdes) {
    it(`${sde.name}: a time model's denoiser is the posterior mean E[x₀ | x_t = s(t)·x̂] at t = t(σ) (Tweedie)`, () => {
      // Noise levels spread geometrically over the SDE's range [σ̃(tMin), σ̃(tMax)].
      const [lo, hi] = [noiseLevel(sde, sde.tMin), noiseLevel(sde, sde.tMax)];
      const noiseLevels = [0, 0.3, 0.7, 1].map((u) => lo * (hi / lo) ** u);
      for (const [k, sigma] of noiseLevels.entries()) {
        const xHat = noisyRing(k, sigma);
        const t = sde.timeOfNoiseLevel(sigma);
        const posterior = mixtureOracle(sde, ring).denoiser(space.combine([[sde.scale(t), xHat]]), t);
        const edmPosterior = mixturePosteriorMean(ring, { scale: 1, std: sigma }, xHat);
        for (const p of targets) {
          const d = denoiserOf(space, sde, timeModel(sde, p))(xHat, sigma);
          expect(relativeError(d, posterior)).toBeLessThan(1e-10);
          // The same as the SDE-free EDM denoiser: the σ ↔ t map of Table 1 is consistent.
          expect(relativeError(d, edmPosterior)).toBeLessThan(1e-10);
        }
      }
    });
  }

  it("passes a DenoiserModel through unchanged", () => {
    const xHat = noisyRing(0, 0.7);
    for (const sde of sdes)
      expect(denoiserOf(space, sde, exactDenoiser)(xHat, 0.7)).toEqual(exactDenoiser.denoise(xHat, 0.7));
  });

  it("round-trips: a time model wrapped as a DenoiserModel predicts what the time model predicts", () => {
    for (const sde of sdes) {
      for (const p of targets) {
        const model = timeModel(sde, p);
        const wrapped: DenoiserModel<Tensor64> = {
          parameterization: "denoiser",
          denoise: denoiserOf(space, sde, model),
        };
        for (const t of [sde.tMin, 0.37 * sde.tMax, sde.tMax]) {
          const x = mixtureOracle(sde, ring).sample(orThrow(rngKey(2)), 6, t);
          // Through t → σ̃ = σ/s → timeOfNoiseLevel(σ̃) (numerical for the custom SDE, ≈ 10⁻¹³) and two
          // conversions, each amplified near tMin as above.
          expect(relativeError(predictAs(space, sde, wrapped, p)(x, t), model.predict(x, t))).toBeLessThan(
            1e-8,
          );
        }
      }
    }
  });
});

/** Eight points of the ring at noise level σ: x̂ = x₀ + σ·n, x₀ ~ ring, n ~ N(0, I). */
function noisyRing(seed: number, sigma: number): Tensor64 {
  const x0 = sampleMixture(ring, orThrow(rngKey(100 + seed)), 8);
  return lin(1, x0, sigma, space.normalLike(orThrow(rngKey(200 + seed)), x0));
}
