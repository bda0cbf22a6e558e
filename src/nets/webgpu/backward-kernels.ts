/**
 * The backward kernels of the network ops as GPU.js kernel functions for the webgpu backend, one output element
 * per thread: the vector–Jacobian products of `kernels.ts`'s forward kernels (conv2d's and linear's come from
 * `kernels/conv2d-gpujs.ts` and `kernels/linear-gpujs.ts`). Each evaluates the same adjoint as the CPU op's
 * backward entry point; the derivations are in those modules' documentation.
 *
 * Source: the adjoints of `kernels/group-norm.ts`, `kernels/silu.ts`, `kernels/concat.ts`, `kernels/upsample.ts`
 * and `kernels/attention.ts` (softmax: ∂s = P ⊙ (∂P − rowsum(P ⊙ ∂P)), and rowsum(P ⊙ ∂P) = ∂o·o per head).
 *
 * @module
 */
import type { IKernelFunctionThis } from "gpu.js";
import type { AttentionConstants, GroupConstants } from "./kernels.js";

/** ∂x = ∂y·σ(x)·(1 + x·(1 − σ(x))) of SiLU. */
export function siluBackwardKernel(this: IKernelFunctionThis, x: number[], dy: number[]): number {
  const v = x[this.thread.x];
  const s = 1 / (1 + Math.exp(-v));
  return dy[this.thread.x] * s * (1 + v * (1 - s));
}

/** Channels c0 … c0 + cn − 1 of ∂y [N, ct, S]: the gradient of one input of a channel concatenation. */
export function concatSliceKernel(
  this: IKernelFunctionThis<{
    readonly ct: number;
    readonly c0: number;
    readonly cn: number;
    readonly s: number;
  }>,
  dy: number[],
): number {
  const s = this.constants.s;
  const j = this.thread.x % s;
  const c = Math.floor(this.thread.x / s) % this.constants.cn;
  const n = Math.floor(this.thread.x / (s * this.constants.cn));
  return dy[(n * this.constants.ct + this.constants.c0 + c) * s + j];
}

/** ∂x[n, c, i, j] = Σ_{a,b ∈ {0,1}} ∂y[n, c, 2i + a, 2j + b] of nearest 2× upsampling (x is [N, C, h, w]). */
export function upsampleBackwardKernel(
  this: IKernelFunctionThis<{ readonly h: number; readonly w: number }>,
  dy: number[],
): number {
  const w = this.constants.w;
  const j = this.thread.x % w;
  const i = Math.floor(this.thread.x / w) % this.constants.h;
  const p = Math.floor(this.thread.x / (w * this.constants.h));
  const base = (p * 2 * this.constants.h + 2 * i) * 2 * w + 2 * j;
  return dy[base] + dy[base + 1] + dy[base + 2 * w] + dy[base + 2 * w + 1];
}

/** ∂x = ∂y cropped back to [N, C, h, w]: the adjoint of padding one row at the bottom and one column right. */
export function cropKernel(
  this: IKernelFunctionThis<{ readonly h: number; readonly w: number }>,
  dy: number[],
): number {
  const w = this.constants.w;
  const j = this.thread.x % w;
  const i = Math.floor(this.thread.x / w) % this.constants.h;
  const p = Math.floor(this.thread.x / (w * this.constants.h));
  return dy[(p * (this.constants.h + 1) + i) * (w + 1) + j];
}

/** out[r] = Σ_{j < s} ∂y[r·s + j]: ∂e of a per-(sample, channel) bias broadcast over s spatial positions. */
export function spatialSumKernel(this: IKernelFunctionThis<{ readonly s: number }>, dy: number[]): number {
  let sum = 0;
  for (let j = 0; j < this.constants.s; j++) {
    sum += dy[this.thread.x * this.constants.s + j];
  }
  return sum;
}

/**
 * Per (sample, group): thread 2·(n·G + g) gives mean(g) = (1/m)·Σ γ_c·∂y, thread 2·(n·G + g) + 1 gives
 * mean(g ⊙ x̂) = (1/m)·Σ γ_c·∂y·x̂ over the group's m = (C/G)·S elements, x̂ = (x − μ)·r from `stats`.
 */
