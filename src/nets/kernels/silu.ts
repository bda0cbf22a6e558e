/**
 * The SiLU op (PyTorch `torch.nn.SiLU`, also called swish): validated entry points `silu` and `siluBackward`
 * over float32 tensors of any shape.
 *
 * One implementation, a plain TypeScript loop, on every backend: the op is memory-bound (one exp and a few
 * flops per 8 bytes moved), and WebAssembly SIMD has no exp instruction to vectorize with.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "../../core/errors.js";
import type { Tensor } from "../../core/tensor.js";
import { checkExactShape, checkOperand } from "../operand-check.js";

const CONTEXT = "silu";

/**
 * SiLU y = x·σ(x) with σ(x) = 1/(1 + e^(−x)), element-wise, for a finite tensor of any shape (σ saturates to
 * 0 or 1 for |x| ≳ 710 without producing NaN).
 *
 * Source: Elfwing, Uchibe & Doya, "Sigmoid-Weighted Linear Units for Neural Network Function Approximation in
 * Reinforcement Learning", Neural Networks 107, 2018, eq. 3; Hendrycks & Gimpel, "Gaussian Error Linear Units",
 * 2016, §2 (SiLU); PyTorch `torch.nn.functional.silu`.
 *
 * @category Networks
 */
export const silu = (x: Tensor): E.Either<ScoreflowError, Tensor> =>
  E.map(() => {
    const y = new Float32Array(x.data.length);
    for (let i = 0; i < y.length; i++) {
      const v = x.data[i];
      y[i] = v / (1 + Math.exp(-v));
    }
    return { shape: [...x.shape], data: y };
  })(checkOperand(CONTEXT, "x", x, 1, Number.POSITIVE_INFINITY, "any shape"));

/**
 * SiLU backward: ∂x = ∂y · d(x·σ(x))/dx = ∂y · σ(x)·(1 + x·(1 − σ(x))), using σ′ = σ·(1 − σ); ∂y must have
 * the shape of x.
 *
 * Source: Elfwing, Uchibe & Doya 2018, eq. 4.
 *
 * @category Networks
 */
export const siluBackward = (x: Tensor, dy: Tensor): E.Either<ScoreflowError, Tensor> => {
  const xs = checkOperand(CONTEXT, "x", x, 1, Number.POSITIVE_INFINITY, "any shape");
  if (E.isLeft(xs)) return xs;
  const dys = checkExactShape(CONTEXT, "dy", dy, x.shape, "the shape of x");
  if (E.isLeft(dys)) return dys;
  const dx = new Float32Array(x.data.length);
  for (let i = 0; i < dx.length; i++) {
    const v = x.data[i];
    const s = 1 / (1 + Math.exp(-v));
    dx[i] = dy.data[i] * s * (1 + v * (1 - s));
  }
  return E.right({ shape: [...x.shape], data: dx });
};
