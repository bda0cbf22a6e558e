/**
 * The group-norm op (PyTorch `torch.nn.GroupNorm`, affine): validated entry points `groupNorm` (forward) and
 * `groupNormBackward` (∂x, ∂γ, ∂β) over float32 [N, C, *] tensors, with the per-group statistics accumulated in
 * float64.
 *
 * One implementation, plain TypeScript loops, on every backend: the op is memory-bound (about 8 flops per
 * element against 8 bytes moved forward, ~12 per 12 bytes backward, versus ~2·Cin·9 flops per output element
 * of the 3×3 conv next to it), so a matrix micro-kernel has nothing to block and the loops run at memory speed.
 * Each (sample, group) block is contiguous in NCHW; the forward pass reads it three times (mean, variance,
 * output) and the backward pass twice (per-channel sums, output), both in the fused form below.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "../../core/errors.js";
import type { Tensor } from "../../core/tensor.js";
import {
  checkGroupNormOutputGradient,
  type GroupNormGradients,
  type GroupNormOptions,
  type GroupNormShape,
  groupNormShape,
} from "../group-norm-shape.js";

/** Mean μ and r = 1/√(σ² + ε) of the block [base, base + m) of x (two passes, float64). */
const blockStatistics = (
  x: Float32Array,
  base: number,
  m: number,
  eps: number,
): { readonly mu: number; readonly r: number } => {
  let sum = 0;
  for (let j = base; j < base + m; j++) sum += x[j];
  const mu = sum / m;
  let ss = 0;
  for (let j = base; j < base + m; j++) ss += (x[j] - mu) * (x[j] - mu);
  return { mu, r: 1 / Math.sqrt(ss / m + eps) };
};

/** Forward pass over trusted buffers: y = a_c·x + b_c with a_c = γ_c·r, b_c = β_c − μ·a_c. */
const forwardKernel = (g: GroupNormShape, x: Float32Array, gamma: Float32Array, beta: Float32Array) => {
  const y = new Float32Array(x.length);
  const perGroup = g.channels / g.groups;
  const m = perGroup * g.spatial;
  for (let n = 0; n < g.n; n++)
    for (let k = 0; k < g.groups; k++) {
      const base = (n * g.channels + k * perGroup) * g.spatial;
      const { mu, r } = blockStatistics(x, base, m, g.eps);
      for (let cc = 0; cc < perGroup; cc++) {
        const c = k * perGroup + cc;
        const a = gamma[c] * r;
        const b = beta[c] - mu * a;
        const start = base + cc * g.spatial;
        for (let j = start; j < start + g.spatial; j++) y[j] = a * x[j] + b;
      }
    }
  return y;
};

/**
 * Backward pass over trusted buffers. Per block, from the per-channel sums D_c = Σ ∂y and P_c = Σ ∂y·x:
 * ∂β_c += D_c, ∂γ_c += r·(P_c − μ·D_c), mean(g) = (1/m) Σ_c γ_c·D_c, mean(g·x̂) = (1/m) Σ_c γ_c·r·(P_c − μ·D_c),
 * then ∂x = (γ_c·r)·∂y + u·x + v with u = −r²·mean(g·x̂), v = r²·μ·mean(g·x̂) − r·mean(g).
 */
const backwardKernel = (g: GroupNormShape, x: Float32Array, gamma: Float32Array, dy: Float32Array) => {
  const dx = new Float32Array(x.length);
  const dgamma = new Float64Array(g.channels);
  const dbeta = new Float64Array(g.channels);
  const perGroup = g.channels / g.groups;
  const m = perGroup * g.spatial;
  for (let n = 0; n < g.n; n++)
    for (let k = 0; k < g.groups; k++) {
      const base = (n * g.channels + k * perGroup) * g.spatial;
      const { mu, r } = blockStatistics(x, base, m, g.eps);
      let meanG = 0;
      let meanGX = 0;
      for (let cc = 0; cc < perGroup; cc++) {
        const c = k * perGroup + cc;
        const start = base + cc * g.spatial;
        let sd = 0;
        let sp = 0;
        for (let j = start; j < start + g.spatial; j++) {
          sd += dy[j];
          sp += dy[j] * x[j];
        }
        const gxhat = r * (sp - mu * sd);
        dbeta[c] += sd;
        dgamma[c] += gxhat;
        meanG += gamma[c] * sd;
        meanGX += gamma[c] * gxhat;
      }
      meanG /= m;
      meanGX /= m;
      const u = -r * r * meanGX;
      const v = r * r * mu * meanGX - r * meanG;
      for (let cc = 0; cc < perGroup; cc++) {
        const a = gamma[k * perGroup + cc] * r;
        const start = base + cc * g.spatial;
        for (let j = start; j < start + g.spatial; j++) dx[j] = a * dy[j] + u * x[j] + v;
      }
    }
  return { dx, dgamma: Float32Array.from(dgamma), dbeta: Float32Array.from(dbeta) };
};

