/**
 * Time (noise-level) embeddings of a score network: the sinusoidal timestep embedding of DDPM / diffusers'
 * `get_timestep_embedding`, and the Gaussian Fourier features of score SDE / diffusers'
 * `GaussianFourierProjection`, with the backward pass of the latter's weights. Both map N scalars to an [N, D]
 * float32 tensor; the arithmetic runs in float64 and is rounded once at the end (PyTorch computes the
 * frequencies and arguments in float32, so its values differ from these by float32 rounding of the argument,
 * about 6·10⁻⁸·|argument|).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { fillNormal, type RngKey } from "../core/rng.js";
import type { Storage, Tensor, Tensor64 } from "../core/tensor.js";
import { checkAll, isFiniteNumber, isPositive, isPositiveInteger } from "../core/validate.js";
import { checkExactShape, checkOperand } from "./operand-check.js";

/**
 * Options of the sinusoidal timestep embedding, named after diffusers' `get_timestep_embedding` arguments.
 *
 * @category Networks
 */
export interface TimestepEmbeddingOptions {
  /** Output width D ≥ 2 (`embedding_dim`); an odd D gets a final zero column. */
  readonly embeddingDim: number;
  /** `true`: [cos, sin] halves (UNet2DModel's default `flip_sin_to_cos=True`); `false`: [sin, cos]. */
  readonly flipSinToCos: boolean;
  /** Frequency shift δ (`downscale_freq_shift`; UNet2DModel uses 0, DDPM's original 1); must be < ⌊D/2⌋. */
  readonly downscaleFreqShift: number;
  /** Argument scale a (`scale`, default 1); finite. */
  readonly scale?: number;
  /** Longest period P > 0 (`max_period`, default 10000). */
  readonly maxPeriod?: number;
}

/** Checks that `values` is a non-empty list of finite numbers; `positive` also requires each > 0. */
const checkScalars = (
  context: string,
  field: string,
  values: ArrayLike<number>,
  positive: boolean,
): E.Either<ScoreflowError, void> => {
  if (values.length < 1) return E.left(scoreflowError(context, `${field}.length`, 0, "must be ≥ 1"));
  const rule = positive ? isPositive : isFiniteNumber;
  for (let i = 0; i < values.length; i++) {
    if (!rule.test(values[i])) return E.left(scoreflowError(context, `${field}[${i}]`, values[i], rule.rule));
  }
  return E.right(undefined);
};

const SINUSOIDAL = "timestep embedding";

/**
 * The sinusoidal timestep embedding, exactly as diffusers' `get_timestep_embedding`: with h = ⌊D/2⌋ and
 * ωₖ = exp(−ln(P)·k/(h − δ)) for k = 0 … h − 1,
 *   e[n] = [sin(a·tₙ·ω₀), …, sin(a·tₙ·ω_{h−1}), cos(a·tₙ·ω₀), …, cos(a·tₙ·ω_{h−1})]   (flipSinToCos = false),
 * the two halves swapped when flipSinToCos = true, and one zero column appended when D is odd. Timesteps may be
 * fractional. Rules: timesteps a non-empty list of finite numbers; D an integer ≥ 2; δ finite with h − δ > 0;
 * a finite; P finite > 0.
 *
 * Source: Vaswani et al., "Attention Is All You Need", 2017, §3.5 (sinusoidal positional encoding); Ho et al.,
 * "Denoising Diffusion Probabilistic Models", 2020, Appendix B (timestep embedding); diffusers
 * `models/embeddings.py`, `get_timestep_embedding`.
 *
 * @category Networks
 */
