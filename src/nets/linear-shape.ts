/**
 * The geometry of a fully connected layer with PyTorch semantics (`torch.nn.Linear`): input x [*, in] (any
 * leading axes, flattened into R rows), weight W [out, in], optional bias b [out], output y [*, out] with
 * y = x·Wᵀ + b. Validated once at the boundary; kernels trust a {@link LinearShape}.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { type Storage, size, type Tensor } from "../core/tensor.js";
import { checkExactShape, checkOperand } from "./operand-check.js";

/**
 * A validated linear-layer geometry.
 *
 * @category Networks
 */
export interface LinearShape {
  /** The leading axes of x (and of y), e.g. `[N]`; empty for a 1-D input. */
  readonly batchShape: readonly number[];
  /** Rows R = ∏ batchShape (1 for a 1-D input): the number of vectors transformed. */
  readonly rows: number;
  /** Input features (last axis of x, second axis of W). */
  readonly inFeatures: number;
  /** Output features (first axis of W, last axis of y). */
  readonly outFeatures: number;
}

/**
 * The gradients of a linear layer with respect to its input, weight and bias.
 *
 * @category Networks
 */
export interface LinearGradients<A extends Storage = Float32Array> {
  /** ∂L/∂x = ∂y·W, shape of x ([*, in]). */
  readonly dx: Tensor<A>;
  /** ∂L/∂W = ∂yᵀ·x (rows flattened), shape [out, in]. */
  readonly dw: Tensor<A>;
  /** ∂L/∂b = Σ over rows of ∂y, shape [out]. */
  readonly db: Tensor<A>;
}

const CONTEXT = "linear";

/**
 * Validates a linear layer's operands: x a finite tensor of rank ≥ 1, W a finite [out, in] matrix whose `in`
 * equals x's last axis, b (when given) finite with shape [out].
 *
 * @category Networks
 */
export const linearShape = (
  x: Tensor<Storage>,
  weight: Tensor<Storage>,
  bias: Tensor<Storage> | undefined,
): E.Either<ScoreflowError, LinearShape> => {
  const xs = checkOperand(CONTEXT, "x", x, 1, Number.POSITIVE_INFINITY, "[*, in]");
  if (E.isLeft(xs)) return xs;
  const ws = checkOperand(CONTEXT, "weight", weight, 2, 2, "[out, in]");
  if (E.isLeft(ws)) return ws;
  const inFeatures = x.shape[x.shape.length - 1];
  const [outFeatures, wIn] = weight.shape;
  if (wIn !== inFeatures) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "weight.shape[1]",
        wIn,
        "must equal the input features (last axis of x)",
        `x.shape=[${x.shape.join(", ")}], weight.shape[1]=${wIn}`,
      ),
    );
  }
  if (bias !== undefined) {
    const bs = checkExactShape(CONTEXT, "bias", bias, [outFeatures], "[out]");
    if (E.isLeft(bs)) return bs;
  }
  const batchShape = x.shape.slice(0, -1);
  return E.right({ batchShape, rows: size(batchShape), inFeatures, outFeatures });
};

/**
 * Checks an output gradient ∂y against a geometry: a finite tensor of shape [*, out].
 *
 * @category Networks
 */
export const checkLinearOutputGradient = (
  g: LinearShape,
  dy: Tensor<Storage>,
): E.Either<ScoreflowError, void> =>
  checkExactShape(CONTEXT, "dy", dy, [...g.batchShape, g.outFeatures], "the output shape [*, out]");

/**
 * Floating-point operations of one forward pass, a multiply-add counted as 2: FLOPs = 2·R·in·out (the bias
 * adds R·out, not counted). The backward pass costs twice this (∂x and ∂W are each one product of that size).
 *
 * @category Networks
 */
export const linearFlops = (g: LinearShape): number => 2 * g.rows * g.inFeatures * g.outFeatures;
