/**
 * Fixtures shared by the tests of the stochastic and discrete samplers (reverse SDE, predictor–corrector,
 * annealed Langevin, DDPM, DDIM), next to those of `samplers-deterministic.ts`: the exact model of a
 * discrete DDPM schedule and componentwise comparison.
 */
import type { Tensor64 } from "../../src/core/tensor.js";
import type { DdpmSchedule } from "../../src/discrete/index.js";
import { ddpmMixtureScore, type GaussianMixture } from "../../src/oracle/index.js";
import { tensorBatchSpace } from "../../src/samplers/batch-space.js";
import type { TimeModel } from "../../src/samplers/model.js";

/** The batch space of float64 tensors [n, d] (rows along the first axis). */
export const batchSpace = tensorBatchSpace<Float64Array>();

/**
 * The exact score of a mixture under a discrete schedule, called with the integer timestep t: the discrete
 * marginal q(x_t) of mixture data is the mixture at (s, σ) = (√ᾱ_t, √(1 − ᾱ_t)) (Ho et al. 2020, eq. 4).
 */
export const discreteScoreModel = (schedule: DdpmSchedule, gm: GaussianMixture): TimeModel<Tensor64> => ({
  parameterization: "score",
  predict: ddpmMixtureScore(schedule, gm),
});

/** The first index where |a_i − b_i| > rel·|b_i| + abs, or −1 when every component agrees. */
export const firstMismatch = (a: ArrayLike<number>, b: ArrayLike<number>, rel: number, abs = 0): number => {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= rel * Math.abs(b[i]) + abs)) return i;
  return -1;
};

/** The first `m` rows of a batch [n, d]. */
export const firstRows = (x: Tensor64, m: number): Tensor64 => {
  const d = x.shape[1];
  return { shape: [m, d], data: x.data.slice(0, m * d) };
};
