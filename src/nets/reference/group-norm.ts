/**
 * Plain-TypeScript reference group normalization, forward and backward, in float64: the oracle the kernel is
 * tested against. For sample n and group k, the set 𝒮 of its m = (C/G)·S values (channels kC/G … (k+1)C/G − 1,
 * every spatial position):
 *   μ = (1/m) Σ_{i∈𝒮} xᵢ,   σ² = (1/m) Σ_{i∈𝒮} (xᵢ − μ)²,   r = 1/√(σ² + ε),   x̂ᵢ = (xᵢ − μ)·r,
 *   yᵢ = γ_c · x̂ᵢ + β_c   (c the channel of i);
 *   ∂β_c = Σ ∂yᵢ,   ∂γ_c = Σ ∂yᵢ · x̂ᵢ   (over every n and position of channel c),
 *   ∂xᵢ = r · (gᵢ − mean_𝒮(g) − x̂ᵢ · mean_𝒮(g ⊙ x̂)),   gᵢ = γ_c · ∂yᵢ.
 * Written as the equations read (x̂ stored, two passes for the variance); the derivation of ∂x is in the
 * documentation of `groupNormBackward`.
 * Source: Wu & He, "Group Normalization", ECCV 2018, eq. 1–3 and 6; PyTorch `torch.nn.GroupNorm`.
 *
 * @module
 */
import type { Storage, Tensor, Tensor64 } from "../../core/tensor.js";
import type { GroupNormGradients, GroupNormShape } from "../group-norm-shape.js";

/** Visits each (sample, group) block: its first element, its length m and its first channel. */
const forEachGroup = (g: GroupNormShape, visit: (base: number, m: number, c0: number) => void): void => {
  const perGroup = g.channels / g.groups;
  for (let n = 0; n < g.n; n++)
    for (let k = 0; k < g.groups; k++) {
      const c0 = k * perGroup;
      visit((n * g.channels + c0) * g.spatial, perGroup * g.spatial, c0);
    }
};

/** The normalized values x̂ of one block and its r = 1/√(σ² + ε). */
const normalizeBlock = (
  g: GroupNormShape,
  x: ArrayLike<number>,
  base: number,
  m: number,
): { readonly xhat: Float64Array; readonly r: number } => {
  let mu = 0;
  for (let j = 0; j < m; j++) mu += x[base + j];
  mu /= m;
  let variance = 0;
  for (let j = 0; j < m; j++) variance += (x[base + j] - mu) ** 2;
  variance /= m;
  const r = 1 / Math.sqrt(variance + g.eps);
  const xhat = new Float64Array(m);
  for (let j = 0; j < m; j++) xhat[j] = (x[base + j] - mu) * r;
  return { xhat, r };
};

/**
 * Reference forward group normalization in float64 (module equations).
 *
 * @category Networks
 */
export const groupNormReference = (
  g: GroupNormShape,
  x: Tensor<Storage>,
  gamma: Tensor<Storage>,
  beta: Tensor<Storage>,
): Tensor64 => {
  const y = new Float64Array(x.data.length);
  forEachGroup(g, (base, m, c0) => {
    const { xhat } = normalizeBlock(g, x.data, base, m);
    for (let j = 0; j < m; j++) {
      const c = c0 + Math.floor(j / g.spatial);
      y[base + j] = gamma.data[c] * xhat[j] + beta.data[c];
    }
  });
  return { shape: [...g.shape], data: y };
};

/**
 * Reference backward group normalization in float64: ∂x, ∂γ, ∂β for an output gradient `dy` (module
 * equations).
 *
 * @category Networks
 */
export const groupNormBackwardReference = (
  g: GroupNormShape,
  x: Tensor<Storage>,
  gamma: Tensor<Storage>,
  dy: Tensor<Storage>,
): GroupNormGradients<Float64Array> => {
  const dx = new Float64Array(x.data.length);
  const dgamma = new Float64Array(g.channels);
  const dbeta = new Float64Array(g.channels);
  forEachGroup(g, (base, m, c0) => {
    const { xhat, r } = normalizeBlock(g, x.data, base, m);
    const gi = new Float64Array(m);
    let meanG = 0;
    let meanGX = 0;
    for (let j = 0; j < m; j++) {
      const c = c0 + Math.floor(j / g.spatial);
      const d = dy.data[base + j];
      dbeta[c] += d;
      dgamma[c] += d * xhat[j];
      gi[j] = gamma.data[c] * d;
      meanG += gi[j] / m;
      meanGX += (gi[j] * xhat[j]) / m;
    }
    for (let j = 0; j < m; j++) dx[base + j] = r * (gi[j] - meanG - xhat[j] * meanGX);
  });
  return {
    dx: { shape: [...g.shape], data: dx },
    dgamma: { shape: [g.channels], data: dgamma },
    dbeta: { shape: [g.channels], data: dbeta },
  };
};
