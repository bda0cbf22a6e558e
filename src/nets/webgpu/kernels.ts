/**
 * The forward kernels of the network ops as GPU.js kernel functions for the webgpu backend: one output element
 * per thread over flat row-major float32 buffers, the geometry in `this.constants`. Each evaluates the op's
 * defining sum (the same equations as the float64 references in `reference/`); conv2d and linear reuse the
 * kernels of `kernels/conv2d-gpujs.ts` and `kernels/linear-gpujs.ts`.
 *
 * Source: the ops' definitions — PyTorch `GroupNorm`, `SiLU`, `F.interpolate(mode="nearest")`, `F.pad`,
 * `torch.cat`; diffusers `AttnProcessor` for attention (see `attention-shape.ts`).
 *
 * @module
 */
import type { IKernelFunctionThis } from "gpu.js";

/** Constants of the element-wise and layout kernels: batch, channels, height, width (any unused may be 1). */
type Nchw = {
  /** Batch. */
  readonly n: number;
  /** Channels. */
  readonly c: number;
  /** Height. */
  readonly h: number;
  /** Width. */
  readonly w: number;
};

/** Copies its input: how host data becomes a device buffer. */
export function uploadKernel(this: IKernelFunctionThis, x: number[]): number {
  return x[this.thread.x];
}

/** SiLU y = x·σ(x) = x / (1 + e^(−x)). */
export function siluKernel(this: IKernelFunctionThis, x: number[]): number {
  const v = x[this.thread.x];
  return v / (1 + Math.exp(-v));
}

/** y = a + b. */
export function addKernel(this: IKernelFunctionThis, a: number[], b: number[]): number {
  return a[this.thread.x] + b[this.thread.x];
}

/** y[n, c, ·] = x[n, c, ·] + e[n, c] over s = H·W spatial positions. */
export function channelBiasKernel(
  this: IKernelFunctionThis<{ readonly s: number }>,
  x: number[],
  e: number[],
): number {
  return x[this.thread.x] + e[Math.floor(this.thread.x / this.constants.s)];
}

/** y[n, ·] = cₙ·x[n, ·] over rows of `width` values. */
export function scaleRowsKernel(
  this: IKernelFunctionThis<{ readonly width: number }>,
  x: number[],
  c: number[],
): number {
  return c[Math.floor(this.thread.x / this.constants.width)] * x[this.thread.x];
}

/** cat([a, b], dim = 1) of a [N, ca, S] and b [N, cb, S] (S = spatial size). */
export function concatKernel(
  this: IKernelFunctionThis<{ readonly ca: number; readonly cb: number; readonly s: number }>,
  a: number[],
  b: number[],
): number {
  const s = this.constants.s;
  const ct = this.constants.ca + this.constants.cb;
  const j = this.thread.x % s;
  const c = Math.floor(this.thread.x / s) % ct;
  const n = Math.floor(this.thread.x / (s * ct));
  let v = 0;
  if (c < this.constants.ca) {
    v = a[(n * this.constants.ca + c) * s + j];
  } else {
    v = b[(n * this.constants.cb + c - this.constants.ca) * s + j];
  }
  return v;
}

/** Nearest 2× upsampling y[n, c, i, j] = x[n, c, ⌊i/2⌋, ⌊j/2⌋] of x [N, C, H, W]. */
export function upsampleKernel(this: IKernelFunctionThis<Nchw>, x: number[]): number {
  const w2 = 2 * this.constants.w;
  const j = this.thread.x % w2;
  const i = Math.floor(this.thread.x / w2) % (2 * this.constants.h);
  const p = Math.floor(this.thread.x / (w2 * 2 * this.constants.h));
  return x[(p * this.constants.h + Math.floor(i / 2)) * this.constants.w + Math.floor(j / 2)];
}

/** Zero padding of x [N, C, H, W] by one row at the bottom and one column at the right. */
export function padBottomRightKernel(this: IKernelFunctionThis<Nchw>, x: number[]): number {
  const w1 = this.constants.w + 1;
  const j = this.thread.x % w1;
  const i = Math.floor(this.thread.x / w1) % (this.constants.h + 1);
  const p = Math.floor(this.thread.x / (w1 * (this.constants.h + 1)));
  let v = 0;
  if (i < this.constants.h && j < this.constants.w) {
    v = x[(p * this.constants.h + i) * this.constants.w + j];
  }
  return v;
}

/**
 * Group statistics of x [N, C, S] in G groups: thread 2·(n·G + g) gives the mean μ of the block of C/G channels,
 * thread 2·(n·G + g) + 1 its 1/√(σ² + ε), σ² the biased variance Σ(x − μ)²/m (two passes, as `groupNorm`).
 */
export function groupStatsKernel(
  this: IKernelFunctionThis<{ readonly m: number; readonly eps: number }>,
  x: number[],
): number {
  const m = this.constants.m;
  const base = Math.floor(this.thread.x / 2) * m;
  let sum = 0;
  for (let k = 0; k < m; k++) {
    sum += x[base + k];
  }
  const mu = sum / m;
  let v = mu;
  if (this.thread.x % 2 === 1) {
    let ss = 0;
    for (let k = 0; k < m; k++) {
      const d = x[base + k] - mu;
      ss += d * d;
    }
    v = 1 / Math.sqrt(ss / m + this.constants.eps);
  }
  return v;
}

