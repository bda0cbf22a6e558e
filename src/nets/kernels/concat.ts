/**
 * The channel-concatenation op (PyTorch `torch.cat(xs, dim=1)`, the U-Net decoder's skip connections) and its
 * backward, the channel split: validated entry points `concatChannels` and `concatChannelsBackward` over
 * float32 [N, C, *] tensors.
 *
 * One implementation, block copies (`TypedArray.set`) on every backend: the op moves data and computes nothing,
 * and each (sample, operand) block of Cₖ·S values is contiguous in both layouts.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../../core/errors.js";
import { size, type Tensor } from "../../core/tensor.js";
import { isPositiveInteger } from "../../core/validate.js";
import { checkOperand } from "../operand-check.js";

const CONTEXT = "concat channels";

/**
 * Channel concatenation: for xₖ [N, Cₖ, *] (k = 0 … K − 1, K ≥ 1, one rank ≥ 2, equal on every axis except
 * axis 1), y [N, ΣCₖ, *] with y[n, oₖ + c, …] = xₖ[n, c, …], oₖ = C₀ + … + Cₖ₋₁.
 *
 * Source: PyTorch `torch.cat(xs, dim=1)`.
 *
 * @category Networks
 */
export const concatChannels = (xs: readonly Tensor[]): E.Either<ScoreflowError, Tensor> => {
  if (xs.length === 0) {
    return E.left(scoreflowError(CONTEXT, "xs.length", 0, "must be ≥ 1 (at least one tensor)"));
  }
  const [n, , ...rest] = xs[0].shape;
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k];
    const ok = checkOperand(CONTEXT, `xs[${k}]`, x, 2, Number.POSITIVE_INFINITY, "[N, C, *]");
    if (E.isLeft(ok)) return ok;
    if (x.shape.length !== xs[0].shape.length || x.shape.some((d, i) => i !== 1 && d !== xs[0].shape[i])) {
      return E.left(
        scoreflowError(
          CONTEXT,
          `xs[${k}].shape`,
          x.shape,
          "must equal the shape of xs[0] on every axis except axis 1",
          `xs[0].shape=[${xs[0].shape.join(", ")}], xs[${k}].shape=[${x.shape.join(", ")}]`,
        ),
      );
    }
  }
  const s = size(rest);
  const total = xs.reduce((acc, x) => acc + x.shape[1], 0);
  const y = new Float32Array(n * total * s);
  for (let b = 0; b < n; b++) {
    let at = b * total * s;
    for (const x of xs) {
      const block = x.shape[1] * s;
      y.set(x.data.subarray(b * block, (b + 1) * block), at);
      at += block;
    }
  }
  return E.right({ shape: [n, total, ...rest], data: y });
};

/**
 * Backward of channel concatenation, the split: ∂xₖ[n, c, …] = ∂y[n, oₖ + c, …] for the channel counts
 * Cₖ of the concatenated operands (integers ≥ 1 summing to ∂y's axis 1). ∂y must be a finite [N, C, *] tensor.
 *
 * Source: PyTorch `torch.cat` autograd (`split_with_sizes` along dim 1).
 *
 * @category Networks
 */
export const concatChannelsBackward = (
  dy: Tensor,
  channels: readonly number[],
): E.Either<ScoreflowError, Tensor[]> => {
  const ok = checkOperand(CONTEXT, "dy", dy, 2, Number.POSITIVE_INFINITY, "[N, C, *]");
  if (E.isLeft(ok)) return ok;
  if (channels.length === 0) {
    return E.left(scoreflowError(CONTEXT, "channels.length", 0, "must be ≥ 1 (at least one operand)"));
  }
  const bad = channels.findIndex((c) => !isPositiveInteger.test(c));
  if (bad >= 0)
    return E.left(scoreflowError(CONTEXT, `channels[${bad}]`, channels[bad], isPositiveInteger.rule));
  const [n, total, ...rest] = dy.shape;
  const sum = channels.reduce((a, b) => a + b, 0);
  if (sum !== total) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "channels",
        channels,
        "must sum to the channels of dy (dy.shape[1])",
        `sum(channels)=${sum}, dy.shape[1]=${total}`,
      ),
    );
  }
  const s = size(rest);
  let offset = 0;
  return E.right(
    channels.map((ck) => {
      const dx = new Float32Array(n * ck * s);
      for (let b = 0; b < n; b++) {
        const from = (b * total + offset) * s;
        dx.set(dy.data.subarray(from, from + ck * s), b * ck * s);
      }
      offset += ck;
      return { shape: [n, ck, ...rest], data: dx };
    }),
  );
};
