/**
 * DDPM as the discretized VP SDE (Song et al. 2021, "Score-Based Generative Modeling through Stochastic
 * Differential Equations", ICLR, App. B, eq. 26–29; score_sde `VPSDE.discretize`). The VP SDE
 * dx = −½β̄(t)·x dt + √β̄(t) dw on [0, 1] with β̄(t) = β_min + t·(β_max − β_min) is the N → ∞ limit of the DDPM
 * chain x_i = √(1 − β_i)·x_{i−1} + √β_i·z_{i−1} with β_i = β̄(t_i)/N, t_i = i/(N − 1), i = 0 … N − 1.
 *
 * What is exact and what is a limit:
 * - the map of β is exact: β̄(t_i)/N = β_min/N + i·(β_max/N − β_min/N)/(N − 1) is diffusers' `"linear"` schedule
 *   with β_start = β_min/N, β_end = β_max/N (the two float64 evaluations differ by rounding only: a few ulps,
 *   ≤ 1e-15 relative);
 * - the marginals agree only as N → ∞: with index i ↔ time t = (i + 1)/N, ᾱ_i = s(t)² + O(1/N) and
 *   1 − ᾱ_i = σ(t)² + O(1/N), where s(t) = exp(−¼t²(β_max − β_min) − ½t·β_min) and σ(t)² = 1 − s(t)². The
 *   error is first order, not rounding: log ᾱ_i = Σ log(1 − β_j) is a left Riemann sum of −∫β̄ on a grid
 *   i/(N − 1) that is off by one cell from (i + 1)/N, plus the −½Σβ_j² = O(1/N) of log(1 − β) ≠ −β.
 *
 * (score_sde's ancestral sampler looks the β of time t up at index ⌊t·(N − 1)⌋, the grid of β̄; the time of
 * the marginal ᾱ_i is (i + 1)/N. Both grids differ by O(1/N).)
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { check, checkAll, checkOrdered, inClosedInterval, isPositive } from "../core/validate.js";
import { integerIn, MAX_DDPM_TIMESTEPS } from "./rules.js";
import { type DdpmSchedule, ddpmSchedule } from "./schedule.js";

/**
 * Options of {@link vpDdpmSchedule}; defaults are score_sde's `VPSDE(beta_min=0.1, beta_max=20, N=1000)`.
 *
 * @category Discrete
 */
export interface VpDdpmScheduleOptions {
  /** β_min = β̄(0) > 0; default 0.1. */
  readonly betaMin?: number;
  /** β_max = β̄(1), β_min ≤ β_max < N; default 20. */
  readonly betaMax?: number;
  /** N, the number of discrete steps: an integer in [2, 2²⁴]; default 1000. */
  readonly numSteps?: number;
}

const CONTEXT = "VP DDPM schedule";

/**
 * The DDPM schedule of the VP SDE with β̄(t) = β_min + t·(β_max − β_min) at N steps (Song et al. 2021, App. B,
 * eq. 26–29; score_sde `VPSDE.discrete_betas`): β_i = β̄(t_i)/N, t_i = i/(N − 1), built as diffusers' linear
 * schedule `ddpmSchedule({ kind: "linear", numTrainTimesteps: N, betaStart: β_min/N, betaEnd: β_max/N })`.
 * Pair index i with time t = (i + 1)/N ({@link ddpmTimeOfIndex}); the marginals then match the SDE's to O(1/N).
 *
 * Ranges: 0 < β_min ≤ β_max < N; N an integer in [2, 2²⁴].
 *
 * @category Discrete
 */
export const vpDdpmSchedule = (
  options: VpDdpmScheduleOptions = {},
): E.Either<ScoreflowError, DdpmSchedule> => {
  const { betaMin = 0.1, betaMax = 20, numSteps = 1000 } = options;
  return pipe(
    checkAll(CONTEXT, [
      ["numSteps", numSteps, integerIn(2, MAX_DDPM_TIMESTEPS)],
      ["betaMin", betaMin, isPositive],
      ["betaMax", betaMax, isPositive],
    ]),
    E.flatMap(() => checkOrdered(CONTEXT, ["betaMin", betaMin], ["betaMax", betaMax], false)),
    E.flatMap(() =>
      betaMax < numSteps
        ? E.right(undefined)
        : E.left(
            scoreflowError(
              CONTEXT,
              "betaMax",
              betaMax,
              "must be < numSteps so that every β_i = β̄(t_i)/N < 1",
              `betaMax=${betaMax}, numSteps=${numSteps}`,
            ),
          ),
    ),
    E.flatMap(() =>
      ddpmSchedule({
        kind: "linear",
        numTrainTimesteps: numSteps,
        betaStart: betaMin / numSteps,
        betaEnd: betaMax / numSteps,
      }),
    ),
  );
};

/**
 * The continuous time t = (i + 1)/N ∈ (0, 1] of DDPM index i out of N: the end of the i-th cell of the uniform
 * grid, where ᾱ_i ≈ s(t)² (Song et al. 2021, App. B; paper step i + 1 at time (i + 1)/N).
 *
 * numSteps: integer in [1, 2²⁴]; index: integer in [0, N − 1].
 *
 * @category Discrete
 */
export const ddpmTimeOfIndex = (numSteps: number, index: number): E.Either<ScoreflowError, number> =>
  pipe(
    check("DDPM time of index", "numSteps", numSteps, integerIn(1, MAX_DDPM_TIMESTEPS)),
    E.flatMap(() => check("DDPM time of index", "index", index, integerIn(0, numSteps - 1))),
    E.map(() => (index + 1) / numSteps),
  );

/**
 * The DDPM index whose time (i + 1)/N is nearest to t ∈ [0, 1]: i = round(t·N) − 1, clamped to [0, N − 1]
 * (halves round up; times below 1/(2N) map to index 0). Inverse of {@link ddpmTimeOfIndex} on its image.
 *
 * numSteps: integer in [1, 2²⁴]; time: in [0, 1].
 *
 * @category Discrete
 */
export const ddpmIndexOfTime = (numSteps: number, time: number): E.Either<ScoreflowError, number> =>
  pipe(
    check("DDPM index of time", "numSteps", numSteps, integerIn(1, MAX_DDPM_TIMESTEPS)),
    E.flatMap(() => check("DDPM index of time", "time", time, inClosedInterval(0, 1))),
    E.map(() => Math.min(Math.max(Math.round(time * numSteps) - 1, 0), numSteps - 1)),
  );
