/**
 * Plain-TypeScript reference SiLU, forward and backward, in float64: the oracle the kernel is tested against.
 *   y = x·σ(x),   ∂x = ∂y · σ(x)·(1 + x·(1 − σ(x))),   σ(x) = 1/(1 + e^(−x)),
 * with σ evaluated as e^x/(1 + e^x) for x < 0 so that neither branch overflows.
 * Source: Elfwing, Uchibe & Doya, "Sigmoid-Weighted Linear Units for Neural Network Function Approximation in
 * Reinforcement Learning", Neural Networks 107, 2018, eq. 3–4; PyTorch `torch.nn.SiLU`.
 *
 * @module
 */
import type { Storage, Tensor, Tensor64 } from "../../core/tensor.js";

/** The logistic sigmoid σ(x) = 1/(1 + e^(−x)) without overflow for either sign. */
const sigmoid = (x: number): number => {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
};

/**
 * Reference SiLU y = x·σ(x) in float64.
 *
 * @category Networks
 */
export const siluReference = (x: Tensor<Storage>): Tensor64 => ({
  shape: [...x.shape],
  data: Float64Array.from(x.data, (v) => v * sigmoid(v)),
});

/**
 * Reference SiLU backward ∂x = ∂y·σ(x)·(1 + x·(1 − σ(x))) in float64.
 *
 * @category Networks
 */
export const siluBackwardReference = (x: Tensor<Storage>, dy: Tensor<Storage>): Tensor64 => ({
  shape: [...x.shape],
  data: Float64Array.from(x.data, (v, i) => {
    const s = sigmoid(v);
    return dy.data[i] * s * (1 + v * (1 - s));
  }),
});
