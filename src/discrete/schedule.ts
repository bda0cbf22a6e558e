/**
 * Discrete-time DDPM noise schedules (Ho et al. 2020, "Denoising Diffusion Probabilistic Models", NeurIPS):
 * T variances β_0 … β_{T−1}, their complements α_t = 1 − β_t and the cumulative products ᾱ_t = ∏_{i≤t} α_i.
 * Names, defaults and formulas follow diffusers' `DDPMScheduler` (`beta_schedule`, `num_train_timesteps`,
 * `beta_start`, `beta_end`, `trained_betas`) so that configurations carry over unchanged, computed in float64.
 *
 * Indices are 0-based exactly as in diffusers: index t = 0 … T−1 is step t + 1 of the paper, whose steps run
 * 1 … T; the paper's β_1 is `betas[0]` here.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { check, checkAll, checkOrdered, inOpenInterval } from "../core/validate.js";
import { linspace } from "./numpy.js";
import { integerIn, MAX_DDPM_TIMESTEPS } from "./rules.js";

/**
 * The β schedules of diffusers' `DDPMScheduler` (`beta_schedule`):
 * - `"linear"`: β_t = linspace(β_start, β_end, T)_t (Ho et al. 2020, §4: 10⁻⁴ to 0.02 over T = 1000);
 * - `"scaled_linear"`: β_t = linspace(√β_start, √β_end, T)_t² (latent/Stable Diffusion; Rombach et al. 2022);
 * - `"squaredcos_cap_v2"`: β_t = min(1 − ᾱ((t+1)/T)/ᾱ(t/T), 0.999), ᾱ(τ) = cos²((τ + 0.008)/1.008 · π/2)
 *   (Nichol & Dhariwal 2021, "Improved DDPM", ICML, eq. 17);
 * - `"sigmoid"`: β_t = sigmoid(linspace(−6, 6, T)_t)·(β_end − β_start) + β_start (diffusers; Jabri et al. 2022,
 *   "Scalable Adaptive Computation for Iterative Generation", ICML).
 *
 * @category Discrete
 */
export type BetaScheduleKind = "linear" | "scaled_linear" | "squaredcos_cap_v2" | "sigmoid";

/** The kinds accepted at run time, for the boundary check. */
const KINDS: readonly BetaScheduleKind[] = ["linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid"];

/**
 * A discrete DDPM schedule of T steps, as float64 arrays of length T indexed by t = 0 … T−1 (paper step t + 1).
 * Invariants (checked by {@link ddpmSchedule}): 0 < β_t < 1, 0 < α_t < 1 and 1 > ᾱ_0 > ᾱ_1 > … > ᾱ_{T−1} > 0
 * in float64. Immutable by convention.
 *
 * @category Discrete
 */
export interface DdpmSchedule {
  /** How the βs were made: one of {@link BetaScheduleKind}, or `"trained"` for explicitly given βs. */
  readonly kind: BetaScheduleKind | "trained";
  /** β_t, the variance of the forward step q(x_t | x_{t−1}) (Ho et al. 2020, eq. 2). */
  readonly betas: Float64Array;
  /** α_t = 1 − β_t (Ho et al. 2020, §2 below eq. 3). */
  readonly alphas: Float64Array;
  /** ᾱ_t = ∏_{i≤t} α_i, the signal power of q(x_t | x_0) (Ho et al. 2020, eq. 4); diffusers' `alphas_cumprod`. */
  readonly alphaBars: Float64Array;
  /**
   * 1 − ᾱ_t, the noise variance of q(x_t | x_0), computed without cancellation: while ᾱ_t ≥ ½ by the
   * recursion 1 − ᾱ_t = (1 − ᾱ_{t−1}) + ᾱ_{t−1}·β_t (sums of positive terms, so 1 − ᾱ_0 = β_0 exactly), and
   * as 1 − ᾱ_t (exact to one rounding) once ᾱ_t < ½. The naive 1 − ᾱ_t has relative error up to 2⁻⁵⁴/β_0.
   */
  readonly oneMinusAlphaBars: Float64Array;
}

