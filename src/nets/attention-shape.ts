/**
 * The geometry of spatial multi-head self-attention as diffusers' `Attention` runs it inside UNet2DModel's
 * AttnDownBlock2D / AttnUpBlock2D / UNetMidBlock2D (processor `AttnProcessor`): an image x [N, C, H, W] is read
 * as T = H·W tokens of C channels, x̂[n, t, c] = x[n, c, t]; then
 *   q = x̂·W_qᵀ + b_q,  k = x̂·W_kᵀ + b_k,  v = x̂·W_vᵀ + b_v                  (to_q, to_k, to_v: [C, C] + [C]),
 *   oₕ = softmax(qₕ·kₕᵀ / √d)·vₕ for each head h (channels h·d … h·d + d − 1),   heads = C / d,
 *   z = o·W_outᵀ + b_out                                                         (to_out.0: [C, C] + [C]),
 *   y[n, c, t] = (z[n, t, c] + r[n, c, t]) / f       (r the residual, 0 without one; f = rescale_output_factor).
 * Group normalization of the input (diffusers' `norm_num_groups`) is a separate op: the U-Net passes the
 * normalized image as x and the block input as the residual r. Validated once at the boundary; kernels trust an
 * {@link AttentionShape}.
 *
 * Source: Vaswani et al., "Attention Is All You Need", 2017, eq. (1) and §3.2.2 (multi-head); diffusers
 * `models/attention_processor.py`, `Attention.__init__` (scale = dim_head^−0.5, heads) and `AttnProcessor.__call__`
 * (view/transpose to tokens, to_q/to_k/to_v, `get_attention_scores`, bmm, to_out, residual, ÷ rescale factor).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import type { Storage, Tensor } from "../core/tensor.js";
import { checkAll, isPositive, isPositiveInteger } from "../core/validate.js";
import { checkExactShape, checkOperand } from "./operand-check.js";

/**
 * One affine projection of the attention block, `torch.nn.Linear(C, C)`: u = x̂·weightᵀ + bias.
 *
 * @category Networks
 */
export interface AttentionProjection<A extends Storage = Float32Array> {
  /** Weight [C_out, C_in] = [C, C] (PyTorch `Linear.weight` layout). */
  readonly weight: Tensor<A>;
  /** Bias [C]. */
  readonly bias: Tensor<A>;
}

/**
 * The four projections of a self-attention block, named as in diffusers' state dicts
 * (`to_q`, `to_k`, `to_v`, `to_out.0`). Gradients come back in the same record.
 *
 * @category Networks
 */
export interface AttentionWeights<A extends Storage = Float32Array> {
  /** Query projection (`to_q`). */
  readonly toQ: AttentionProjection<A>;
  /** Key projection (`to_k`). */
  readonly toK: AttentionProjection<A>;
  /** Value projection (`to_v`). */
  readonly toV: AttentionProjection<A>;
  /** Output projection (`to_out.0`). */
  readonly toOut: AttentionProjection<A>;
}

/**
 * Options of the attention block, as in diffusers' `Attention(..., dim_head, rescale_output_factor)`.
 *
 * @category Networks
 */
export interface AttentionOptions {
  /** Channels per head d (UNet2DModel's `attention_head_dim`); an integer ≥ 1 that divides C. heads = C / d. */
  readonly headDim: number;
  /** The output is divided by f > 0 (UNet2DModel's attention blocks pass their `output_scale_factor`, default 1). */
  readonly rescaleOutputFactor: number;
}

/**
 * A validated attention geometry.
 *
 * @category Networks
 */
export interface AttentionShape {
  /** Batch size N. */
  readonly n: number;
  /** Channels C (the token width). */
  readonly c: number;
  /** Image height H. */
  readonly h: number;
  /** Image width W. */
  readonly w: number;
  /** Tokens T = H·W per image. */
  readonly tokens: number;
  /** Heads C / d. */
  readonly heads: number;
  /** Channels per head d. */
  readonly headDim: number;
  /** Score scale 1/√d. */
  readonly scale: number;
  /** Output divisor f > 0. */
  readonly rescaleOutputFactor: number;
}

