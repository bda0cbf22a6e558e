/**
 * Plain-TypeScript reference nearest-neighbour 2× upsampling of NCHW tensors, forward and backward, in
 * float64: the oracle the kernel is tested against.
 *   y[n, c, i, j] = x[n, c, ⌊i/2⌋, ⌊j/2⌋]   (0 ≤ i < 2H, 0 ≤ j < 2W),
 *   ∂x[n, c, p, q] = Σ_{a, b ∈ {0, 1}} ∂y[n, c, 2p + a, 2q + b]   (the adjoint: each input feeds a 2×2 block).
 * Source: PyTorch `torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")`, whose source index is
 * ⌊i·(1/2)⌋.
 *
 * @module
 */
import type { Storage, Tensor, Tensor64 } from "../../core/tensor.js";

/**
 * Reference nearest 2× upsampling in float64: [N, C, H, W] → [N, C, 2H, 2W].
 *
 * @category Networks
 */
export const upsampleNearest2xReference = (x: Tensor<Storage>): Tensor64 => {
  const [n, c, h, w] = x.shape;
  const y = new Float64Array(n * c * 4 * h * w);
  for (let b = 0; b < n * c; b++)
    for (let i = 0; i < 2 * h; i++)
      for (let j = 0; j < 2 * w; j++)
        y[(b * 2 * h + i) * 2 * w + j] = x.data[(b * h + Math.floor(i / 2)) * w + Math.floor(j / 2)];
  return { shape: [n, c, 2 * h, 2 * w], data: y };
};

/**
 * Reference backward of nearest 2× upsampling in float64: [N, C, 2H, 2W] → [N, C, H, W], 2×2 block sums.
 *
 * @category Networks
 */
export const upsampleNearest2xBackwardReference = (dy: Tensor<Storage>): Tensor64 => {
  const [n, c, h2, w2] = dy.shape;
  const h = h2 / 2;
  const w = w2 / 2;
  const dx = new Float64Array(n * c * h * w);
  for (let b = 0; b < n * c; b++)
    for (let i = 0; i < h2; i++)
      for (let j = 0; j < w2; j++)
        dx[(b * h + Math.floor(i / 2)) * w + Math.floor(j / 2)] += dy.data[(b * h2 + i) * w2 + j];
  return { shape: [n, c, h, w], data: dx };
};