export const timestepEmbedding = (
  timesteps: ArrayLike<number>,
  options: TimestepEmbeddingOptions,
): E.Either<ScoreflowError, Tensor> => {
  const { embeddingDim: dim, flipSinToCos, downscaleFreqShift: shift } = options;
  const scale = options.scale ?? 1;
  const maxPeriod = options.maxPeriod ?? 10000;
  const ok = checkAll(SINUSOIDAL, [
    ["embeddingDim", dim, isPositiveInteger],
    ["downscaleFreqShift", shift, isFiniteNumber],
    ["scale", scale, isFiniteNumber],
    ["maxPeriod", maxPeriod, isPositive],
  ]);
  if (E.isLeft(ok)) return ok;
  if (dim < 2) return E.left(scoreflowError(SINUSOIDAL, "embeddingDim", dim, "must be ≥ 2"));
  const half = Math.floor(dim / 2);
  if (!(half - shift > 0)) {
    return E.left(
      scoreflowError(
        SINUSOIDAL,
        "downscaleFreqShift",
        shift,
        "must be < ⌊embeddingDim/2⌋ (the frequency exponent divides by ⌊D/2⌋ − δ)",
        `embeddingDim=${dim}, downscaleFreqShift=${shift}`,
      ),
    );
  }
  const ts = checkScalars(SINUSOIDAL, "timesteps", timesteps, false);
  if (E.isLeft(ts)) return ts;
  const n = timesteps.length;
  const out = new Float32Array(n * dim);
  const logP = Math.log(maxPeriod);
  const [sinAt, cosAt] = flipSinToCos ? [half, 0] : [0, half];
  for (let k = 0; k < half; k++) {
    const omega = Math.exp((-logP * k) / (half - shift));
    for (let i = 0; i < n; i++) {
      const arg = scale * timesteps[i] * omega;
      out[i * dim + sinAt + k] = Math.sin(arg);
      out[i * dim + cosAt + k] = Math.cos(arg);
    }
  }
  return E.right({ shape: [n, dim], data: out });
};

/**
 * Options of the Gaussian Fourier features, named after diffusers' `GaussianFourierProjection`.
 *
 * @category Networks
 */
export interface FourierFeaturesOptions {
  /** `true`: features of u = ln σ (UNet2DModel with `time_embedding_type="fourier"`); σ must then be > 0. */
  readonly log: boolean;
  /** `true`: [cos, sin] halves; `false`: [sin, cos]. */
  readonly flipSinToCos: boolean;
}

const FOURIER = "Gaussian Fourier features";

/** Validates the weight [E] and the inputs; returns u (ln σ or σ) in float64. */
const fourierInputs = (
  sigmas: ArrayLike<number>,
  weight: Tensor<Storage>,
  options: FourierFeaturesOptions,
): E.Either<ScoreflowError, Float64Array> => {
  const ws = checkOperand(FOURIER, "weight", weight, 1, 1, "[E]");
  if (E.isLeft(ws)) return ws;
  const ss = checkScalars(FOURIER, "sigmas", sigmas, options.log);
  if (E.isLeft(ss)) return ss;
  return E.right(Float64Array.from(sigmas, (s) => (options.log ? Math.log(s) : s)));
};

/** Writes the features of u for weights w into `out` ([N, 2E] row-major). */
const fillFourier = <A extends Storage>(
  u: Float64Array,
  weight: Tensor<Storage>,
  flipSinToCos: boolean,
  out: A,
): Tensor<A> => {
  const e = weight.data.length;
  const [sinAt, cosAt] = flipSinToCos ? [e, 0] : [0, e];
  for (let n = 0; n < u.length; n++)
    for (let k = 0; k < e; k++) {
      const theta = 2 * Math.PI * u[n] * weight.data[k];
      out[n * 2 * e + sinAt + k] = Math.sin(theta);
      out[n * 2 * e + cosAt + k] = Math.cos(theta);
    }
  return { shape: [u.length, 2 * e], data: out };
};

/**
 * Gaussian Fourier features, exactly as diffusers' `GaussianFourierProjection.forward`: with u = ln σ (log) or
 * u = σ, fixed weights w [E] and θₙₖ = 2π·uₙ·wₖ,
 *   e[n] = [sin θₙ₀, …, sin θ_{n,E−1}, cos θₙ₀, …, cos θ_{n,E−1}]   ([N, 2E]; halves swapped when flipSinToCos).
 * Rules: sigmas a non-empty list of finite numbers (> 0 when log); weight a finite [E] tensor.
 *
 * Source: Tancik et al., "Fourier Features Let Networks Learn High Frequency Functions in Low Dimensional
 * Domains", NeurIPS 2020 (Gaussian mapping γ(v) = [cos 2πBv, sin 2πBv], B ~ N(0, σ²)); Song et al.,
 * "Score-Based Generative Modeling through Stochastic Differential Equations", 2021, Appendix H (Fourier
 * features of log σ for NCSN++); diffusers `models/embeddings.py`, `GaussianFourierProjection`.
 *
 * @category Networks
 */