export function groupGradSumsKernel(
  this: IKernelFunctionThis<GroupConstants>,
  x: number[],
  dy: number[],
  stats: number[],
  gamma: number[],
): number {
  const group = Math.floor(this.thread.x / 2);
  const groups = this.constants.c / this.constants.perGroup;
  const c0 = (group % groups) * this.constants.perGroup;
  const n = Math.floor(group / groups);
  const m = this.constants.perGroup * this.constants.s;
  const base = (n * this.constants.c + c0) * this.constants.s;
  const mu = stats[2 * group];
  const r = stats[2 * group + 1];
  let sum = 0;
  for (let k = 0; k < m; k++) {
    const g = gamma[c0 + Math.floor(k / this.constants.s)] * dy[base + k];
    if (this.thread.x % 2 === 0) {
      sum += g;
    } else {
      sum += g * (x[base + k] - mu) * r;
    }
  }
  return sum / m;
}

/** ∂x = r·(γ_c·∂y − mean(g) − x̂·mean(g ⊙ x̂)) of group normalization. */
export function groupNormInputGradKernel(
  this: IKernelFunctionThis<GroupConstants>,
  x: number[],
  dy: number[],
  stats: number[],
  gamma: number[],
  sums: number[],
): number {
  const nc = Math.floor(this.thread.x / this.constants.s);
  const c = nc % this.constants.c;
  const n = Math.floor(nc / this.constants.c);
  const group = n * (this.constants.c / this.constants.perGroup) + Math.floor(c / this.constants.perGroup);
  const r = stats[2 * group + 1];
  const xhat = (x[this.thread.x] - stats[2 * group]) * r;
  return r * (gamma[c] * dy[this.thread.x] - sums[2 * group] - xhat * sums[2 * group + 1]);
}

/** ∂γ_c = Σ_{n,j} ∂y·x̂ (which = 0) or ∂β_c = Σ_{n,j} ∂y (which = 1) of group normalization. */
export function groupNormParamGradKernel(
  this: IKernelFunctionThis<GroupConstants & { readonly which: number }>,
  x: number[],
  dy: number[],
  stats: number[],
): number {
  const c = this.thread.x;
  const group0 = Math.floor(c / this.constants.perGroup);
  const groups = this.constants.c / this.constants.perGroup;
  let sum = 0;
  for (let n = 0; n < this.constants.n; n++) {
    const base = (n * this.constants.c + c) * this.constants.s;
    const group = n * groups + group0;
    for (let j = 0; j < this.constants.s; j++) {
      if (this.constants.which === 0) {
        sum += dy[base + j] * (x[base + j] - stats[2 * group]) * stats[2 * group + 1];
      } else {
        sum += dy[base + j];
      }
    }
  }
  return sum;
}

/**
 * The softmax rows of every (sample, head, query token t): thread 2·((n·H + h)·T + t) gives the row maximum m of
 * the scaled scores s_j = q_t·k_j/√d, the next thread Z = Σⱼ e^(s_j − m). From the projections [q; k; v].
 */
export function attentionRowStatsKernel(
  this: IKernelFunctionThis<AttentionConstants>,
  qkv: number[],
): number {
  const c = this.constants.c;
  const t = this.constants.t;
  const d = this.constants.d;
  const row = Math.floor(this.thread.x / 2);
  const tok = row % t;
  const heads = c / d;
  const h = Math.floor(row / t) % heads;
  const n = Math.floor(row / (t * heads));
  const q0 = (n * t + tok) * c + h * d;
  const k0 = (this.constants.n + n) * t * c + h * d;
  let top = -3.4e38;
  for (let j = 0; j < t; j++) {
    let s = 0;
    for (let e = 0; e < d; e++) {
      s += qkv[q0 + e] * qkv[k0 + j * c + e];
    }
    top = Math.max(top, s * this.constants.scale);
  }
  let v = top;
  if (this.thread.x % 2 === 1) {
    let z = 0;
    for (let j = 0; j < t; j++) {
      let s = 0;
      for (let e = 0; e < d; e++) {
        s += qkv[q0 + e] * qkv[k0 + j * c + e];
      }
      z += Math.exp(s * this.constants.scale - top);
    }
    v = z;
  }
  return v;
}