/**
 * Options of {@link ddpmSchedule}; every field is optional and defaults to diffusers' `DDPMScheduler` default.
 *
 * @category Discrete
 */
export interface DdpmScheduleOptions {
  /** The β schedule; default `"linear"`. Ignored when `betas` is given (as diffusers does). */
  readonly kind?: BetaScheduleKind;
  /** T, the number of training timesteps: an integer in [2, 2²⁴]; default 1000. */
  readonly numTrainTimesteps?: number;
  /**
   * β_start in (0, 1), ≤ β_end; default 10⁻⁴. Unused by `"squaredcos_cap_v2"` and `betas` (but still checked
   * when the schedule is generated, so that a NaN never passes silently).
   */
  readonly betaStart?: number;
  /** β_end in (0, 1), ≥ β_start; default 0.02. Unused by `"squaredcos_cap_v2"` (checked all the same). */
  readonly betaEnd?: number;
  /**
   * Explicit β_0 … β_{T−1}, each in (0, 1) (diffusers' `trained_betas`); T = its length, 1 ≤ T ≤ 2²⁴. When
   * given, `kind`, `betaStart` and `betaEnd` are ignored and `numTrainTimesteps`, if given, must equal T.
   */
  readonly betas?: ArrayLike<number>;
}

const CONTEXT = "DDPM schedule";
/** ᾱ(τ) offset s of Nichol & Dhariwal (2021), eq. 17. */
const COSINE_OFFSET = 0.008;
/** β cap of Nichol & Dhariwal (2021), §3.2 (diffusers' `max_beta`). */
const COSINE_MAX_BETA = 0.999;

/** ᾱ(τ) = cos²((τ + s)/(1 + s) · π/2), in the order of operations of diffusers' `alpha_bar_fn`. */
const cosineAlphaBar = (tau: number): number => {
  const c = Math.cos((((tau + COSINE_OFFSET) / (1 + COSINE_OFFSET)) * Math.PI) / 2);
  return c * c;
};

/** The logistic function 1/(1 + e⁻ˣ). */
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The βs of a generated schedule; inputs already validated. */
const betasOf = (kind: BetaScheduleKind, T: number, betaStart: number, betaEnd: number): Float64Array => {
  switch (kind) {
    case "linear":
      return linspace(betaStart, betaEnd, T);
    case "scaled_linear":
      return linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), T).map((r) => r * r);
    case "squaredcos_cap_v2":
      return Float64Array.from({ length: T }, (_, i) =>
        Math.min(1 - cosineAlphaBar((i + 1) / T) / cosineAlphaBar(i / T), COSINE_MAX_BETA),
      );
    case "sigmoid":
      return linspace(-6, 6, T).map((x) => sigmoid(x) * (betaEnd - betaStart) + betaStart);
  }
};

/**
 * Completes a schedule from βs in (0, 1), checking that α_t < 1 and that ᾱ is strictly decreasing and positive
 * in float64 (a β below 2⁻⁵⁴ rounds α_t to 1; a long schedule of large βs underflows ᾱ to 0).
 */
const fromBetas = (
  kind: DdpmSchedule["kind"],
  betas: Float64Array,
): E.Either<ScoreflowError, DdpmSchedule> => {
  const T = betas.length;
  const alphas = new Float64Array(T);
  const alphaBars = new Float64Array(T);
  const oneMinusAlphaBars = new Float64Array(T);
  let previous = 1;
  let previousComplement = 0;
  for (let t = 0; t < T; t++) {
    const alpha = 1 - betas[t];
    if (!(alpha < 1)) {
      return E.left(
        scoreflowError(CONTEXT, `betas[${t}]`, betas[t], "must exceed 2⁻⁵⁴ so that α = 1 − β < 1 in float64"),
      );
    }
    const alphaBar = previous * alpha;
    if (!(alphaBar > 0)) {
      return E.left(
        scoreflowError(CONTEXT, `alphaBars[${t}]`, alphaBar, "must be > 0 (the product ∏ α_i underflowed)"),
      );
    }
    if (!(alphaBar < previous)) {
      return E.left(
        scoreflowError(
          CONTEXT,
          `alphaBars[${t}]`,
          alphaBar,
          `must be < alphaBars[${t - 1}] (β_${t} is lost to rounding at this ᾱ)`,
        ),
      );
    }
    alphas[t] = alpha;
    alphaBars[t] = alphaBar;
    oneMinusAlphaBars[t] = alphaBar < 0.5 ? 1 - alphaBar : previousComplement + previous * betas[t];
    previous = alphaBar;
    previousComplement = oneMinusAlphaBars[t];
  }
  return E.right({ kind, betas, alphas, alphaBars, oneMinusAlphaBars });
};