/**
 * The gradients of the attention block: input, residual and every weight and bias.
 *
 * @category Networks
 */
export interface AttentionGradients<A extends Storage = Float32Array> {
  /** ∂L/∂x, [N, C, H, W] (through the projections only; when the residual is x itself, add `dResidual`). */
  readonly dx: Tensor<A>;
  /** ∂L/∂r = ∂L/∂y / f, [N, C, H, W]; `undefined` when no residual was given. */
  readonly dResidual: Tensor<A> | undefined;
  /** ∂L/∂W and ∂L/∂b of each projection, in the layout of {@link AttentionWeights}. */
  readonly dWeights: AttentionWeights<A>;
}

const CONTEXT = "attention";

const projections = ["toQ", "toK", "toV", "toOut"] as const;

/**
 * Validates an attention block's operands and options. Rules: x a finite 4-D tensor [N, C, H, W]; every
 * projection weight finite with shape [C, C] and bias finite with shape [C]; headDim an integer ≥ 1 dividing C;
 * rescaleOutputFactor a finite number > 0; the residual (when given) finite with the shape of x.
 *
 * @category Networks
 */
export const attentionShape = (
  x: Tensor<Storage>,
  weights: AttentionWeights<Storage>,
  residual: Tensor<Storage> | undefined,
  options: AttentionOptions,
): E.Either<ScoreflowError, AttentionShape> => {
  const opts = checkAll(CONTEXT, [
    ["headDim", options.headDim, isPositiveInteger],
    ["rescaleOutputFactor", options.rescaleOutputFactor, isPositive],
  ]);
  if (E.isLeft(opts)) return opts;
  const xs = checkOperand(CONTEXT, "x", x, 4, 4, "NCHW");
  if (E.isLeft(xs)) return xs;
  const [n, c, h, w] = x.shape;
  for (const p of projections) {
    const ws = checkExactShape(CONTEXT, `${p}.weight`, weights[p].weight, [c, c], "[C, C]");
    if (E.isLeft(ws)) return ws;
    const bs = checkExactShape(CONTEXT, `${p}.bias`, weights[p].bias, [c], "[C]");
    if (E.isLeft(bs)) return bs;
  }
  if (c % options.headDim !== 0) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "headDim",
        options.headDim,
        "must divide the channels C (heads = C / headDim)",
        `C=${c}, headDim=${options.headDim}`,
      ),
    );
  }
  if (residual !== undefined) {
    const rs = checkExactShape(CONTEXT, "residual", residual, x.shape, "the shape of x");
    if (E.isLeft(rs)) return rs;
  }
  const d = options.headDim;
  return E.right({
    n,
    c,
    h,
    w,
    tokens: h * w,
    heads: c / d,
    headDim: d,
    scale: 1 / Math.sqrt(d),
    rescaleOutputFactor: options.rescaleOutputFactor,
  });
};

/**
 * Checks an output gradient ∂y against a geometry: a finite tensor of shape [N, C, H, W].
 *
 * @category Networks
 */
export const checkAttentionOutputGradient = (
  g: AttentionShape,
  dy: Tensor<Storage>,
): E.Either<ScoreflowError, void> =>
  checkExactShape(CONTEXT, "dy", dy, [g.n, g.c, g.h, g.w], "the output shape [N, C, H, W]");

/**
 * Floating-point operations of one forward pass, a multiply-add counted as 2: four C×C projections of N·T
 * tokens (8·N·T·C²) plus the scores q·kᵀ and the mixing P·v over all heads (2·N·T²·C each):
 * FLOPs = 8·N·T·C² + 4·N·T²·C (softmax, biases and the residual, O(N·T·(T·heads + C)), not counted).
 * The backward pass costs twice this (each product has two adjoint products of its size).
 *
 * @category Networks
 */
export const attentionFlops = (g: AttentionShape): number =>
  8 * g.n * g.tokens * g.c * g.c + 4 * g.n * g.tokens * g.tokens * g.c;
