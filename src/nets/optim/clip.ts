/**
 * Gradient clipping by global norm: all gradients are seen as one concatenated vector g and rescaled together
 * when ‖g‖₂ exceeds a threshold, so their direction is kept. PyTorch's `torch.nn.utils.clip_grad_norm_` with
 * `norm_type=2`, as a pure function.
 *
 * Sources: Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural networks", ICML 2013,
 * Algorithm 1; PyTorch `torch/nn/utils/clip_grad.py`.
 *
 * @module
 */
import type { Tensor } from "../../core/tensor.js";
import type { Gradients } from "../tape.js";

/**
 * Gradients after clipping, with the total norm they had before.
 *
 * @category Training
 */
export interface ClippedGradients {
  /** The (possibly) rescaled gradients, by parameter name; float32 like the input. */
  readonly gradients: Gradients;
  /** ‖g‖₂ = √(Σ over all tensors and entries of g²) before clipping, in float64 (what PyTorch returns). */
  readonly norm: number;
}

/** PyTorch's guard in the clipping coefficient c = maxNorm / (‖g‖₂ + 10⁻⁶). */
const CLIP_EPS = 1e-6;

/**
 * Clips gradients by their total 2-norm:
 *
 *   ‖g‖₂ = √(Σᵢ Σⱼ gᵢⱼ²),   c = min(1, maxNorm / (‖g‖₂ + 10⁻⁶)),   gᵢ ← c·gᵢ
 *
 * so the norm afterwards is at most maxNorm (up to float32 rounding), and gradients whose norm is below
 * maxNorm − 10⁻⁶ come back unchanged (the same map). The norm is accumulated in float64 over every tensor of
 * `grads`; the scaled entries are rounded to float32 once. `maxNorm` > 0 and finite (not checked here). A
 * non-finite norm yields non-finite gradients, as PyTorch's default `error_if_nonfinite=False` does.
 *
 * Source: PyTorch `torch.nn.utils.clip_grad_norm_` (`clip_coef_clamped`); Pascanu et al. (2013), Algorithm 1.
 *
 * @category Training
 */
export const clipGradNorm = (grads: Gradients, maxNorm: number): ClippedGradients => {
  let sumSquares = 0;
  for (const g of grads.values()) for (let i = 0; i < g.data.length; i++) sumSquares += g.data[i] * g.data[i];
  const norm = Math.sqrt(sumSquares);
  const coef = Math.min(1, maxNorm / (norm + CLIP_EPS));
  if (coef === 1) return { gradients: grads, norm };
  const gradients = new Map<string, Tensor>();
  for (const [name, g] of grads) {
    const data = new Float32Array(g.data.length);
    for (let i = 0; i < data.length; i++) data[i] = coef * g.data[i];
    gradients.set(name, { shape: g.shape, data });
  }
  return { gradients, norm };
};
