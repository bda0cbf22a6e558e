/**
 * Plain-TypeScript reference of spatial multi-head self-attention (see `attention-shape.ts` for the block),
 * forward and backward, in float64 throughout: the oracle the kernels are tested against. Per image, with
 * tokens x̂ [T, C], heads h of d channels and s = 1/√d:
 *   Sₕ = s·qₕ·kₕᵀ,  Pₕ = softmax(Sₕ) row-wise (row max subtracted before exp),  oₕ = Pₕ·vₕ,  z = o·W_outᵀ + b_out,
 *   y = (z + r)/f.
 * Backward, for an output gradient ∂y (∂z = ∂y/f, ∂r = ∂y/f):
 *   ∂W_out = ∂zᵀ·o,  ∂b_out = Σₜ ∂z,  ∂o = ∂z·W_out,
 *   ∂Pₕ = ∂oₕ·vₕᵀ,  ∂Sₕ = Pₕ ⊙ (∂Pₕ − rowsum(Pₕ ⊙ ∂Pₕ)),   ∂qₕ = s·∂Sₕ·kₕ,  ∂kₕ = s·∂Sₕᵀ·qₕ,  ∂vₕ = Pₕᵀ·∂oₕ,
 *   ∂W_u = ∂uᵀ·x̂,  ∂b_u = Σₜ ∂u  (u ∈ {q, k, v}),   ∂x̂ = ∂q·W_q + ∂k·W_k + ∂v·W_v.
 *
 * Source: Vaswani et al., "Attention Is All You Need", 2017, eq. (1); the softmax Jacobian
 * ∂pᵢ/∂sⱼ = pᵢ(δᵢⱼ − pⱼ) (Bridle, 1990), which gives the ∂S rule; diffusers `AttnProcessor` for the layout.
 *
 * @module
 */
import type { Storage, Tensor, Tensor64 } from "../../core/tensor.js";
import type {
  AttentionGradients,
  AttentionProjection,
  AttentionShape,
  AttentionWeights,
} from "../attention-shape.js";

/** u = x̂·Wᵀ + b for `rows` tokens of C channels (row-major [rows, C]). */
const project = (
  xt: Float64Array,
  rows: number,
  c: number,
  p: AttentionProjection<Storage>,
): Float64Array => {
  const out = new Float64Array(rows * c);
  for (let t = 0; t < rows; t++)
    for (let o = 0; o < c; o++) {
      let acc = p.bias.data[o];
      for (let i = 0; i < c; i++) acc += xt[t * c + i] * p.weight.data[o * c + i];
      out[t * c + o] = acc;
    }
  return out;
};

/** Adds the adjoint of {@link project}: ∂W += ∂uᵀ·x̂, ∂b += Σ ∂u, ∂x̂ += ∂u·W. */
const projectBackward = (
  xt: Float64Array,
  du: Float64Array,
  rows: number,
  c: number,
  p: AttentionProjection<Storage>,
  dW: Float64Array,
  dB: Float64Array,
  dxt: Float64Array,
): void => {
  for (let t = 0; t < rows; t++)
    for (let o = 0; o < c; o++) {
      const g = du[t * c + o];
      dB[o] += g;
      for (let i = 0; i < c; i++) {
        dW[o * c + i] += g * xt[t * c + i];
        dxt[t * c + i] += g * p.weight.data[o * c + i];
      }
    }
};

/** The tokens x̂[t, c] = x[n, c, t] of image n. */
const tokensOf = (g: AttentionShape, x: Tensor<Storage>, n: number): Float64Array => {
  const xt = new Float64Array(g.tokens * g.c);
  for (let ch = 0; ch < g.c; ch++)
    for (let t = 0; t < g.tokens; t++) xt[t * g.c + ch] = x.data[(n * g.c + ch) * g.tokens + t];
  return xt;
};

/** Everything the forward pass of one image computes. */
interface ImageState {
  /** Tokens x̂ [T, C]. */
  readonly xt: Float64Array;
  /** Queries [T, C]. */
  readonly q: Float64Array;
  /** Keys [T, C]. */
  readonly k: Float64Array;
  /** Values [T, C]. */
  readonly v: Float64Array;
  /** Attention probabilities, [heads][T·T] row-major. */
  readonly p: readonly Float64Array[];
  /** Mixed values o = P·v [T, C]. */
  readonly o: Float64Array;
  /** Output projection z [T, C]. */
  readonly z: Float64Array;
}