export const fourierFeatures = (
  sigmas: ArrayLike<number>,
  weight: Tensor<Storage>,
  options: FourierFeaturesOptions,
): E.Either<ScoreflowError, Tensor> =>
  E.map((u: Float64Array) =>
    fillFourier(u, weight, options.flipSinToCos, new Float32Array(u.length * 2 * weight.data.length)),
  )(fourierInputs(sigmas, weight, options));

/**
 * {@link fourierFeatures} with float64 output (no final rounding), for float64 reference networks and gradient
 * checks.
 *
 * @category Networks
 */
export const fourierFeatures64 = (
  sigmas: ArrayLike<number>,
  weight: Tensor<Storage>,
  options: FourierFeaturesOptions,
): E.Either<ScoreflowError, Tensor64> =>
  E.map((u: Float64Array) =>
    fillFourier(u, weight, options.flipSinToCos, new Float64Array(u.length * 2 * weight.data.length)),
  )(fourierInputs(sigmas, weight, options));

/**
 * The gradient of a loss with respect to the Fourier weights, for an output gradient ∂e [N, 2E]:
 *   ∂wₖ = Σₙ 2π·uₙ·(cos θₙₖ · ∂e_sin[n, k] − sin θₙₖ · ∂e_cos[n, k]),   θₙₖ = 2π·uₙ·wₖ,
 * accumulated in float64 (diffusers keeps these weights frozen, `requires_grad=False`; this is for training
 * them). Validates like {@link fourierFeatures}, and ∂e against the output shape.
 *
 * Source: differentiating {@link fourierFeatures} term by term.
 *
 * @category Networks
 */
export const fourierFeaturesBackward = (
  sigmas: ArrayLike<number>,
  weight: Tensor<Storage>,
  de: Tensor<Storage>,
  options: FourierFeaturesOptions,
): E.Either<ScoreflowError, Tensor> => {
  const inputs = fourierInputs(sigmas, weight, options);
  if (E.isLeft(inputs)) return inputs;
  const u = inputs.right;
  const e = weight.data.length;
  const ds = checkExactShape(FOURIER, "de", de, [u.length, 2 * e], "the output shape [N, 2E]");
  if (E.isLeft(ds)) return ds;
  const [sinAt, cosAt] = options.flipSinToCos ? [e, 0] : [0, e];
  const dw = new Float64Array(e);
  for (let n = 0; n < u.length; n++)
    for (let k = 0; k < e; k++) {
      const a = 2 * Math.PI * u[n];
      const theta = a * weight.data[k];
      const row = n * 2 * e;
      dw[k] += a * (Math.cos(theta) * de.data[row + sinAt + k] - Math.sin(theta) * de.data[row + cosAt + k]);
    }
  return E.right({ shape: [e], data: Float32Array.from(dw) });
};

/**
 * Fresh Fourier weights w = scale·ξ, ξ ~ N(0, I_E) from `key` (diffusers draws `torch.randn(E)·scale`;
 * score SDE's NCSN++ uses scale 16). Rules: E an integer ≥ 1, scale finite > 0.
 *
 * Source: Song et al., 2021, Appendix H; diffusers `GaussianFourierProjection.__init__`.
 *
 * @category Networks
 */
export const fourierWeights = (
  key: RngKey,
  embeddingSize: number,
  scale: number,
): E.Either<ScoreflowError, Tensor> =>
  E.map(() => {
    const data = fillNormal(key, new Float32Array(embeddingSize));
    for (let i = 0; i < data.length; i++) data[i] *= scale;
    return { shape: [embeddingSize], data };
  })(
    checkAll(FOURIER, [
      ["embeddingSize", embeddingSize, isPositiveInteger],
      ["scale", scale, isPositive],
    ]),
  );
