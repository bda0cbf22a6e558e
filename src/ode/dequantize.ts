/**
 * Uniform dequantization of k-bit data and the bits/dim of discrete data under a continuous density (Theis et
 * al. 2016, "A note on the evaluation of generative models", ICLR, §3.1; Ho et al. 2019, "Flow++", ICML, §3.1;
 * Song et al. 2021, "Score-Based Generative Modeling through SDEs", ICLR, App. D.2). Levels q ∈ {0, …, 2ᵏ − 1}
 * map to the bins [low + q·Δ, low + (q + 1)·Δ) of width Δ = (high − low)/2ᵏ in the model's space, [−1, 1] by
 * default.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { fillUniform, foldIn, type RngKey } from "../core/rng.js";
import { type Tensor64, tensor } from "../core/tensor.js";
import { checkAll, checkOrdered, isFiniteNumber } from "../core/validate.js";

/**
 * A k-bit quantization of the interval [low, high] of the model's space into 2ᵏ bins of equal width.
 *
 * @category Likelihood
 */
export interface Quantization {
  /** The bit depth k, an integer in [1, 32]: the data take the 2ᵏ levels 0, …, 2ᵏ − 1. */
  readonly bits: number;
  /** The lower end of the model's data range (level 0 is the bin [low, low + Δ)). */
  readonly low: number;
  /** The upper end of the model's data range, > low (level 2ᵏ − 1 is the bin [high − Δ, high)). */
  readonly high: number;
}

/**
 * The parameters of {@link quantization}.
 *
 * @category Likelihood
 */
export interface QuantizationParams {
  /** The bit depth k, an integer in [1, 32]. */
  readonly bits: number;
  /** The lower end of the range, finite (default −1). */
  readonly low?: number;
  /** The upper end of the range, finite and > low (default 1). */
  readonly high?: number;
}

/**
 * Builds a {@link Quantization}: `bits` an integer in [1, 32] (so that a level plus a uniform offset keeps at
 * least 21 fractional bits in float64), `low` < `high` finite, by default [−1, 1] (the range score_sde and DDPM
 * train on, Ho et al. 2020, §4). Returns a Left naming the first field that breaks these rules.
 *
 * @param params - k, and optionally the range [low, high].
 * @category Likelihood
 */
export const quantization = (params: QuantizationParams): E.Either<ScoreflowError, Quantization> => {
  const context = "quantization";
  const { bits, low = -1, high = 1 } = params;
  const valid = checkAll(context, [
    [
      "bits",
      bits,
      { test: (k) => Number.isInteger(k) && k >= 1 && k <= 32, rule: "must be an integer in [1, 32]" },
    ],
    ["low", low, isFiniteNumber],
    ["high", high, isFiniteNumber],
  ]);
  if (E.isLeft(valid)) return valid;
  return E.map((): Quantization => ({ bits, low, high }))(
    checkOrdered(context, ["low", low], ["high", high], true),
  );
};

/**
 * The bin width Δ = (high − low)/2ᵏ of a quantization in the model's space (2^{1−k} for the default [−1, 1]).
 *
 * @category Likelihood
 */
export const binWidth = (q: Quantization): number => (q.high - q.low) / 2 ** q.bits;

/** Re-issues a validation error of `tensor` under `context`. */
const inContext =
  (context: string) =>
  (error: ScoreflowError): ScoreflowError =>
    scoreflowError(context, error.field, error.value, error.rule);

/** The number of levels 2ᵏ. */
const levels = (q: Quantization): number => 2 ** q.bits;

/** The level of a model-space value: ⌊(y − low)/Δ⌋, clipped to {0, …, 2ᵏ − 1}. */
const levelOf = (q: Quantization, y: number): number =>
  Math.min(levels(q) - 1, Math.max(0, Math.floor((y - q.low) / binWidth(q))));

