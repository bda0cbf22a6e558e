/**
 * The PI step-size controller (Gustafsson 1991, ACM TOMS 17; Hairer & Wanner 1996, "Solving ODEs II", §IV.2):
 * a step is accepted when its scaled error estimate is ≤ 1, and the next step is h·factor with
 * factor = safety·err^{−α}·err_prev^{β}, clipped.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "../core/errors.js";
import { checkAll, inOpenInterval, isNonNegative, isPositive } from "../core/validate.js";

/**
 * Parameters of the PI controller (Hairer II, §IV.2; the defaults are Hairer's for a 5(4) pair, whose
 * error estimate is O(h^k) with k = 5: α = 0.7/k, β = 0.4/k).
 *
 * @category Solvers
 */
export interface PiController {
  /** Safety factor in (0, 1] (default 0.9). */
  readonly safety: number;
  /** Exponent α > 0 of the current error (default 0.7/5 = 0.14). */
  readonly alpha: number;
  /** Exponent β ≥ 0 of the previous accepted error (default 0.4/5 = 0.08; β = 0 is the I controller). */
  readonly beta: number;
  /** Smallest factor, in (0, 1) (default 0.2). */
  readonly minFactor: number;
  /** Largest factor, > 1 (default 10). */
  readonly maxFactor: number;
}

/**
 * The default PI controller: safety 0.9, α = 0.7/5, β = 0.4/5, factors clipped to [0.2, 10].
 *
 * @category Solvers
 */
export const defaultPiController: PiController = {
  safety: 0.9,
  alpha: 0.7 / 5,
  beta: 0.4 / 5,
  minFactor: 0.2,
  maxFactor: 10,
};

/**
 * Builds a PI controller from the defaults and the given overrides, checking safety ∈ (0, 1], α > 0, β ≥ 0,
 * minFactor ∈ (0, 1), maxFactor > 1 (finite).
 *
 * @category Solvers
 */
export const piController = (
  overrides: Partial<PiController> = {},
): E.Either<ScoreflowError, PiController> => {
  const controller = { ...defaultPiController, ...overrides };
  return E.map(() => controller)(
    checkAll("piController", [
      [
        "safety",
        controller.safety,
        { test: (x) => x > 0 && x <= 1, rule: "must lie in the half-open interval (0, 1]" },
      ],
      ["alpha", controller.alpha, isPositive],
      ["beta", controller.beta, isNonNegative],
      ["minFactor", controller.minFactor, inOpenInterval(0, 1)],
      [
        "maxFactor",
        controller.maxFactor,
        { test: (x) => Number.isFinite(x) && x > 1, rule: "must be a finite number > 1" },
      ],
    ]),
  );
};

/**
 * The controller's verdict on one attempted step.
 *
 * @category Solvers
 */
export interface StepDecision {
  /** True when err ≤ 1: the step is kept. */
  readonly accept: boolean;
  /** The factor to multiply the step size by for the next attempt. */
  readonly factor: number;
}

/**
 * Accepts a step when err ≤ 1 and proposes factor = safety·err^{−α}·err_prev^{β} (Gustafsson 1991; Hairer II, §IV.2),
 * clipped to [minFactor, maxFactor]; after a rejection, and right after one, the factor is capped at 1 (no
 * growth, Shampine & Watts 1979, as advised in Hairer I, §II.4). err = 0 gives maxFactor; a non-finite err is a rejection with
 * minFactor.
 *
 * @param err - The scaled error norm of the attempted step, ≥ 0.
 * @param errPrev - The scaled error of the last accepted step (1 before any).
 * @param rejectedLast - Whether the previous attempt was rejected.
 * @category Solvers
 */
export const decideStep = (
  controller: PiController,
  err: number,
  errPrev: number,
  rejectedLast: boolean,
): StepDecision => {
  const { safety, alpha, beta, minFactor, maxFactor } = controller;
  if (!Number.isFinite(err)) return { accept: false, factor: minFactor };
  const accept = err <= 1;
  const upper = accept && !rejectedLast ? maxFactor : 1;
  const raw = err === 0 ? upper : safety * err ** -alpha * errPrev ** beta;
  return { accept, factor: Math.min(upper, Math.max(minFactor, raw)) };
};