/** ∂o[n, t, k] = (1/f)·Σ_c ∂y[n, c, t]·W_out[c, k]: the gradient of the heads' output. */
export function attentionOutputGradKernel(
  this: IKernelFunctionThis<AttentionConstants>,
  dy: number[],
  wo: number[],
): number {
  const c = this.constants.c;
  const t = this.constants.t;
  const k = this.thread.x % c;
  const tok = Math.floor(this.thread.x / c) % t;
  const n = Math.floor(this.thread.x / (c * t));
  let sum = 0;
  for (let ch = 0; ch < c; ch++) {
    sum += dy[(n * c + ch) * t + tok] * wo[ch * c + k];
  }
  return sum * this.constants.invF;
}

/**
 * ∂W_out[c, k] = (1/f)·Σ_{n,t} ∂y[n, c, t]·o[n, t, k] for threads below C², then ∂b_out[c] = (1/f)·Σ_{n,t}
 * ∂y[n, c, t] for the next C.
 */
export function attentionOutParamGradKernel(
  this: IKernelFunctionThis<AttentionConstants>,
  dy: number[],
  o: number[],
): number {
  const c = this.constants.c;
  const t = this.constants.t;
  let sum = 0;
  if (this.thread.x < c * c) {
    const ch = Math.floor(this.thread.x / c);
    const k = this.thread.x % c;
    for (let n = 0; n < this.constants.n; n++) {
      for (let tok = 0; tok < t; tok++) {
        sum += dy[(n * c + ch) * t + tok] * o[(n * t + tok) * c + k];
      }
    }
  } else {
    const ch = this.thread.x - c * c;
    for (let n = 0; n < this.constants.n; n++) {
      for (let tok = 0; tok < t; tok++) {
        sum += dy[(n * c + ch) * t + tok];
      }
    }
  }
  return sum * this.constants.invF;
}

/** D[n, h, t] = Σ_{e ∈ head h} ∂o[n, t, e]·o[n, t, e] = Σⱼ P[t, j]·∂P[t, j], one per (sample, head, token). */
export function attentionRowDotKernel(
  this: IKernelFunctionThis<AttentionConstants>,
  dO: number[],
  o: number[],
): number {
  const c = this.constants.c;
  const t = this.constants.t;
  const d = this.constants.d;
  const heads = c / d;
  const tok = this.thread.x % t;
  const h = Math.floor(this.thread.x / t) % heads;
  const n = Math.floor(this.thread.x / (t * heads));
  const base = (n * t + tok) * c + h * d;
  let sum = 0;
  for (let e = 0; e < d; e++) {
    sum += dO[base + e] * o[base + e];
  }
  return sum;
}

/**
 * [∂q; ∂k; ∂v] [3, N, T, C]: with P[t, j] = e^(s_tj − m_t)/Z_t, ∂P[t, j] = ∂o_t·v_j and ∂s = P·(∂P − D_t) over
 * the head's channels, ∂q[t, e] = Σⱼ ∂s[t, j]·k[j, e]/√d, ∂k[j, e] = Σ_t ∂s[t, j]·q[t, e]/√d and
 * ∂v[j, e] = Σ_t P[t, j]·∂o[t, e].
 */
