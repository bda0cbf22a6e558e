/**
 * The nearest-neighbour 2× upsampling op (PyTorch `F.interpolate(x, scale_factor=2, mode="nearest")`, the
 * U-Net decoder's `Upsample2D` before its conv): validated entry points `upsampleNearest2x` and
 * `upsampleNearest2xBackward` over float32 NCHW tensors.
 *
 * One implementation, plain TypeScript loops, on every backend: the op moves data and computes nothing (the
 * backward adds 4 values per output), so it is memory-bound; each output row is written as two copies of a
 * row-doubled input row.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../../core/errors.js";
import type { Tensor } from "../../core/tensor.js";
import { checkOperand } from "../operand-check.js";

const CONTEXT = "upsample nearest 2×";

/**
 * Nearest 2× upsampling y[n, c, i, j] = x[n, c, ⌊i/2⌋, ⌊j/2⌋]: [N, C, H, W] → [N, C, 2H, 2W], for a finite
 * 4-D tensor.
 *
 * Source: PyTorch `torch.nn.functional.interpolate(scale_factor=2, mode="nearest")` (source index ⌊i·½⌋).
 *
 * @category Networks
 */
export const upsampleNearest2x = (x: Tensor): E.Either<ScoreflowError, Tensor> =>
  E.map(() => {
    const [n, c, h, w] = x.shape;
    const w2 = 2 * w;
    const y = new Float32Array(n * c * 4 * h * w);
    for (let row = 0; row < n * c * h; row++) {
      const out = 2 * row * w2;
      for (let j = 0; j < w; j++) {
        const v = x.data[row * w + j];
        y[out + 2 * j] = v;
        y[out + 2 * j + 1] = v;
      }
      y.copyWithin(out + w2, out, out + w2);
    }
    return { shape: [n, c, 2 * h, w2], data: y };
  })(checkOperand(CONTEXT, "x", x, 4, 4, "NCHW"));

/**
 * Backward of nearest 2× upsampling, the adjoint: ∂x[n, c, p, q] = Σ_{a,b ∈ {0,1}} ∂y[n, c, 2p + a, 2q + b],
 * [N, C, 2H, 2W] → [N, C, H, W]. ∂y must be a finite 4-D tensor with even height and width.
 *
 * Source: PyTorch `upsample_nearest2d_backward`.
 *
 * @category Networks
 */
export const upsampleNearest2xBackward = (dy: Tensor): E.Either<ScoreflowError, Tensor> => {
  const ok = checkOperand(CONTEXT, "dy", dy, 4, 4, "NCHW");
  if (E.isLeft(ok)) return ok;
  const [n, c, h2, w2] = dy.shape;
  if (h2 % 2 !== 0 || w2 % 2 !== 0) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "dy.shape",
        dy.shape,
        "must have even height and width (the output of a 2× upsampling)",
      ),
    );
  }
  const h = h2 / 2;
  const w = w2 / 2;
  const dx = new Float32Array(n * c * h * w);
  for (let row = 0; row < n * c * h; row++) {
    const top = 2 * row * w2;
    const bottom = top + w2;
    for (let q = 0; q < w; q++) {
      dx[row * w + q] =
        dy.data[top + 2 * q] +
        dy.data[top + 2 * q + 1] +
        dy.data[bottom + 2 * q] +
        dy.data[bottom + 2 * q + 1];
    }
  }
  return E.right({ shape: [n, c, h, w], data: dx });
};