/**
 * Group normalization: for every sample n and group k of C/G consecutive channels, over the set 𝒮 of its
 * m = (C/G)·S values (S spatial positions),
 *   μ = (1/m) Σ_𝒮 xᵢ,  σ² = (1/m) Σ_𝒮 (xᵢ − μ)²  (biased),  x̂ᵢ = (xᵢ − μ)/√(σ² + ε),  yᵢ = γ_c·x̂ᵢ + β_c.
 * Validates shapes, options and finiteness first (see {@link groupNormShape}); returns y shaped like x.
 *
 * Source: Wu & He, "Group Normalization", ECCV 2018, eq. 1–3; PyTorch `torch.nn.GroupNorm` (ε inside the
 * square root, per-channel affine).
 *
 * @category Networks
 */
export const groupNorm = (
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  options: GroupNormOptions,
): E.Either<ScoreflowError, Tensor> =>
  E.map((g: GroupNormShape) => ({
    shape: [...g.shape],
    data: forwardKernel(g, x.data, gamma.data, beta.data),
  }))(groupNormShape(x, gamma, beta, options));

/**
 * Backward group normalization: ∂L/∂x, ∂L/∂γ, ∂L/∂β for ∂y = ∂L/∂y (the statistics are recomputed from x).
 *
 * Derivation, within one block 𝒮 of m values with r = 1/√(σ² + ε) and gᵢ = γ_c·∂yᵢ. The affine part gives
 * ∂β_c = Σ ∂yᵢ and ∂γ_c = Σ ∂yᵢ·x̂ᵢ (sums over every sample and position of channel c). For x̂, use
 * ∂μ/∂xᵢ = 1/m; ∂σ²/∂xᵢ = (2/m)(xᵢ − μ) (the μ-terms vanish because Σⱼ (xⱼ − μ) = 0); hence
 * ∂r/∂xᵢ = −½(σ² + ε)^(−3/2)·(2/m)(xᵢ − μ) = −r²·x̂ᵢ/m, and
 *   ∂x̂ⱼ/∂xᵢ = r·(δᵢⱼ − 1/m) + (xⱼ − μ)·∂r/∂xᵢ = r·(δᵢⱼ − 1/m − x̂ⱼ·x̂ᵢ/m).
 * Contracting with g: ∂xᵢ = Σⱼ gⱼ·∂x̂ⱼ/∂xᵢ = r·(gᵢ − mean_𝒮(g) − x̂ᵢ·mean_𝒮(g ⊙ x̂)).
 * The kernel evaluates it in fused form, ∂xᵢ = γ_c·r·∂yᵢ + u·xᵢ + v with u = −r²·mean(g ⊙ x̂),
 * v = r²·μ·mean(g ⊙ x̂) − r·mean(g), from per-channel sums Σ∂y and Σ∂y·x (two reads of each block).
 *
 * Source: Wu & He 2018, eq. 1–3 (forward); Ioffe & Szegedy, "Batch Normalization", ICML 2015, §3 (the same
 * chain rule over a normalization set); PyTorch `native_group_norm_backward`.
 *
 * @category Networks
 */
export const groupNormBackward = (
  x: Tensor,
  gamma: Tensor,
  dy: Tensor,
  options: GroupNormOptions,
): E.Either<ScoreflowError, GroupNormGradients> => {
  const shape = groupNormShape(x, gamma, undefined, options);
  if (E.isLeft(shape)) return shape;
  const g = shape.right;
  const dyOk = checkGroupNormOutputGradient(g, dy);
  if (E.isLeft(dyOk)) return dyOk;
  const { dx, dgamma, dbeta } = backwardKernel(g, x.data, gamma.data, dy.data);
  return E.right({
    dx: { shape: [...g.shape], data: dx },
    dgamma: { shape: [g.channels], data: dgamma },
    dbeta: { shape: [g.channels], data: dbeta },
  });
};