export function attentionQkvGradKernel(
  this: IKernelFunctionThis<AttentionConstants>,
  qkv: number[],
  dO: number[],
  stats: number[],
  rowDot: number[],
): number {
  const c = this.constants.c;
  const t = this.constants.t;
  const d = this.constants.d;
  const scale = this.constants.scale;
  const heads = c / d;
  const ch = this.thread.x % c;
  const tok = Math.floor(this.thread.x / c) % t;
  const rest = Math.floor(this.thread.x / (c * t));
  const n = rest % this.constants.n;
  const which = Math.floor(rest / this.constants.n);
  const h = Math.floor(ch / d);
  const h0 = h * d;
  const qBase = n * t * c + h0;
  const kBase = (this.constants.n + n) * t * c + h0;
  const vBase = (2 * this.constants.n + n) * t * c + h0;
  const oBase = n * t * c + h0;
  let sum = 0;
  for (let other = 0; other < t; other++) {
    // the score's query token and key token: (tok, other) for ∂q, (other, tok) for ∂k and ∂v
    let qt = other;
    let kj = tok;
    if (which === 0) {
      qt = tok;
      kj = other;
    }
    let s = 0;
    let dp = 0;
    for (let e = 0; e < d; e++) {
      s += qkv[qBase + qt * c + e] * qkv[kBase + kj * c + e];
      dp += dO[oBase + qt * c + e] * qkv[vBase + kj * c + e];
    }
    const stat = 2 * ((n * heads + h) * t + qt);
    const p = Math.exp(s * scale - stats[stat]) / stats[stat + 1];
    const ds = p * (dp - rowDot[(n * heads + h) * t + qt]);
    if (which === 0) {
      sum += ds * qkv[kBase + kj * c + (ch - h0)] * scale;
    } else if (which === 1) {
      sum += ds * qkv[qBase + qt * c + (ch - h0)] * scale;
    } else {
      sum += p * dO[oBase + qt * c + (ch - h0)];
    }
  }
  return sum;
}

/**
 * ∂x[n, k, t] = Σ_o (∂q[n, t, o]·W_q[o, k] + ∂k[n, t, o]·W_k[o, k] + ∂v[n, t, o]·W_v[o, k]): the gradient of
 * the normalized image through the three projections, in x's [N, C, T] layout.
 */
export function attentionInputGradKernel(
  this: IKernelFunctionThis<AttentionConstants>,
  dqkv: number[],
  wq: number[],
  wk: number[],
  wv: number[],
): number {
  const c = this.constants.c;
  const t = this.constants.t;
  const tok = this.thread.x % t;
  const k = Math.floor(this.thread.x / t) % c;
  const n = Math.floor(this.thread.x / (c * t));
  const q0 = (n * t + tok) * c;
  const k0 = ((this.constants.n + n) * t + tok) * c;
  const v0 = ((2 * this.constants.n + n) * t + tok) * c;
  let sum = 0;
  for (let o = 0; o < c; o++) {
    sum += dqkv[q0 + o] * wq[o * c + k] + dqkv[k0 + o] * wk[o * c + k] + dqkv[v0 + o] * wv[o * c + k];
  }
  return sum;
}

/**
 * For projection `which` (0 q, 1 k, 2 v): ∂W[o, k] = Σ_{n,t} ∂u[n, t, o]·x[n, k, t] for threads below C², then
 * ∂b[o] = Σ_{n,t} ∂u[n, t, o] for the next C.
 */
export function attentionProjectionGradKernel(
  this: IKernelFunctionThis<AttentionConstants & { readonly which: number }>,
  dqkv: number[],
  x: number[],
): number {
  const c = this.constants.c;
  const t = this.constants.t;
  const base = this.constants.which * this.constants.n * t * c;
  let sum = 0;
  if (this.thread.x < c * c) {
    const o = Math.floor(this.thread.x / c);
    const k = this.thread.x % c;
    for (let n = 0; n < this.constants.n; n++) {
      for (let tok = 0; tok < t; tok++) {
        sum += dqkv[base + (n * t + tok) * c + o] * x[(n * c + k) * t + tok];
      }
    }
  } else {
    const o = this.thread.x - c * c;
    for (let n = 0; n < this.constants.n; n++) {
      for (let tok = 0; tok < t; tok++) {
        sum += dqkv[base + (n * t + tok) * c + o];
      }
    }
  }
  return sum;
}

/** y[i] = x[offset + i]: one part of a buffer that holds several results (a weight's and a bias's gradients). */
export function sliceKernel(this: IKernelFunctionThis<{ readonly offset: number }>, x: number[]): number {
  return x[this.constants.offset + this.thread.x];
}
