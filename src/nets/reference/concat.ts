/**
 * Plain-TypeScript reference channel concatenation and its backward (a channel split), in float64: the oracle
 * the kernel is tested against. For tensors xₖ [N, Cₖ, *] and offsets oₖ = C₀ + … + Cₖ₋₁:
 *   y[n, oₖ + c, s] = xₖ[n, c, s],   ∂xₖ[n, c, s] = ∂y[n, oₖ + c, s].
 * Source: PyTorch `torch.cat(xs, dim=1)` (the U-Net decoder's skip connections).
 *
 * @module
 */
import type { Storage, Tensor, Tensor64 } from "../../core/tensor.js";

/**
 * Reference channel concatenation in float64 (tensors of one rank, equal on every axis but axis 1).
 *
 * @category Networks
 */
export const concatChannelsReference = (xs: readonly Tensor<Storage>[]): Tensor64 => {
  const [n, , ...rest] = xs[0].shape;
  const s = rest.reduce((a, b) => a * b, 1);
  const total = xs.reduce((acc, x) => acc + x.shape[1], 0);
  const y = new Float64Array(n * total * s);
  let offset = 0;
  for (const x of xs) {
    const ck = x.shape[1];
    for (let b = 0; b < n; b++)
      for (let c = 0; c < ck; c++)
        for (let p = 0; p < s; p++) y[(b * total + offset + c) * s + p] = x.data[(b * ck + c) * s + p];
    offset += ck;
  }
  return { shape: [n, total, ...rest], data: y };
};

/**
 * Reference backward of channel concatenation in float64: splits ∂y [N, ΣCₖ, *] into ∂xₖ [N, Cₖ, *] for the
 * given channel counts.
 *
 * @category Networks
 */
export const concatChannelsBackwardReference = (
  dy: Tensor<Storage>,
  channels: readonly number[],
): Tensor64[] => {
  const [n, total, ...rest] = dy.shape;
  const s = rest.reduce((a, b) => a * b, 1);
  let offset = 0;
  return channels.map((ck) => {
    const dx = new Float64Array(n * ck * s);
    for (let b = 0; b < n; b++)
      for (let c = 0; c < ck; c++)
        for (let p = 0; p < s; p++) dx[(b * ck + c) * s + p] = dy.data[(b * total + offset + c) * s + p];
    offset += ck;
    return { shape: [n, ck, ...rest], data: dx };
  });
};
