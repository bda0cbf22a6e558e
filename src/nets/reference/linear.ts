/**
 * Plain-TypeScript reference linear layer, forward and backward, accumulating in float64: the oracle the
 * kernels are tested against. With rows r of x flattened to [R, in]:
 *   y[r, o] = b[o] + Σₖ x[r, k] · W[o, k],
 *   ∂x[r, k] = Σₒ ∂y[r, o] · W[o, k],   ∂W[o, k] = Σᵣ ∂y[r, o] · x[r, k],   ∂b[o] = Σᵣ ∂y[r, o].
 * Source: PyTorch `torch.nn.Linear` (y = x·Wᵀ + b); the adjoint sums follow from differentiating the forward
 * sum term by term.
 *
 * @module
 */
import type { Storage, Tensor, Tensor64 } from "../../core/tensor.js";
import type { LinearGradients, LinearShape } from "../linear-shape.js";

/**
 * Reference forward linear layer in float64 (module equation). `bias` may be omitted (b = 0).
 *
 * @category Networks
 */
export const linearReference = (
  g: LinearShape,
  x: Tensor<Storage>,
  weight: Tensor<Storage>,
  bias?: Tensor<Storage>,
): Tensor64 => {
  const { rows, inFeatures: k, outFeatures: m } = g;
  const y = new Float64Array(rows * m);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < m; o++) {
      let acc = bias ? bias.data[o] : 0;
      for (let i = 0; i < k; i++) acc += x.data[r * k + i] * weight.data[o * k + i];
      y[r * m + o] = acc;
    }
  return { shape: [...g.batchShape, m], data: y };
};

/**
 * Reference backward linear layer in float64: ∂x, ∂W, ∂b for an output gradient `dy` (module equations).
 *
 * @category Networks
 */
export const linearBackwardReference = (
  g: LinearShape,
  x: Tensor<Storage>,
  weight: Tensor<Storage>,
  dy: Tensor<Storage>,
): LinearGradients<Float64Array> => {
  const { rows, inFeatures: k, outFeatures: m } = g;
  const dx = new Float64Array(rows * k);
  const dw = new Float64Array(m * k);
  const db = new Float64Array(m);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < m; o++) {
      const d = dy.data[r * m + o];
      db[o] += d;
      for (let i = 0; i < k; i++) {
        dx[r * k + i] += d * weight.data[o * k + i];
        dw[o * k + i] += d * x.data[r * k + i];
      }
    }
  return {
    dx: { shape: [...x.shape], data: dx },
    dw: { shape: [m, k], data: dw },
    db: { shape: [m], data: db },
  };
};
