/**
 * The geometry of a group normalization with PyTorch semantics (`torch.nn.GroupNorm(G, C, eps, affine=True)`):
 * input x [N, C, *] (any trailing spatial axes, flattened into S = ∏ * positions), C divisible by G, affine
 * scale γ [C] and shift β [C], output of the shape of x. Validated once at the boundary; kernels trust a
 * {@link GroupNormShape}.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { type Storage, size, type Tensor } from "../core/tensor.js";
import { checkAll, isPositive, isPositiveInteger } from "../core/validate.js";
import { checkExactShape, checkOperand } from "./operand-check.js";

/**
 * The number of groups and the variance floor of a group normalization.
 *
 * @category Networks
 */
export interface GroupNormOptions {
  /** Groups G ≥ 1, dividing the channels C (diffusers' U-Nets use 32). */
  readonly groups: number;
  /** ε > 0 added to the variance inside the square root (PyTorch's default is 1e-5; diffusers uses 1e-6). */
  readonly eps: number;
}

/**
 * A validated group-norm geometry.
 *
 * @category Networks
 */
export interface GroupNormShape {
  /** The shape of x (and of y), [N, C, *]. */
  readonly shape: readonly number[];
  /** Batch size N. */
  readonly n: number;
  /** Channels C. */
  readonly channels: number;
  /** Groups G (C mod G = 0). */
  readonly groups: number;
  /** Spatial positions S = ∏ of the axes after C (1 for a 2-D input [N, C]). */
  readonly spatial: number;
  /** ε > 0 inside the square root. */
  readonly eps: number;
}

/**
 * The gradients of a group normalization with respect to its input, scale and shift.
 *
 * @category Networks
 */
export interface GroupNormGradients<A extends Storage = Float32Array> {
  /** ∂L/∂x, shape [N, C, *]. */
  readonly dx: Tensor<A>;
  /** ∂L/∂γ, shape [C]. */
  readonly dgamma: Tensor<A>;
  /** ∂L/∂β, shape [C]. */
  readonly dbeta: Tensor<A>;
}

const CONTEXT = "group norm";

/**
 * Validates a group normalization's operands and options: groups an integer ≥ 1 dividing C, eps a finite
 * number > 0, x a finite tensor of rank ≥ 2, γ and β (β when given) finite with shape [C].
 *
 * @category Networks
 */
export const groupNormShape = (
  x: Tensor<Storage>,
  gamma: Tensor<Storage>,
  beta: Tensor<Storage> | undefined,
  options: GroupNormOptions,
): E.Either<ScoreflowError, GroupNormShape> => {
  const opts = checkAll(CONTEXT, [
    ["groups", options.groups, isPositiveInteger],
    ["eps", options.eps, isPositive],
  ]);
  if (E.isLeft(opts)) return opts;
  const xs = checkOperand(CONTEXT, "x", x, 2, Number.POSITIVE_INFINITY, "[N, C, *]");
  if (E.isLeft(xs)) return xs;
  const [n, channels] = x.shape;
  if (channels % options.groups !== 0) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "groups",
        options.groups,
        "must divide the channels x.shape[1]",
        `x.shape[1]=${channels}, groups=${options.groups}`,
      ),
    );
  }
  const gs = checkExactShape(CONTEXT, "gamma", gamma, [channels], "[C]");
  if (E.isLeft(gs)) return gs;
  if (beta !== undefined) {
    const bs = checkExactShape(CONTEXT, "beta", beta, [channels], "[C]");
    if (E.isLeft(bs)) return bs;
  }
  return E.right({
    shape: [...x.shape],
    n,
    channels,
    groups: options.groups,
    spatial: size(x.shape.slice(2)),
    eps: options.eps,
  });
};

/**
 * Checks an output gradient ∂y against a geometry: a finite tensor of the shape of x.
 *
 * @category Networks
 */
export const checkGroupNormOutputGradient = (
  g: GroupNormShape,
  dy: Tensor<Storage>,
): E.Either<ScoreflowError, void> => checkExactShape(CONTEXT, "dy", dy, g.shape, "the shape of x");
