/**
 * Exponential moving averages of network parameters, ema ← β·ema + (1 − β)·θ after every optimizer step, and
 * the two ways diffusion training chooses β: diffusers' `EMAModel` (a fixed β, optionally warmed up as
 * 1 − (1 + t/γ)^−p) and EDM's half-life in training samples (β = 0.5^(batch / half-life), with a ramp-up).
 *
 * Sources: Polyak & Juditsky, "Acceleration of stochastic approximation by averaging", SIAM J. Control Optim.
 * 1992 (parameter averaging); Ho et al., "Denoising Diffusion Probabilistic Models", NeurIPS 2020, Appendix B
 * (EMA decay 0.9999); diffusers `training_utils.EMAModel.get_decay`; Karras et al., "Elucidating the Design
 * Space of Diffusion-Based Generative Models", NeurIPS 2022, `training/training_loop.py` (`ema_halflife_kimg`,
 * `ema_rampup_ratio`).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { ScoreflowError } from "../../core/errors.js";
import type { Tensor } from "../../core/tensor.js";
import {
  checkAll,
  checkOrdered,
  inClosedInterval,
  isNonNegative,
  isNonNegativeInteger,
  isPositive,
} from "../../core/validate.js";
import type { Parameters } from "../network.js";

/**
 * One EMA update of every averaged parameter:
 *
 *   ema ← β·ema + (1 − β)·θ,   computed as ema − (1 − β)·(ema − θ)
 *
 * (diffusers' form, which leaves ema = θ exactly fixed), in float64 and rounded once to float32. β ∈ [0, 1]:
 * β = 0 copies θ, β = 1 keeps ema. Only the names of `ema` are averaged; one missing from `params` passes
 * through unchanged. Shapes must match. Returns a new map; the inputs are not modified.
 *
 * Source: diffusers `EMAModel.step` (`s_param.sub_(one_minus_decay * (s_param - param))`); EDM
 * `training_loop.py` (`p_net.lerp(p_ema, ema_beta)`).
 *
 * @category Training
 */
export const emaUpdate = (ema: Parameters, params: Parameters, decay: number): Parameters => {
  const oneMinusDecay = 1 - decay;
  const out = new Map<string, Tensor>();
  for (const [name, e] of ema) {
    const p = params.get(name);
    if (p === undefined) {
      out.set(name, e);
      continue;
    }
    const data = new Float32Array(e.data.length);
    for (let i = 0; i < data.length; i++) data[i] = e.data[i] - oneMinusDecay * (e.data[i] - p.data[i]);
    out.set(name, { shape: e.shape, data });
  }
  return out;
};

/**
 * How diffusers' `EMAModel` picks the decay of update t (its `get_decay` options).
 *
 * @category Training
 */
export interface EmaDecayOptions {
  /** The largest decay β_max ∈ [0, 1] (diffusers' `decay`); default 0.9999 (Ho et al. 2020). */
  readonly decay: number;
  /** The smallest decay β_min ∈ [0, β_max] once averaging has started (`min_decay`); default 0. */
  readonly minDecay: number;
  /** Updates before averaging starts, an integer ≥ 0 (`update_after_step`); default 0. */
  readonly updateAfterStep: number;
  /** Warm the decay up as 1 − (1 + s/γ)^−p (`use_ema_warmup`); default false (β_max from the start). */
  readonly useWarmup: boolean;
  /** γ⁻¹ > 0 of the warm-up (`inv_gamma`); default 1. */
  readonly invGamma: number;
  /** p > 0 of the warm-up (`power`); default 2/3 (β = 0.999 at s ≈ 31.6k, 0.9999 at s = 10⁶). */
  readonly power: number;
}

/**
 * Validated {@link EmaDecayOptions}: the given fields over diffusers' `EMAModel` defaults (decay 0.9999,
 * minDecay 0, updateAfterStep 0, no warm-up, invGamma 1, power 2/3). Checks decay ∈ [0, 1],
 * 0 ≤ minDecay ≤ decay, updateAfterStep an integer ≥ 0, invGamma > 0, power > 0.
 *
 * Source: diffusers `training_utils.EMAModel.__init__`.
 *
 * @category Training
 */
export const emaDecayOptions = (
  partial: Partial<EmaDecayOptions> = {},
): E.Either<ScoreflowError, EmaDecayOptions> => {
  const options: EmaDecayOptions = {
    decay: partial.decay ?? 0.9999,
    minDecay: partial.minDecay ?? 0,
    updateAfterStep: partial.updateAfterStep ?? 0,
    useWarmup: partial.useWarmup ?? false,
    invGamma: partial.invGamma ?? 1,
    power: partial.power ?? 2 / 3,
  };
  const context = "EMA decay";
  return pipe(
    checkAll(context, [
      ["decay", options.decay, inClosedInterval(0, 1)],
      ["minDecay", options.minDecay, isNonNegative],
      ["updateAfterStep", options.updateAfterStep, isNonNegativeInteger],
      ["invGamma", options.invGamma, isPositive],
      ["power", options.power, isPositive],
    ]),
    E.flatMap(() => checkOrdered(context, ["minDecay", options.minDecay], ["decay", options.decay], false)),
    E.map(() => options),
  );
};

