/**
 * The geometry of a 2-D convolution with PyTorch semantics (`torch.nn.functional.conv2d`, groups = 1,
 * dilation = 1): input x [N, Cin, H, W], weight w [Cout, Cin, kh, kw], optional bias b [Cout], output
 * y [N, Cout, Hout, Wout] with Hout = ⌊(H + 2p − kh)/s⌋ + 1 and Wout = ⌊(W + 2p − kw)/s⌋ + 1. Validated once at
 * the boundary; kernels trust a {@link Conv2dShape}.
 *
 * @module
 */

import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import type { Storage, Tensor } from "../core/tensor.js";
import { checkAll, isNonNegativeInteger, isPositiveInteger } from "../core/validate.js";
import { checkOperand, checkOperandData } from "./operand-check.js";

/**
 * Stride and zero padding of a convolution (the same on both spatial axes).
 *
 * @category Networks
 */
export interface Conv2dOptions {
  /** Step s ≥ 1 between output positions (1 keeps the resolution, 2 halves it). */
  readonly stride: number;
  /** Zeros p ≥ 0 added on every side of each spatial axis (1 keeps a 3×3 conv "same" at stride 1). */
  readonly padding: number;
}

/**
 * A validated convolution geometry: every size a kernel needs, all integers ≥ 1 (padding ≥ 0).
 *
 * @category Networks
 */
export interface Conv2dShape {
  /** Batch size N. */
  readonly n: number;
  /** Input channels Cin. */
  readonly cin: number;
  /** Input height H. */
  readonly h: number;
  /** Input width W. */
  readonly w: number;
  /** Output channels Cout. */
  readonly cout: number;
  /** Kernel height kh. */
  readonly kh: number;
  /** Kernel width kw. */
  readonly kw: number;
  /** Stride s. */
  readonly stride: number;
  /** Zero padding p. */
  readonly padding: number;
  /** Output height ⌊(H + 2p − kh)/s⌋ + 1. */
  readonly hout: number;
  /** Output width ⌊(W + 2p − kw)/s⌋ + 1. */
  readonly wout: number;
}

/**
 * The gradients of a convolution with respect to its input, weight and bias.
 *
 * @category Networks
 */
export interface Conv2dGradients<A extends Storage = Float32Array> {
  /** ∂L/∂x, shape [N, Cin, H, W]. */
  readonly dx: Tensor<A>;
  /** ∂L/∂w, shape [Cout, Cin, kh, kw]. */
  readonly dw: Tensor<A>;
  /** ∂L/∂b, shape [Cout]. */
  readonly db: Tensor<A>;
}

const CONTEXT = "conv2d";

/**
 * Validates a convolution's operands and options and derives its output size.
 * Rules: x and w are finite 4-D tensors, w's Cin equals x's, b (when given) is finite with shape [Cout],
 * stride an integer ≥ 1, padding an integer ≥ 0, and the padded input at least as large as the kernel
 * (H + 2p ≥ kh, W + 2p ≥ kw) so that the output is non-empty.
 *
 * @category Networks
 */
export const conv2dShape = (
  x: Tensor<Storage>,
  weight: Tensor<Storage>,
  bias: Tensor<Storage> | undefined,
  options: Conv2dOptions,
): E.Either<ScoreflowError, Conv2dShape> => {
  const opts = checkAll(CONTEXT, [
    ["stride", options.stride, isPositiveInteger],
    ["padding", options.padding, isNonNegativeInteger],
  ]);
  if (E.isLeft(opts)) return opts;
  const xs = checkOperand(CONTEXT, "x", x, 4, 4, "NCHW");
  if (E.isLeft(xs)) return xs;
  const ws = checkOperand(CONTEXT, "weight", weight, 4, 4, "NCHW");
  if (E.isLeft(ws)) return ws;
  const [n, cin, h, w] = x.shape;
  const [cout, wcin, kh, kw] = weight.shape;
  if (wcin !== cin) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "weight.shape[1]",
        wcin,
        "must equal the input channels x.shape[1]",
        `x.shape[1]=${cin}, weight.shape[1]=${wcin}`,
      ),
    );
  }
  if (bias !== undefined) {
    if (bias.shape.length !== 1 || bias.shape[0] !== cout) {
      return E.left(scoreflowError(CONTEXT, "bias.shape", bias.shape, `must be [${cout}] (= [Cout])`));
    }
    const bs = checkOperandData(CONTEXT, "bias", bias);
    if (E.isLeft(bs)) return bs;
  }
  const { stride, padding } = options;
  if (h + 2 * padding < kh || w + 2 * padding < kw) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "padding",
        padding,
        "must make the padded input at least as large as the kernel (H + 2p ≥ kh, W + 2p ≥ kw)",
        `H=${h}, W=${w}, padding=${padding}, kh=${kh}, kw=${kw}`,
      ),
    );
  }
  const hout = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const wout = Math.floor((w + 2 * padding - kw) / stride) + 1;
  return E.right({ n, cin, h, w, cout, kh, kw, stride, padding, hout, wout });
};

/**
 * Checks an output gradient dy against a geometry: a finite tensor of shape [N, Cout, Hout, Wout].
 *
 * @category Networks
 */
export const checkConv2dOutputGradient = (
  g: Conv2dShape,
  dy: Tensor<Storage>,
): E.Either<ScoreflowError, void> => {
  const want = [g.n, g.cout, g.hout, g.wout];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== want[i])) {
    return E.left(
      scoreflowError(CONTEXT, "dy.shape", dy.shape, `must be the output shape [${want.join(", ")}]`),
    );
  }
  return checkOperandData(CONTEXT, "dy", dy);
};

/**
 * Floating-point operations of one forward convolution, counting a multiply-add as 2:
 * FLOPs = 2 · N · Cout · Hout · Wout · Cin · kh · kw (the bias adds N·Cout·Hout·Wout more, not counted).
 * The backward pass costs twice this: ∂x and ∂w are each one product of the same size
 * (∂b is N·Cout·Hout·Wout additions, not counted).
 *
 * @category Networks
 */
export const conv2dFlops = (g: Conv2dShape): number =>
  2 * g.n * g.cout * g.hout * g.wout * g.cin * g.kh * g.kw;