/**
 * Uniform dequantization: y = low + (q + u)·Δ with u ~ U[0, 1)^d (Theis et al. 2016, §3.1; Ho et al. 2019,
 * §3.1): every level q becomes a point drawn uniformly from its own bin. Row r of the first axis draws its
 * offsets from `foldIn(key, r)`, so a point's noise does not depend on the batch size. In the measure-zero
 * event that float64 rounding carries low + (q + u)·Δ out of bin q (u within a few ulps of 0 or 1), the bin
 * centre is used, so that {@link quantize} always recovers q.
 *
 * Returns a Left unless `data` is a valid tensor whose every entry is an integer level in {0, …, 2ᵏ − 1}.
 *
 * @param q - the quantization.
 * @param data - integer levels, any shape with the batch along the first axis.
 * @param key - the key of the batch.
 * @returns dequantized points in [low, high), same shape.
 * @category Likelihood
 */
export const dequantize = (
  q: Quantization,
  data: Tensor64,
  key: RngKey,
): E.Either<ScoreflowError, Tensor64> => {
  const context = `dequantize (${q.bits}-bit)`;
  const valid = tensor(data.shape, data.data);
  if (E.isLeft(valid)) return E.left(inContext(context)(valid.left));
  const top = levels(q) - 1;
  const bad = data.data.findIndex((v) => !(Number.isInteger(v) && v >= 0 && v <= top));
  if (bad >= 0) {
    return E.left(
      scoreflowError(context, `data[${bad}]`, data.data[bad], `must be an integer level in [0, ${top}]`),
    );
  }
  const delta = binWidth(q);
  const n = data.shape[0];
  const cols = data.data.length / n;
  const out = new Float64Array(data.data.length);
  for (let r = 0; r < n; r++) fillUniform(foldIn(key, r), out.subarray(r * cols, (r + 1) * cols));
  for (let i = 0; i < out.length; i++) {
    const level = data.data[i];
    const y = q.low + (level + out[i]) * delta;
    out[i] = levelOf(q, y) === level ? y : q.low + (level + 0.5) * delta;
  }
  return E.right({ shape: [...data.shape], data: out });
};

/**
 * The level of each model-space value, q = ⌊(y − low)/Δ⌋ clipped to {0, …, 2ᵏ − 1}: the inverse of
 * {@link dequantize} (quantize(dequantize(q)) = q). Returns a Left unless `y` is a valid, finite tensor.
 *
 * @param q - the quantization.
 * @param y - model-space values, any shape.
 * @returns integer levels, same shape.
 * @category Likelihood
 */
export const quantize = (q: Quantization, y: Tensor64): E.Either<ScoreflowError, Tensor64> =>
  E.map((valid: Tensor64): Tensor64 => ({ shape: valid.shape, data: valid.data.map((v) => levelOf(q, v)) }))(
    E.mapLeft(inContext(`quantize (${q.bits}-bit)`))(tensor(y.shape, y.data)),
  );

/**
 * Bits per dimension of a continuous density: −log p(x)/(d·ln 2) for log p(x) in nats over d dimensions
 * (Theis et al. 2016, §3.1; score_sde's `bpd`).
 *
 * @param logDensity - log p(x) in nats.
 * @param d - the number of dimensions, ≥ 1.
 * @category Likelihood
 */
export const bitsPerDim = (logDensity: number, d: number): number => -logDensity / (d * Math.LN2);

/**
 * Bits per dimension of k-bit discrete data from the model density p at its uniformly dequantized point y:
 *
 *   bpd = −(log p(y) + d·log Δ)/(d·ln 2) = −log p(y)/(d·ln 2) − log₂ Δ,
 *
 * Δ the bin width in the model's space. The discrete probability of a bin is P(q) = ∫_bin p ≈ p(y)·Δ^d, and by
 * Jensen's inequality E_u[log p(y)] + d·log Δ ≤ log P(q), so the mean over u of this bpd bounds −log₂ P(q)/d
 * from above (Theis et al. 2016, eq. 9–11; Ho et al. 2019, §3.1, eq. 11; Song et al. 2021, App. D.2). For the
 * default range [−1, 1], −log₂ Δ = k − 1 (7 for 8-bit data, score_sde's offset). A model uniform over
 * [low, high]^d, log p = −d·log(high − low), gives exactly k bits/dim.
 *
 * @param q - the quantization of the data.
 * @param logDensity - log p(y) in nats at the dequantized point y.
 * @param d - the number of dimensions, ≥ 1.
 * @category Likelihood
 */
export const discreteBitsPerDim = (q: Quantization, logDensity: number, d: number): number =>
  bitsPerDim(logDensity, d) - Math.log2(binWidth(q));