/**
 * The decay of EMA update number `step` (1 for the first update), as diffusers' `EMAModel.get_decay`:
 *
 *   s = step − updateAfterStep − 1;   β = 0 if s ≤ 0, else
 *   β = clamp(1 − (1 + s/γ)^−p, minDecay, decay) with warm-up,   β = decay without.
 *
 * So the first update after `updateAfterStep` (and every update before it) copies the parameters, and with
 * warm-up β rises from 1 − (1 + 1/γ)^−p towards `decay`. `step` is an integer ≥ 1.
 *
 * Source: diffusers `training_utils.EMAModel.get_decay` (warm-up due to K. Crowson, after Polyak averaging).
 *
 * @category Training
 */
export const emaDecay = (options: EmaDecayOptions, step: number): number => {
  const s = step - options.updateAfterStep - 1;
  if (s <= 0) return 0;
  const warm = options.useWarmup ? 1 - (1 + s / options.invGamma) ** -options.power : options.decay;
  return Math.max(Math.min(warm, options.decay), options.minDecay);
};

/** EDM's floor on the half-life, so that a zero half-life gives β = 0 (copy) rather than 0.5^∞ = NaN. */
const MIN_HALF_LIFE = 1e-8;

/**
 * The EMA decay that halves the weight of past parameters every `halfLifeSamples` training samples:
 *
 *   β = 0.5^(B / max(H, 10⁻⁸))
 *
 * with batch size B > 0 and half-life H ≥ 0 (in samples; EDM's `ema_halflife_kimg`·1000, default 500k). After
 * H/B updates (H samples) the old average keeps weight βᴴᐟᴮ = ½, whatever the batch size. H = 0 gives β = 0.
 *
 * Source: Karras et al. (2022), `training/training_loop.py` (`ema_beta`), Appendix F.1 (EMA half-life 0.5 Mimg).
 *
 * @category Training
 */
export const emaHalfLifeDecay = (batchSize: number, halfLifeSamples: number): number =>
  0.5 ** (batchSize / Math.max(halfLifeSamples, MIN_HALF_LIFE));

/**
 * EDM's EMA: a half-life in samples, shortened early in training to a fraction of the samples seen so far.
 *
 * @category Training
 */
export interface EdmEmaOptions {
  /** Half-life H > 0 in training samples; default 500 000 (EDM's `ema_halflife_kimg` = 500). */
  readonly halfLifeSamples: number;
  /** Ramp-up ratio r ≥ 0: the half-life is min(H, r·samples seen); default 0.05. `undefined`: no ramp-up. */
  readonly rampupRatio: number | undefined;
}

/**
 * Validated {@link EdmEmaOptions} over EDM's defaults (H = 500 000 samples, r = 0.05): H > 0, r ≥ 0 if given.
 * Passing `rampupRatio: undefined` explicitly turns the ramp-up off (EDM's `--ema-rampup=None`).
 *
 * Source: Karras et al. (2022), `train.py` and `training/training_loop.py` defaults.
 *
 * @category Training
 */
export const edmEmaOptions = (
  partial: Partial<EdmEmaOptions> = {},
): E.Either<ScoreflowError, EdmEmaOptions> => {
  const options: EdmEmaOptions = {
    halfLifeSamples: partial.halfLifeSamples ?? 500_000,
    rampupRatio: "rampupRatio" in partial ? partial.rampupRatio : 0.05,
  };
  return pipe(
    checkAll("EDM EMA", [
      ["halfLifeSamples", options.halfLifeSamples, isPositive],
      ...(options.rampupRatio === undefined
        ? []
        : [["rampupRatio", options.rampupRatio, isNonNegative] as const]),
    ]),
    E.map(() => options),
  );
};

/**
 * EDM's EMA decay for the update made after `samplesSeen` training samples (0 for the first update):
 *
 *   H' = min(H, r·samplesSeen) (H' = H without ramp-up),   β = 0.5^(B / max(H', 10⁻⁸))
 *
 * so the first update copies the parameters and the average covers about the last r fraction of training until
 * that exceeds H. B > 0 is the batch size, samplesSeen ≥ 0.
 *
 * Source: Karras et al. (2022), `training/training_loop.py` (`ema_halflife_nimg`, `ema_beta`).
 *
 * @category Training
 */
export const edmEmaDecay = (options: EdmEmaOptions, batchSize: number, samplesSeen: number): number =>
  emaHalfLifeDecay(
    batchSize,
    options.rampupRatio === undefined
      ? options.halfLifeSamples
      : Math.min(options.halfLifeSamples, samplesSeen * options.rampupRatio),
  );
