/**
 * Inference timesteps: which N of the T training indices a sampler visits, as diffusers' `set_timesteps` chooses
 * them (`timestep_spacing`; Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed",
 * WACV, §3.4, Table 2), computed with NumPy's float64 arithmetic and round-half-to-even so that the indices match
 * diffusers exactly.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { check, isNonNegativeInteger } from "../core/validate.js";
import { linspace, roundHalfEven } from "./numpy.js";
import { integerIn, MAX_DDPM_TIMESTEPS } from "./rules.js";

/**
 * diffusers' `timestep_spacing`, for N inference steps out of T training timesteps:
 * - `"linspace"`: round(linspace(0, T − 1, N)), reversed — both ends included;
 * - `"leading"`: k·⌊T/N⌋ + stepsOffset for k = N − 1 … 0 — ends at 0 (+ offset) but usually starts well below
 *   T − 1, e.g. 900 for T = 1000, N = 10 (the τ_i = ⌊c·i⌋ of Song et al. 2021, "DDIM", ICLR, App. D.2);
 * - `"trailing"`: round(T − k·T/N) − 1 for k = 0 … N − 1 — always starts at T − 1 (Lin et al. 2024, §3.4).
 *
 * @category Discrete
 */
export type TimestepSpacing = "linspace" | "leading" | "trailing";

/** The spacings accepted at run time, for the boundary check. */
const SPACINGS: readonly TimestepSpacing[] = ["linspace", "leading", "trailing"];

/**
 * Options of {@link ddpmTimesteps}; defaults are diffusers' `DDPMScheduler` defaults.
 *
 * @category Discrete
 */
export interface DdpmTimestepsOptions {
  /** N, the number of sampling steps: an integer in [1, T]. */
  readonly numInferenceSteps: number;
  /** T, the number of training timesteps: an integer in [1, 2²⁴]; default 1000. */
  readonly numTrainTimesteps?: number;
  /** How the N indices are spread over [0, T − 1]; default `"leading"`. */
  readonly spacing?: TimestepSpacing;
  /**
   * diffusers' `steps_offset`, added to every `"leading"` timestep (Stable Diffusion uses 1); an integer ≥ 0,
   * default 0, such that the largest timestep stays ≤ T − 1. Ignored by the other spacings (as in diffusers).
   */
  readonly stepsOffset?: number;
}

const CONTEXT = "DDPM timesteps";

/** The indices of one spacing, descending; inputs already validated. */
const indices = (spacing: TimestepSpacing, T: number, N: number, stepsOffset: number): Int32Array => {
  const out = new Int32Array(N);
  switch (spacing) {
    case "linspace": {
      const grid = linspace(0, T - 1, N);
      for (let k = 0; k < N; k++) out[k] = roundHalfEven(grid[N - 1 - k]);
      return out;
    }
    case "leading": {
      const ratio = Math.floor(T / N);
      for (let k = 0; k < N; k++) out[k] = (N - 1 - k) * ratio + stepsOffset;
      return out;
    }
    case "trailing": {
      // numpy.arange(T, 0, −T/N) fills element k as T + k·δ with δ = (T + (−T/N)) − T recomputed from its
      // first two elements (NumPy's `DOUBLE_fill`); δ can differ from −T/N in the last bit.
      const delta = T - T / N - T;
      for (let k = 0; k < N; k++) out[k] = roundHalfEven(T + k * delta) - 1;
      return out;
    }
  }
};

/**
 * The N timestep indices of a strided sampler, in descending order, exactly as diffusers'
 * `DDPMScheduler.set_timesteps(N)` computes them for each `timestep_spacing` (see {@link TimestepSpacing}).
 * Examples for T = 1000, N = 10: linspace → [999, 888, …, 111, 0]; leading → [900, 800, …, 0];
 * trailing → [999, 899, …, 99].
 *
 * One deliberate difference: for some (T, N) NumPy's `arange(T, 0, −T/N)` has N + 1 elements (its length
 * ⌈T/(T/N)⌉ rounds up, e.g. T = 1000, N = 61, or T = 15, N = 13), so diffusers' `"trailing"` returns an extra
 * timestep −1; this returns the first N, which are diffusers' values.
 *
 * Ranges: T an integer in [1, 2²⁴], N an integer in [1, T], stepsOffset an integer ≥ 0 with
 * (N − 1)·⌊T/N⌋ + stepsOffset ≤ T − 1. The result is strictly decreasing, in [0, T − 1], of length N.
 *
 * @category Discrete
 */
export const ddpmTimesteps = (options: DdpmTimestepsOptions): E.Either<ScoreflowError, Int32Array> => {
  const { numInferenceSteps: N, numTrainTimesteps: T = 1000, spacing = "leading", stepsOffset = 0 } = options;
  return pipe(
    SPACINGS.includes(spacing)
      ? E.right(undefined)
      : E.left(
          scoreflowError(
            CONTEXT,
            "spacing",
            spacing,
            `must be one of ${SPACINGS.map((s) => `"${s}"`).join(", ")}`,
          ),
        ),
    E.flatMap(() => check(CONTEXT, "numTrainTimesteps", T, integerIn(1, MAX_DDPM_TIMESTEPS))),
    E.flatMap(() =>
      check(CONTEXT, "numInferenceSteps", N, {
        ...integerIn(1, T),
        rule: `must be an integer in [1, numTrainTimesteps=${T}]`,
      }),
    ),
    E.flatMap(() => check(CONTEXT, "stepsOffset", stepsOffset, isNonNegativeInteger)),
    E.flatMap(() => {
      const largest = (N - 1) * Math.floor(T / N);
      return spacing !== "leading" || largest + stepsOffset <= T - 1
        ? E.right(indices(spacing, T, N, stepsOffset))
        : E.left(
            scoreflowError(
              CONTEXT,
              "stepsOffset",
              stepsOffset,
              `must be ≤ ${T - 1 - largest} so that the largest "leading" timestep ${largest} + stepsOffset ≤ numTrainTimesteps − 1`,
            ),
          );
    }),
  );
};
