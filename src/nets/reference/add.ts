/**
 * Plain-TypeScript reference residual add in float64: y = a + b element-wise (the backward pass is the identity
 * split ∂a = ∂b = ∂y, nothing to compute). Source: He et al., "Deep Residual Learning for Image Recognition",
 * CVPR 2016, eq. 1.
 *
 * @module
 */
import type { Storage, Tensor, Tensor64 } from "../../core/tensor.js";

/**
 * Reference residual add y = a + b in float64 (a and b of one shape).
 *
 * @category Networks
 */
export const residualAddReference = (a: Tensor<Storage>, b: Tensor<Storage>): Tensor64 => ({
  shape: [...a.shape],
  data: Float64Array.from(a.data, (v, i) => v + b.data[i]),
});
