/**
 * The residual add op (`a + b` in a ResNet block): validated entry points `residualAdd` and
 * `residualAddBackward` over float32 tensors of one shape. One implementation, a plain TypeScript loop, on
 * every backend: one add per 12 bytes moved is memory-bound.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "../../core/errors.js";
import type { Tensor } from "../../core/tensor.js";
import { checkExactShape, checkOperand } from "../operand-check.js";

const CONTEXT = "residual add";

/**
 * The gradients of a residual add with respect to both summands.
 *
 * @category Networks
 */
export interface ResidualAddGradients {
  /** ∂L/∂a = ∂y. */
  readonly da: Tensor;
  /** ∂L/∂b = ∂y. */
  readonly db: Tensor;
}

/**
 * Residual add y = a + b, element-wise, for finite tensors of one shape (no broadcasting).
 *
 * Source: He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, eq. 1 (y = F(x) + x).
 *
 * @category Networks
 */
export const residualAdd = (a: Tensor, b: Tensor): E.Either<ScoreflowError, Tensor> => {
  const as = checkOperand(CONTEXT, "a", a, 1, Number.POSITIVE_INFINITY, "any shape");
  if (E.isLeft(as)) return as;
  const bs = checkExactShape(CONTEXT, "b", b, a.shape, "the shape of a");
  if (E.isLeft(bs)) return bs;
  const y = new Float32Array(a.data.length);
  for (let i = 0; i < y.length; i++) y[i] = a.data[i] + b.data[i];
  return E.right({ shape: [...a.shape], data: y });
};

/**
 * Residual add backward, the identity split: ∂a = ∂b = ∂y (∂y/∂a = ∂y/∂b = I). Both gradients share ∂y's
 * buffer (tensors are immutable by convention). Validates ∂y as a finite tensor.
 *
 * @category Networks
 */
export const residualAddBackward = (dy: Tensor): E.Either<ScoreflowError, ResidualAddGradients> =>
  E.map(() => ({ da: dy, db: dy }))(
    checkOperand(CONTEXT, "dy", dy, 1, Number.POSITIVE_INFINITY, "any shape"),
  );
