/**
 * Learning-rate schedules as plain records and one pure function `learningRate(schedule, step)`: a linear
 * warm-up from 0 to the base rate over W steps, then either a constant rate (DDPM: W = 5000) or a half-cosine
 * decay to a floor at step T. `step` counts the optimizer steps already taken (0 for the first), as DDPM's
 * `global_step` and PyTorch's `LambdaLR` do, so the very first step uses rate 0 when W > 0.
 *
 * Sources: Ho et al., "Denoising Diffusion Probabilistic Models", NeurIPS 2020, Appendix B (warm-up over 5000
 * steps), `diffusion_tf/utils.py` (`get_warmed_up_lr`); Goyal et al., "Accurate, Large Minibatch SGD", 2017,
 * §2.2 (gradual warm-up); Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR
 * 2017, eq. 5 (cosine annealing).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { ScoreflowError } from "../../core/errors.js";
import {
  checkAll,
  checkOrdered,
  isNonNegative,
  isNonNegativeInteger,
  isPositive,
} from "../../core/validate.js";

/**
 * Linear warm-up to `baseLr` over `warmupSteps` steps, then constant.
 *
 * @category Training
 */
export interface WarmupConstantSchedule {
  /** Discriminant. */
  readonly kind: "warmupConstant";
  /** The base rate η₀ > 0 reached at the end of the warm-up. */
  readonly baseLr: number;
  /** W, the number of warm-up steps, an integer ≥ 0 (0: no warm-up). */
  readonly warmupSteps: number;
}

/**
 * Linear warm-up to `baseLr` over `warmupSteps` steps, then a half-cosine decay to `minLr` at `totalSteps`,
 * constant after.
 *
 * @category Training
 */
export interface WarmupCosineSchedule {
  /** Discriminant. */
  readonly kind: "warmupCosine";
  /** The peak rate η₀ > 0 reached at the end of the warm-up. */
  readonly baseLr: number;
  /** W, the number of warm-up steps, an integer ≥ 0. */
  readonly warmupSteps: number;
  /** T, the step at which the decay reaches `minLr`, an integer > W. */
  readonly totalSteps: number;
  /** The floor η_min ∈ [0, η₀]. */
  readonly minLr: number;
}

/**
 * A learning-rate schedule.
 *
 * @category Training
 */
export type LearningRateSchedule = WarmupConstantSchedule | WarmupCosineSchedule;

/**
 * A warm-up-then-constant schedule. Checks baseLr > 0 finite and warmupSteps an integer ≥ 0.
 *
 * Source: Ho et al. (2020), Appendix B (η₀ = 2·10⁻⁴, W = 5000 on CIFAR-10).
 *
 * @category Training
 */
export const warmupConstantSchedule = (options: {
  /** η₀ > 0. */
  readonly baseLr: number;
  /** W, an integer ≥ 0. */
  readonly warmupSteps: number;
}): E.Either<ScoreflowError, WarmupConstantSchedule> =>
  pipe(
    checkAll("warm-up schedule", [
      ["baseLr", options.baseLr, isPositive],
      ["warmupSteps", options.warmupSteps, isNonNegativeInteger],
    ]),
    E.map(() => ({ kind: "warmupConstant", baseLr: options.baseLr, warmupSteps: options.warmupSteps })),
  );

/**
 * A warm-up-then-cosine schedule. Checks baseLr > 0 finite, warmupSteps an integer ≥ 0, totalSteps an integer
 * > warmupSteps, and 0 ≤ minLr ≤ baseLr (default minLr = 0).
 *
 * Source: Loshchilov & Hutter (2017), eq. 5; Goyal et al. (2017), §2.2.
 *
 * @category Training
 */
export const warmupCosineSchedule = (options: {
  /** η₀ > 0. */
  readonly baseLr: number;
  /** W, an integer ≥ 0. */
  readonly warmupSteps: number;
  /** T, an integer > W. */
  readonly totalSteps: number;
  /** η_min ∈ [0, η₀]; default 0. */
  readonly minLr?: number;
}): E.Either<ScoreflowError, WarmupCosineSchedule> => {
  const minLr = options.minLr ?? 0;
  const context = "cosine schedule";
  return pipe(
    checkAll(context, [
      ["baseLr", options.baseLr, isPositive],
      ["warmupSteps", options.warmupSteps, isNonNegativeInteger],
      ["totalSteps", options.totalSteps, isNonNegativeInteger],
      ["minLr", minLr, isNonNegative],
    ]),
    E.flatMap(() =>
      checkOrdered(context, ["warmupSteps", options.warmupSteps], ["totalSteps", options.totalSteps], true),
    ),
    E.flatMap(() => checkOrdered(context, ["minLr", minLr], ["baseLr", options.baseLr], false)),
    E.map(() => ({
      kind: "warmupCosine",
      baseLr: options.baseLr,
      warmupSteps: options.warmupSteps,
      totalSteps: options.totalSteps,
      minLr,
    })),
  );
};

/**
 * The learning rate for optimizer step `step` (an integer ≥ 0: the steps already taken):
 *
 *   warm-up (s < W):  η(s) = η₀·s/W
 *   constant:         η(s) = η₀                                                   for s ≥ W
 *   cosine:           η(s) = η_min + ½(η₀ − η_min)(1 + cos(π·(s − W)/(T − W)))    for W ≤ s < T,  η_min after
 *
 * The cosine is evaluated as η₀ − (η₀ − η_min)·½(1 − cos(…)), the same number in exact arithmetic, so that
 * η(W) = η₀ exactly and the rate stays in [η_min, η₀] and non-increasing in floating point. Pass the result
 * as `lr` to `adamStep`.
 *
 * Sources: Ho et al. (2020), `get_warmed_up_lr`; Loshchilov & Hutter (2017), eq. 5.
 *
 * @category Training
 */
export const learningRate = (schedule: LearningRateSchedule, step: number): number => {
  const { baseLr, warmupSteps } = schedule;
  if (step < warmupSteps) return (baseLr * step) / warmupSteps;
  if (schedule.kind === "warmupConstant") return baseLr;
  const { totalSteps, minLr } = schedule;
  if (step >= totalSteps) return minLr;
  const fall = 0.5 * (1 - Math.cos((Math.PI * (step - warmupSteps)) / (totalSteps - warmupSteps)));
  return Math.max(minLr, baseLr - (baseLr - minLr) * fall);
};