/** A schedule from explicit βs (diffusers' `trained_betas`). */
const trained = (
  given: ArrayLike<number>,
  numTrainTimesteps: number | undefined,
): E.Either<ScoreflowError, DdpmSchedule> => {
  const T = given.length;
  return pipe(
    check(CONTEXT, "betas.length", T, integerIn(1, MAX_DDPM_TIMESTEPS)),
    E.flatMap(() =>
      numTrainTimesteps === undefined || numTrainTimesteps === T
        ? E.right(undefined)
        : E.left(
            scoreflowError(
              CONTEXT,
              "numTrainTimesteps",
              numTrainTimesteps,
              "must equal betas.length when betas are given",
              `numTrainTimesteps=${numTrainTimesteps}, betas.length=${T}`,
            ),
          ),
    ),
    E.map(() => Float64Array.from(given)),
    E.flatMap((betas) => {
      const inUnit = inOpenInterval(0, 1);
      const bad = betas.findIndex((b) => !inUnit.test(b));
      return bad >= 0
        ? E.left(scoreflowError(CONTEXT, `betas[${bad}]`, betas[bad], inUnit.rule))
        : fromBetas("trained", betas);
    }),
  );
};

/**
 * Builds a DDPM β schedule and its ᾱs, as diffusers' `DDPMScheduler.__init__` does but in float64 (diffusers
 * computes in float32): see {@link BetaScheduleKind} for the formulas. linspace is NumPy's (y_i = i·step + start,
 * last element exactly `stop`), so `"linear"` β_0 = β_start and β_{T−1} = β_end exactly.
 *
 * Defaults: `{ kind: "linear", numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02 }` (Ho et al. 2020, §4).
 * Ranges: T an integer in [2, 2²⁴]; 0 < β_start ≤ β_end < 1; explicit βs in (0, 1). Returns a `Left` naming the
 * field for anything else, and also when float64 cannot represent the schedule (α_t rounds to 1, or ᾱ_t
 * underflows to 0).
 *
 * @category Discrete
 */
export const ddpmSchedule = (options: DdpmScheduleOptions = {}): E.Either<ScoreflowError, DdpmSchedule> => {
  if (options.betas !== undefined) return trained(options.betas, options.numTrainTimesteps);
  const { kind = "linear", numTrainTimesteps = 1000, betaStart = 1e-4, betaEnd = 0.02 } = options;
  return pipe(
    KINDS.includes(kind)
      ? E.right(undefined)
      : E.left(
          scoreflowError(CONTEXT, "kind", kind, `must be one of ${KINDS.map((k) => `"${k}"`).join(", ")}`),
        ),
    E.flatMap(() =>
      checkAll(CONTEXT, [
        ["numTrainTimesteps", numTrainTimesteps, integerIn(2, MAX_DDPM_TIMESTEPS)],
        ["betaStart", betaStart, inOpenInterval(0, 1)],
        ["betaEnd", betaEnd, inOpenInterval(0, 1)],
      ]),
    ),
    E.flatMap(() => checkOrdered(CONTEXT, ["betaStart", betaStart], ["betaEnd", betaEnd], false)),
    E.flatMap(() => fromBetas(kind, betasOf(kind, numTrainTimesteps, betaStart, betaEnd))),
  );
};

/**
 * Checks that `t` is a timestep index of `schedule`: an integer in [0, T − 1].
 *
 * @category Discrete
 */
export const checkTimestep = (
  context: string,
  schedule: DdpmSchedule,
  t: number,
): E.Either<ScoreflowError, number> => check(context, "t", t, integerIn(0, schedule.betas.length - 1));