/** Constants of the group-norm kernels: batch, channels, spatial size, channels per group. */
export type GroupConstants = {
  /** Batch N. */
  readonly n: number;
  /** Channels C. */
  readonly c: number;
  /** Spatial size S. */
  readonly s: number;
  /** Channels per group. */
  readonly perGroup: number;
};

/** y = γ_c·(x − μ)·r + β_c with (μ, r) of the element's group from {@link groupStatsKernel}. */
export function groupNormKernel(
  this: IKernelFunctionThis<GroupConstants>,
  x: number[],
  stats: number[],
  gamma: number[],
  beta: number[],
): number {
  const nc = Math.floor(this.thread.x / this.constants.s);
  const c = nc % this.constants.c;
  const n = Math.floor(nc / this.constants.c);
  const group = n * (this.constants.c / this.constants.perGroup) + Math.floor(c / this.constants.perGroup);
  return gamma[c] * (x[this.thread.x] - stats[2 * group]) * stats[2 * group + 1] + beta[c];
}

/** Constants of the attention kernels: batch, channels, tokens, channels per head, 1/√d, 1/f. */
export type AttentionConstants = {
  /** Batch N. */
  readonly n: number;
  /** Channels C. */
  readonly c: number;
  /** Tokens T = H·W. */
  readonly t: number;
  /** Channels per head d. */
  readonly d: number;
  /** Score scale 1/√d. */
  readonly scale: number;
  /** Output factor 1/f (the residual block's rescale_output_factor). */
  readonly invF: number;
};

/**
 * The projections [q; k; v] [3, N, T, C] of tokens x̂[n, t, ·] = x[n, ·, t] of x [N, C, T]:
 * u[n, t, o] = b[o] + Σ_k W[o, k]·x[n, k, t].
 */
export function projectKernel(
  this: IKernelFunctionThis<AttentionConstants>,
  x: number[],
  wq: number[],
  bq: number[],
  wk: number[],
  bk: number[],
  wv: number[],
  bv: number[],
): number {
  const c = this.constants.c;
  const t = this.constants.t;
  const o = this.thread.x % c;
  const tok = Math.floor(this.thread.x / c) % t;
  const rest = Math.floor(this.thread.x / (c * t));
  const n = rest % this.constants.n;
  const which = Math.floor(rest / this.constants.n);
  let sum = 0;
  if (which === 0) {
    sum = bq[o];
    for (let k = 0; k < c; k++) {
      sum += wq[o * c + k] * x[(n * c + k) * t + tok];
    }
  } else if (which === 1) {
    sum = bk[o];
    for (let k = 0; k < c; k++) {
      sum += wk[o * c + k] * x[(n * c + k) * t + tok];
    }
  } else {
    sum = bv[o];
    for (let k = 0; k < c; k++) {
      sum += wv[o * c + k] * x[(n * c + k) * t + tok];
    }
  }
  return sum;
}

/**
 * Attention of one head, o[n, t, c] = Σⱼ softmax_j(s)·v[n, j, c] with s_j = (qₕ[n, t]·kₕ[n, j])/√d over the
 * head's channels, from the projections of {@link projectKernel}; the maximum is subtracted before exp.
 */
export function attendKernel(this: IKernelFunctionThis<AttentionConstants>, qkv: number[]): number {
  const c = this.constants.c;
  const t = this.constants.t;
  const d = this.constants.d;
  const ch = this.thread.x % c;
  const tok = Math.floor(this.thread.x / c) % t;
  const n = Math.floor(this.thread.x / (c * t));
  const h0 = Math.floor(ch / d) * d;
  const q0 = (n * t + tok) * c + h0;
  const k0 = (this.constants.n + n) * t * c + h0;
  const v0 = (2 * this.constants.n + n) * t * c + ch;
  let top = -3.4e38;
  for (let j = 0; j < t; j++) {
    let s = 0;
    for (let e = 0; e < d; e++) {
      s += qkv[q0 + e] * qkv[k0 + j * c + e];
    }
    top = Math.max(top, s * this.constants.scale);
  }
  let den = 0;
  let num = 0;
  for (let j = 0; j < t; j++) {
    let s = 0;
    for (let e = 0; e < d; e++) {
      s += qkv[q0 + e] * qkv[k0 + j * c + e];
    }
    const p = Math.exp(s * this.constants.scale - top);
    den += p;
    num += p * qkv[v0 + j * c];
  }
  return num / den;
}

/** y[n, c, t] = (b[c] + Σ_k W[c, k]·o[n, t, k] + r[n, c, t])·invF: the output projection and the residual. */
export function attentionOutKernel(
  this: IKernelFunctionThis<AttentionConstants>,
  o: number[],
  w: number[],
  b: number[],
  r: number[],
): number {
  const c = this.constants.c;
  const t = this.constants.t;
  const tok = this.thread.x % t;
  const ch = Math.floor(this.thread.x / t) % c;
  const n = Math.floor(this.thread.x / (c * t));
  let sum = b[ch];
  for (let k = 0; k < c; k++) {
    sum += w[ch * c + k] * o[(n * t + tok) * c + k];
  }
  return (sum + r[this.thread.x]) * this.constants.invF;
}