/** The forward pass of image n (module equations). */
const forwardImage = (
  g: AttentionShape,
  x: Tensor<Storage>,
  weights: AttentionWeights<Storage>,
  n: number,
): ImageState => {
  const { tokens: T, c, headDim: d, scale } = g;
  const xt = tokensOf(g, x, n);
  const q = project(xt, T, c, weights.toQ);
  const k = project(xt, T, c, weights.toK);
  const v = project(xt, T, c, weights.toV);
  const o = new Float64Array(T * c);
  const p: Float64Array[] = [];
  for (let h = 0; h < g.heads; h++) {
    const ph = new Float64Array(T * T);
    const c0 = h * d;
    for (let i = 0; i < T; i++) {
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let e = c0; e < c0 + d; e++) s += q[i * c + e] * k[j * c + e];
        ph[i * T + j] = scale * s;
        max = Math.max(max, scale * s);
      }
      let sum = 0;
      for (let j = 0; j < T; j++) {
        ph[i * T + j] = Math.exp(ph[i * T + j] - max);
        sum += ph[i * T + j];
      }
      for (let j = 0; j < T; j++) {
        ph[i * T + j] /= sum;
        for (let e = c0; e < c0 + d; e++) o[i * c + e] += ph[i * T + j] * v[j * c + e];
      }
    }
    p.push(ph);
  }
  return { xt, q, k, v, p, o, z: project(o, T, c, weights.toOut) };
};

/**
 * Reference forward pass in float64: y = (z + r)/f (module equations); `residual` may be omitted (r = 0).
 *
 * @category Networks
 */
export const attentionReference = (
  g: AttentionShape,
  x: Tensor<Storage>,
  weights: AttentionWeights<Storage>,
  residual?: Tensor<Storage>,
): Tensor64 => {
  const y = new Float64Array(g.n * g.c * g.tokens);
  for (let n = 0; n < g.n; n++) {
    const { z } = forwardImage(g, x, weights, n);
    for (let ch = 0; ch < g.c; ch++)
      for (let t = 0; t < g.tokens; t++) {
        const yi = (n * g.c + ch) * g.tokens + t;
        y[yi] = (z[t * g.c + ch] + (residual ? residual.data[yi] : 0)) / g.rescaleOutputFactor;
      }
  }
  return { shape: [g.n, g.c, g.h, g.w], data: y };
};

/** Float64 zero gradients in the layout of {@link AttentionWeights}. */
const zeroWeights = (c: number): AttentionWeights<Float64Array> => {
  const projection = (): AttentionProjection<Float64Array> => ({
    weight: { shape: [c, c], data: new Float64Array(c * c) },
    bias: { shape: [c], data: new Float64Array(c) },
  });
  return { toQ: projection(), toK: projection(), toV: projection(), toOut: projection() };
};

/**
 * Reference backward pass in float64: ∂x, ∂r (when `residual` is given; its values are not read) and the
 * gradients of every projection, for an output gradient `dy` (module equations).
 *
 * @category Networks
 */
export const attentionBackwardReference = (
  g: AttentionShape,
  x: Tensor<Storage>,
  weights: AttentionWeights<Storage>,
  dy: Tensor<Storage>,
  residual?: Tensor<Storage>,
): AttentionGradients<Float64Array> => {
  const { tokens: T, c, headDim: d, scale } = g;
  const dWeights = zeroWeights(c);
  const dx = new Float64Array(g.n * c * T);
  const f = g.rescaleOutputFactor;
  for (let n = 0; n < g.n; n++) {
    const s = forwardImage(g, x, weights, n);
    const dz = new Float64Array(T * c);
    for (let ch = 0; ch < c; ch++)
      for (let t = 0; t < T; t++) dz[t * c + ch] = dy.data[(n * c + ch) * T + t] / f;
    const dOut = dWeights.toOut;
    const dO = new Float64Array(T * c);
    projectBackward(s.o, dz, T, c, weights.toOut, dOut.weight.data, dOut.bias.data, dO);
    const dq = new Float64Array(T * c);
    const dk = new Float64Array(T * c);
    const dv = new Float64Array(T * c);
    const dpRow = new Float64Array(T);
    for (let h = 0; h < g.heads; h++) {
      const ph = s.p[h];
      const c0 = h * d;
      for (let i = 0; i < T; i++) {
        let dot = 0;
        for (let j = 0; j < T; j++) {
          let dp = 0;
          for (let e = c0; e < c0 + d; e++) dp += dO[i * c + e] * s.v[j * c + e];
          dpRow[j] = dp;
          dot += ph[i * T + j] * dp;
        }
        for (let j = 0; j < T; j++) {
          const pij = ph[i * T + j];
          const ds = scale * pij * (dpRow[j] - dot);
          for (let e = c0; e < c0 + d; e++) {
            dq[i * c + e] += ds * s.k[j * c + e];
            dk[j * c + e] += ds * s.q[i * c + e];
            dv[j * c + e] += pij * dO[i * c + e];
          }
        }
      }
    }
    const dxt = new Float64Array(T * c);
    for (const [du, p] of [
      [dq, "toQ"],
      [dk, "toK"],
      [dv, "toV"],
    ] as const) {
      const dp = dWeights[p];
      projectBackward(s.xt, du, T, c, weights[p], dp.weight.data, dp.bias.data, dxt);
    }
    for (let ch = 0; ch < c; ch++) for (let t = 0; t < T; t++) dx[(n * c + ch) * T + t] = dxt[t * c + ch];
  }
  const shape = [g.n, c, g.h, g.w];
  return {
    dx: { shape, data: dx },
    dResidual: residual ? { shape, data: Float64Array.from(dy.data, (v) => v / f) } : undefined,
    dWeights,
  };
};
