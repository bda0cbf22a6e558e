/**
 * The self-attention op: a kernel interface, two implementations of it, the selection between them, and the
 * validated entry points `attention` (forward) and `attentionBackward` (∂x, ∂residual, ∂ of every weight and
 * bias), with diffusers' `AttnProcessor` semantics (see `attention-shape.ts`).
 *
 * Every product runs on the two matrix micro-kernels of `wasm/micro-kernels.ts` (`panelProduct`, C = A·B with
 * A packed in 4-row panels and B rows read through an offset table, and `rowDots`, C = A·Bᵀ), over one
 * "channel-major wide" layout: a [rows × N·Tₚ] matrix whose row is one channel and whose columns are the tokens
 * of image 0, then image 1, …, each image padded to Tₚ = ⌈T/8⌉·8 columns. NCHW input is already channel-major,
 * so x packs by row copies, and the products below need no transposes:
 * - projections [qᵀ; kᵀ; vᵀ] = [W_q; W_k; W_v | b]·[x̂ᵀ; 𝟙] (one panel product; the bias rides on a row 𝟙 that is
 *   1 on real tokens and 0 on padding, so padded columns stay exactly 0); each head's rows are padded to
 *   dₚ = ⌈d/4⌉·4 with zero weights;
 * - per image and head: S = (s·qₕ)·kₕᵀ (panel product, B rows = rows of kₕᵀ), P = softmax(S) row by row (the
 *   softmax kernels of `wasm/softmax-kernels.ts`: exp on f32x4 lanes, sums in float64; padding columns enter as
 *   −∞ and leave as 0), oₕᵀ = vₕᵀ·Pᵀ (row dots against the rows of P), and z = W_out·oᵀ + b_out (panel product);
 * - backward: ∂W_out = ∂zᵀ·o (row dots), ∂oᵀ = W_outᵀ·∂zᵀ, ∂P = (s·∂oₕ)·vₕᵀ, ∂S = P ⊙ (∂P − rowsum(P ⊙ ∂P))
 *   (softmax kernel, row dot in float64),
 *   ∂vₕᵀ = ∂oₕᵀ·P, ∂kₕᵀ = qₕᵀ·∂S (panel products, B rows = rows of P and ∂S), ∂qₕᵀ = kₕᵀ·∂Sᵀ (row dots),
 *   ∂x̂ᵀ = [W_q; W_k; W_v]ᵀ·[∂qᵀ; ∂kᵀ; ∂vᵀ] (one panel product), ∂W_u = ∂uᵀ·x̂ (row dots); biases summed in
 *   float64. The backward pass recomputes the forward (the interface keeps no state between calls).
 *
 * Implementations: `wasm-simd` runs the WebAssembly SIMD micro-kernels; `typescript` runs the same algorithm on
 * scalar TypeScript loops with the same contracts (float64 `Math.exp`; for the cpu backend, and where WebAssembly
 * SIMD is missing).
 * There are no GPU.js attention kernels: the op is a chain of matrix products, which GPU.js' webasm backend runs
 * at gather speed (see `kernels/conv2d.ts`). Memory: two Tₚ×Tₚ score buffers besides O(C·N·Tₚ) activations.
 *
 * Source: Vaswani et al., "Attention Is All You Need", 2017, eq. (1); diffusers `AttnProcessor`; the blocked
 * products of Goto & van de Geijn, ACM TOMS 34(3), 2008.
 *
 * @module
 */

import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../../core/errors.js";
import type { Tensor } from "../../core/tensor.js";
import {
  type AttentionGradients,
  type AttentionOptions,
  type AttentionShape,
  type AttentionWeights,
  attentionShape,
  checkAttentionOutputGradient,
} from "../attention-shape.js";
import type { NetBackend } from "../backend.js";
import { arena, type LinearMemory, roundUp } from "../wasm/arena.js";
import type { MicroKernels } from "../wasm/micro-kernels.js";
import { instantiateSoftmaxKernels, type SoftmaxKernels } from "../wasm/softmax-kernels.js";
import { type KernelThreads, microKernelsOn, withThreads } from "../wasm/threads.js";

/**
 * Which code computes the attention: the WebAssembly SIMD micro-kernels, or the same blocked algorithm in
 * scalar TypeScript.
 *
 * @category Networks
 */
export type AttentionImplementation = "wasm-simd" | "typescript";

/**
 * An attention implementation over flat float32 buffers. It computes the attention branch z (before the
 * residual and the rescale, which the entry points apply) and its adjoint. Kernels trust their inputs: the
 * geometry comes from {@link attentionShape} and the buffers match it.
 *
 * @category Networks
 */
export interface AttentionKernels {
  /** Which code runs. */
  readonly implementation: AttentionImplementation;
  /** Why this implementation was chosen, in one sentence. */
  readonly reason: string;
  /** z = attention branch of x, NCHW [N, C, H, W] (y = (z + r)/f is applied by {@link attention}). */
  readonly forward: (g: AttentionShape, x: Float32Array, weights: AttentionWeights) => Float32Array;
  /** ∂x and the weight gradients for a gradient ∂z of the branch output, NCHW. */
  readonly backward: (
    g: AttentionShape,
    x: Float32Array,
    weights: AttentionWeights,
    dz: Float32Array,
  ) => {
    /** ∂x, [N, C, H, W]. */
    readonly dx: Float32Array;
    /** ∂W, ∂b of every projection. */
    readonly dWeights: AttentionWeights;
  };
  /** Releases scratch memory; the kernels re-create it if used again. */
  readonly dispose: () => void;
}

/**
 * The two products and the two softmax row passes the op needs, with the contracts of `wasm/micro-kernels.ts`
 * and `wasm/softmax-kernels.ts`.
 */
interface Primitives {
  /** The memory every address refers to. */
  readonly memory: LinearMemory;
  /** C[4·ib + r, j] = Σₖ Apack[ib, k, r]·B(k)[j]. */
  readonly panelProduct: MicroKernels["panelProduct"];
  /** C[i, k] = Σₚ A[i, p]·B(k)[p]. */
  readonly rowDots: MicroKernels["rowDots"];
  /** Row-wise softmax in place (−∞ entries → 0). */
  readonly softmaxRows: SoftmaxKernels["softmaxRows"];
  /** ∂S = P ⊙ (∂P − rowsum(P ⊙ ∂P)), written over ∂P. */
  readonly softmaxBackward: SoftmaxKernels["softmaxBackward"];
}

/**
 * The primitives' contracts on scalar loops (float64 accumulation and `Math.exp`, float32 storage) over a
 * growable buffer: the same algorithm without WebAssembly.
 */
const scalarPrimitives = (): Primitives => {
  let buffer = new ArrayBuffer(65536);
  const memory: LinearMemory = {
    get buffer() {
      return buffer;
    },
    grow: (pages) => {
      const old = buffer.byteLength / 65536;
      const next = new ArrayBuffer(buffer.byteLength + pages * 65536);
      new Uint8Array(next).set(new Uint8Array(buffer));
      buffer = next;
      return old;
    },
  };
  return {
    memory,
    panelProduct: (aPack, bOffsets, nk, c, ldcBytes, mBlocks, nBytes) => {
      const f32 = new Float32Array(buffer);
      const i32 = new Int32Array(buffer);
      const cols = nBytes >> 2;
      const acc = new Float64Array(cols);
      for (let row = 0; row < 4 * mBlocks; row++) {
        acc.fill(0);
        const a0 = (aPack >> 2) + (row >> 2) * nk * 4 + (row & 3);
        for (let k = 0; k < nk; k++) {
          const a = f32[a0 + 4 * k];
          const b = i32[(bOffsets >> 2) + k] >> 2;
          for (let j = 0; j < cols; j++) acc[j] += a * f32[b + j];
        }
        f32.set(acc, (c + row * ldcBytes) >> 2);
      }
    },
    rowDots: (a, ldaBytes, bOffsets, nkPairs, c, ldcBytes, mBlocks, npBytes) => {
      const f32 = new Float32Array(buffer);
      const i32 = new Int32Array(buffer);
      for (let i = 0; i < 4 * mBlocks; i++) {
        const ai = (a + i * ldaBytes) >> 2;
        for (let k = 0; k < 2 * nkPairs; k++) {
          const b = i32[(bOffsets >> 2) + k] >> 2;
          let acc = 0;
          for (let p = 0; p < npBytes >> 2; p++) acc += f32[ai + p] * f32[b + p];
          f32[((c + i * ldcBytes) >> 2) + k] = acc;
        }
      }
    },
    softmaxRows: (p, rows, nBytes) => {
      const f32 = new Float32Array(buffer);
      const n = nBytes >> 2;
      for (let row = p >> 2; row < (p >> 2) + rows * n; row += n) {
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < n; j++) max = Math.max(max, f32[row + j]);
        let sum = 0;
        for (let j = 0; j < n; j++) {
          const e = Math.exp(f32[row + j] - max);
          f32[row + j] = e;
          sum += e;
        }
        for (let j = 0; j < n; j++) f32[row + j] /= sum;
      }
    },
    softmaxBackward: (p, ds, rows, nBytes) => {
      const f32 = new Float32Array(buffer);
      const n = nBytes >> 2;
      for (let i = 0; i < rows; i++) {
        const pr = (p >> 2) + i * n;
        const dr = (ds >> 2) + i * n;
        let dot = 0;
        for (let j = 0; j < n; j++) dot += f32[pr + j] * f32[dr + j];
        for (let j = 0; j < n; j++) f32[dr + j] = f32[pr + j] * (f32[dr + j] - dot);
      }
    },
  };
};

/** The padded sizes of the channel-major wide layout. */
interface Layout {
  /** Head width padded to 4, dₚ. */
  readonly dp: number;
  /** Head-padded channels heads·dₚ. */
  readonly cp: number;
  /** C rounded up to 4 (rows of panel-packed C-row operands). */
  readonly c4: number;
  /** C rounded up to 2 (row-dot pairs over channels). */
  readonly c2: number;
  /** Tokens per image padded to 8, Tₚ. */
  readonly tp: number;
  /** Columns N·Tₚ. */
  readonly q: number;
}

const layoutOf = (g: AttentionShape): Layout => {
  const dp = roundUp(g.headDim, 4);
  const tp = roundUp(g.tokens, 8);
  return { dp, cp: g.heads * dp, c4: roundUp(g.c, 4), c2: roundUp(g.c, 2), tp, q: g.n * tp };
};

/** Row of channel `ch` (of part 0 = q, 1 = k, 2 = v) in the head-padded layout. */
const paddedRow = (g: AttentionShape, lay: Layout, part: number, ch: number): number =>
  part * lay.cp + Math.floor(ch / g.headDim) * lay.dp + (ch % g.headDim);

/** Typed views of the memory and the element offsets of named buffers. */
interface Arena<K extends string> {
  /** Element offset (f32 or i32 index) of each buffer. */
  readonly at: Readonly<Record<K, number>>;
  /** Float view. */
  readonly f32: Float32Array;
  /** Integer view (offset tables). */
  readonly i32: Int32Array;
}

/** A bump allocator: places the buffers 16-byte aligned, zero-filled, growing the memory when needed. */
const allocate = <K extends string>(mem: LinearMemory, sizes: Readonly<Record<K, number>>): Arena<K> => {
  const names = Object.keys(sizes) as K[];
  const placed = arena(
    mem,
    names.map((name) => sizes[name]),
  );
  const at = {} as Record<K, number>;
  names.forEach((name, i) => {
    at[name] = placed.at[i];
  });
  const end =
    names.length === 0 ? 4 : placed.at[names.length - 1] + roundUp(sizes[names[names.length - 1]], 4);
  placed.f32.fill(0, 0, end);
  return { at, f32: placed.f32, i32: placed.i32 };
};

const forwardSizes = (g: AttentionShape, lay: Layout) => ({
  xT: (g.c + 1) * lay.q,
  xOffs: g.c + 1,
  wPack: 3 * lay.cp * (g.c + 1),
  qkvT: 3 * lay.cp * lay.q,
  aPack: lay.tp * lay.dp,
  bOffs: lay.dp,
  p: lay.tp * lay.tp,
  pOffs: lay.tp,
  oT: lay.cp * lay.q,
  oOffs: roundUp(g.c + 1, 2),
  woPack: lay.c4 * (g.c + 1),
  zT: lay.c4 * lay.q,
});

type ForwardBuffers = keyof ReturnType<typeof forwardSizes>;

const backwardSizes = (g: AttentionShape, lay: Layout) => ({
  ...forwardSizes(g, lay),
  gT: lay.c4 * lay.q,
  gOffs: g.c,
  dWo: lay.c4 * lay.c2,
  woTPack: lay.cp * g.c,
  doT: lay.cp * lay.q,
  ds: lay.tp * lay.tp,
  dsOffs: lay.tp,
  dqkvT: 3 * lay.cp * lay.q,
  dqkvOffs: 3 * g.c,
  wTPack: lay.c4 * 3 * g.c,
  dxT: lay.c4 * lay.q,
  dWqkv: 3 * lay.cp * lay.c2,
});

type BackwardBuffers = keyof ReturnType<typeof backwardSizes>;

/** Packs A[row, k] (0 ≤ row < 4·blocks, 0 ≤ k < nk) into 4-row panels at element offset `at`. */
const packPanels = (
  f32: Float32Array,
  at: number,
  rows: number,
  nk: number,
  value: (row: number, k: number) => number,
): void => {
  for (let row = 0; row < rows; row++)
    for (let k = 0; k < nk; k++) f32[at + ((row >> 2) * nk + k) * 4 + (row & 3)] = value(row, k);
};

/** Packs x into x̂ᵀ rows plus the 𝟙 row, and computes [qᵀ; kᵀ; vᵀ] (the forward up to the scores). */
const projectQkv = (
  k: Primitives,
  g: AttentionShape,
  lay: Layout,
  m: Arena<ForwardBuffers>,
  x: Float32Array,
  weights: AttentionWeights,
): void => {
  const { at, f32, i32 } = m;
  const { c, tokens: T } = g;
  for (let n = 0; n < g.n; n++) {
    for (let ch = 0; ch < c; ch++)
      f32.set(x.subarray((n * c + ch) * T, (n * c + ch + 1) * T), at.xT + ch * lay.q + n * lay.tp);
    f32.fill(1, at.xT + c * lay.q + n * lay.tp, at.xT + c * lay.q + n * lay.tp + T);
  }
  for (let r = 0; r <= c; r++) i32[at.xOffs + r] = (at.xT + r * lay.q) * 4;
  const parts = [weights.toQ, weights.toK, weights.toV];
  parts.forEach((p, part) => {
    for (let o = 0; o < c; o++) {
      const row = paddedRow(g, lay, part, o);
      const base = at.wPack + (row >> 2) * (c + 1) * 4 + (row & 3);
      for (let i = 0; i < c; i++) f32[base + i * 4] = p.weight.data[o * c + i];
      f32[base + c * 4] = p.bias.data[o];
    }
  });
  k.panelProduct(at.wPack * 4, at.xOffs * 4, c + 1, at.qkvT * 4, lay.q * 4, (3 * lay.cp) / 4, lay.q * 4);
};

/**
 * out[i, j] = s·Σ_{e<d} Aᵀ[e, i]·Bᵀ[e, j] over the Tₚ tokens of one image, for head rows starting at element
 * offsets `aRow` and `bRow` of two wide matrices (S = s·qₕkₕᵀ, or ∂P = s·∂oₕvₕᵀ).
 */
const tokenProduct = (
  k: Primitives,
  g: AttentionShape,
  lay: Layout,
  m: Arena<ForwardBuffers>,
  aRow: number,
  bRow: number,
  out: number,
): void => {
  const { at, f32, i32 } = m;
  const d = g.headDim;
  packPanels(f32, at.aPack, lay.tp, d, (i, e) => g.scale * f32[aRow + e * lay.q + i]);
  for (let e = 0; e < d; e++) i32[at.bOffs + e] = (bRow + e * lay.q) * 4;
  k.panelProduct(at.aPack * 4, at.bOffs * 4, d, out * 4, lay.tp * 4, lay.tp / 4, lay.tp * 4);
};

/**
 * Row-wise stable softmax of the T×T block of the scores at element offset `p` (row max subtracted), in place;
 * padding columns are masked with −∞ first (→ 0), padding rows set to 0.
 */
const softmaxRows = (k: Primitives, f32: Float32Array, p: number, T: number, tp: number): void => {
  if (T < tp)
    for (let i = 0; i < T; i++) f32.fill(Number.NEGATIVE_INFINITY, p + i * tp + T, p + (i + 1) * tp);
  k.softmaxRows(p * 4, T, tp * 4);
  f32.fill(0, p + T * tp, p + tp * tp);
};

/** P of image n and head h into `m.at.p` (recomputed from qᵀ, kᵀ). */
const probabilities = (
  k: Primitives,
  g: AttentionShape,
  lay: Layout,
  m: Arena<ForwardBuffers>,
  n: number,
  h: number,
): void => {
  const col = n * lay.tp;
  const head = h * lay.dp;
  tokenProduct(
    k,
    g,
    lay,
    m,
    m.at.qkvT + head * lay.q + col,
    m.at.qkvT + (lay.cp + head) * lay.q + col,
    m.at.p,
  );
  softmaxRows(k, m.f32, m.at.p, g.tokens, lay.tp);
};

/** The forward pass up to o (all heads, all images) and the output projection zᵀ. */
const forwardWide = (
  k: Primitives,
  g: AttentionShape,
  lay: Layout,
  m: Arena<ForwardBuffers>,
  x: Float32Array,
  weights: AttentionWeights,
): void => {
  const { at, f32, i32 } = m;
  const { c } = g;
  projectQkv(k, g, lay, m, x, weights);
  for (let i = 0; i < lay.tp; i++) i32[at.pOffs + i] = (at.p + i * lay.tp) * 4;
  for (let n = 0; n < g.n; n++)
    for (let h = 0; h < g.heads; h++) {
      probabilities(k, g, lay, m, n, h);
      const col = n * lay.tp;
      const head = h * lay.dp;
      // oₕᵀ[e, i] = Σⱼ vₕᵀ[e, j]·P[i, j]
      k.rowDots(
        (at.qkvT + (2 * lay.cp + head) * lay.q + col) * 4,
        lay.q * 4,
        at.pOffs * 4,
        lay.tp / 2,
        (at.oT + head * lay.q + col) * 4,
        lay.q * 4,
        lay.dp / 4,
        lay.tp * 4,
      );
    }
  for (let ch = 0; ch < c; ch++) i32[at.oOffs + ch] = (at.oT + paddedRow(g, lay, 0, ch) * lay.q) * 4;
  for (let r = c; r < roundUp(c + 1, 2); r++) i32[at.oOffs + r] = (at.xT + c * lay.q) * 4;
  const wo = weights.toOut;
  packPanels(f32, at.woPack, c, c + 1, (o, i) => (i < c ? wo.weight.data[o * c + i] : wo.bias.data[o]));
  k.panelProduct(at.woPack * 4, at.oOffs * 4, c + 1, at.zT * 4, lay.q * 4, lay.c4 / 4, lay.q * 4);
};

/** Copies rows 0 … C−1 of a wide matrix at element offset `wide` out to NCHW. */
const unpack = (g: AttentionShape, lay: Layout, f32: Float32Array, wide: number): Float32Array => {
  const out = new Float32Array(g.n * g.c * g.tokens);
  for (let n = 0; n < g.n; n++)
    for (let ch = 0; ch < g.c; ch++) {
      const from = wide + ch * lay.q + n * lay.tp;
      out.set(f32.subarray(from, from + g.tokens), (n * g.c + ch) * g.tokens);
    }
  return out;
};

/** Σ over the columns of row `row` of a wide matrix, in float64. */
const rowSum = (f32: Float32Array, row: number, q: number): number => {
  let s = 0;
  for (let j = row; j < row + q; j++) s += f32[j];
  return s;
};

/** The backward pass (module equations), after the forward has been recomputed into `m`. */
const backwardWide = (
  k: Primitives,
  g: AttentionShape,
  lay: Layout,
  m: Arena<BackwardBuffers>,
  weights: AttentionWeights,
  dz: Float32Array,
): AttentionWeights => {
  const { at, f32, i32 } = m;
  const { c, tokens: T } = g;
  // ∂zᵀ, ∂W_out = ∂zᵀ·o, ∂b_out, ∂oᵀ = W_outᵀ·∂zᵀ
  for (let n = 0; n < g.n; n++)
    for (let ch = 0; ch < c; ch++)
      f32.set(dz.subarray((n * c + ch) * T, (n * c + ch + 1) * T), at.gT + ch * lay.q + n * lay.tp);
  for (let o = 0; o < c; o++) i32[at.gOffs + o] = (at.gT + o * lay.q) * 4;
  k.rowDots(at.gT * 4, lay.q * 4, at.oOffs * 4, lay.c2 / 2, at.dWo * 4, lay.c2 * 4, lay.c4 / 4, lay.q * 4);
  const wo = weights.toOut.weight.data;
  for (let ch = 0; ch < c; ch++) {
    const row = paddedRow(g, lay, 0, ch);
    for (let o = 0; o < c; o++) f32[at.woTPack + ((row >> 2) * c + o) * 4 + (row & 3)] = wo[o * c + ch];
  }
  k.panelProduct(at.woTPack * 4, at.gOffs * 4, c, at.doT * 4, lay.q * 4, lay.cp / 4, lay.q * 4);
  // per image and head: P, ∂P, ∂S, then ∂vₕᵀ = ∂oₕᵀ·P, ∂kₕᵀ = qₕᵀ·∂S, ∂qₕᵀ = kₕᵀ·∂Sᵀ
  for (let i = 0; i < lay.tp; i++) i32[at.dsOffs + i] = (at.ds + i * lay.tp) * 4;
  const headTimesTokens = (aRow: number, bOffs: number, out: number): void => {
    packPanels(f32, at.aPack, lay.dp, T, (e, i) => f32[aRow + e * lay.q + i]);
    k.panelProduct(at.aPack * 4, bOffs * 4, T, out * 4, lay.q * 4, lay.dp / 4, lay.tp * 4);
  };
  for (let n = 0; n < g.n; n++)
    for (let h = 0; h < g.heads; h++) {
      const col = n * lay.tp;
      const head = h * lay.dp;
      probabilities(k, g, lay, m, n, h);
      tokenProduct(
        k,
        g,
        lay,
        m,
        at.doT + head * lay.q + col,
        at.qkvT + (2 * lay.cp + head) * lay.q + col,
        at.ds,
      );
      // ∂S = P ⊙ (∂P − rowsum(P ⊙ ∂P)); padding columns of P are 0, so they stay 0 in ∂S
      k.softmaxBackward(at.p * 4, at.ds * 4, T, lay.tp * 4);
      f32.fill(0, at.ds + T * lay.tp, at.ds + lay.tp * lay.tp);
      headTimesTokens(at.doT + head * lay.q + col, at.pOffs, at.dqkvT + (2 * lay.cp + head) * lay.q + col);
      headTimesTokens(at.qkvT + head * lay.q + col, at.dsOffs, at.dqkvT + (lay.cp + head) * lay.q + col);
      k.rowDots(
        (at.qkvT + (lay.cp + head) * lay.q + col) * 4,
        lay.q * 4,
        at.dsOffs * 4,
        lay.tp / 2,
        (at.dqkvT + head * lay.q + col) * 4,
        lay.q * 4,
        lay.dp / 4,
        lay.tp * 4,
      );
    }
  // ∂x̂ᵀ = Σᵤ W_uᵀ·∂uᵀ and ∂W_u = ∂uᵀ·x̂ (rows of x̂ᵀ through xOffs)
  const parts = [weights.toQ, weights.toK, weights.toV];
  parts.forEach((p, part) => {
    for (let o = 0; o < c; o++) {
      i32[at.dqkvOffs + part * c + o] = (at.dqkvT + paddedRow(g, lay, part, o) * lay.q) * 4;
      for (let i = 0; i < c; i++)
        f32[at.wTPack + ((i >> 2) * 3 * c + part * c + o) * 4 + (i & 3)] = p.weight.data[o * c + i];
    }
  });
  k.panelProduct(at.wTPack * 4, at.dqkvOffs * 4, 3 * c, at.dxT * 4, lay.q * 4, lay.c4 / 4, lay.q * 4);
  k.rowDots(
    at.dqkvT * 4,
    lay.q * 4,
    at.xOffs * 4,
    lay.c2 / 2,
    at.dWqkv * 4,
    lay.c2 * 4,
    (3 * lay.cp) / 4,
    lay.q * 4,
  );
  const gradient = (part: number) => {
    const weight = new Float32Array(c * c);
    const bias = new Float32Array(c);
    for (let o = 0; o < c; o++) {
      const row = paddedRow(g, lay, part, o);
      weight.set(f32.subarray(at.dWqkv + row * lay.c2, at.dWqkv + row * lay.c2 + c), o * c);
      bias[o] = rowSum(f32, at.dqkvT + row * lay.q, lay.q);
    }
    return { weight: { shape: [c, c], data: weight }, bias: { shape: [c], data: bias } };
  };
  const outWeight = new Float32Array(c * c);
  const outBias = new Float32Array(c);
  for (let o = 0; o < c; o++) {
    outWeight.set(f32.subarray(at.dWo + o * lay.c2, at.dWo + o * lay.c2 + c), o * c);
    outBias[o] = rowSum(f32, at.gT + o * lay.q, lay.q);
  }
  return {
    toQ: gradient(0),
    toK: gradient(1),
    toV: gradient(2),
    toOut: { weight: { shape: [c, c], data: outWeight }, bias: { shape: [c], data: outBias } },
  };
};

/** Attention kernels over a product provider created (and re-created after `dispose`) by `make`. */
const blockedAttention = (
  implementation: AttentionImplementation,
  reason: string,
  make: () => Primitives,
): AttentionKernels => {
  let primitives: Primitives | undefined;
  const live = (): Primitives => {
    primitives ??= make();
    return primitives;
  };
  return {
    implementation,
    reason,
    forward: (g, x, weights) => {
      const k = live();
      const lay = layoutOf(g);
      const m = allocate(k.memory, forwardSizes(g, lay));
      forwardWide(k, g, lay, m, x, weights);
      return unpack(g, lay, m.f32, m.at.zT);
    },
    backward: (g, x, weights, dz) => {
      const k = live();
      const lay = layoutOf(g);
      const m = allocate(k.memory, backwardSizes(g, lay));
      forwardWide(k, g, lay, m, x, weights);
      const dWeights = backwardWide(k, g, lay, m, weights, dz);
      return { dx: unpack(g, lay, m.f32, m.at.dxT), dWeights };
    },
    dispose: () => {
      primitives = undefined;
    },
  };
};

/**
 * The matrix micro-kernels (split across `threads` when given) and the softmax kernels over one WebAssembly
 * memory (undefined without SIMD).
 */
const wasmPrimitives = (threads?: KernelThreads): Primitives | undefined => {
  const mk = microKernelsOn(threads);
  if (mk === undefined) return undefined;
  const sk = instantiateSoftmaxKernels(mk.memory);
  if (sk === undefined) return undefined;
  const { memory, panelProduct, rowDots } = mk;
  return { memory, panelProduct, rowDots, softmaxRows: sk.softmaxRows, softmaxBackward: sk.softmaxBackward };
};

/**
 * Attention kernels on the WebAssembly SIMD micro-kernels (products) and softmax kernels (row softmax and its
 * adjoint), or `undefined` where the platform has no WebAssembly SIMD. The products split across `threads` when
 * given (bit-identical results; the softmax stays on the calling thread); memory grows to the largest call and
 * is released by `dispose`.
 *
 * @category Networks
 */
export const wasmAttention = (reason: string, threads?: KernelThreads): AttentionKernels | undefined =>
  wasmPrimitives(threads) === undefined
    ? undefined
    : blockedAttention("wasm-simd", reason, () => wasmPrimitives(threads)!);

/**
 * Attention kernels in scalar TypeScript: the same blocked algorithm as {@link wasmAttention}, with the
 * products and the softmax on plain loops (float64 accumulation and `Math.exp`). Runs everywhere; roughly 10–25×
 * slower than `wasm-simd` (8 heads over 256 tokens).
 *
 * @category Networks
 */
export const typescriptAttention = (reason: string): AttentionKernels =>
  blockedAttention("typescript", reason, scalarPrimitives);

/**
 * The attention kernels for a backend: `wasm-simd` on webasm (`typescript` if the platform lacks WebAssembly
 * SIMD, with the reason recorded), `typescript` on cpu, and the CPU's best on webgl2 (no GLSL attention kernels
 * yet: the whole op, its projections included, runs on the CPU there). The webgpu backend is a Left
 * for now, as for conv2d:
 * its kernels answer with Promises and this interface is synchronous.
 *
 * @category Networks
 */
export const attentionKernels = (
  backend: NetBackend,
  threads?: KernelThreads,
): E.Either<ScoreflowError, AttentionKernels> => {
  switch (backend.mode) {
    case "webasm":
      return E.right(
        wasmAttention(
          withThreads("webasm backend: WebAssembly SIMD matrix micro-kernels", threads),
          threads,
        ) ?? typescriptAttention("webasm backend without WebAssembly SIMD: scalar TypeScript products"),
      );
    case "cpu":
      return E.right(typescriptAttention("cpu backend: scalar TypeScript products (plain JavaScript)"));
    case "webgl2":
      return E.right(
        wasmAttention("webgl2 backend: no GLSL attention kernels yet, so WebAssembly SIMD on the CPU") ??
          typescriptAttention(
            "webgl2 backend: no GLSL attention kernels yet, so scalar TypeScript on the CPU",
          ),
      );
    case "webgpu":
      return E.left(
        scoreflowError(
          "attention",
          "backend.mode",
          backend.mode,
          "is not supported yet: webgpu kernels are asynchronous and the attention kernel interface is synchronous",
        ),
      );
  }
};

/**
 * Spatial multi-head self-attention, forward: y = (z + r)/f with z the attention branch of x
 * (z = W_out·concatₕ softmax(qₕkₕᵀ/√d)·vₕ + b_out over the H·W tokens, see `attention-shape.ts`), r the residual
 * (omitted: 0) and f = `rescaleOutputFactor`. Validates shapes, options and finiteness first
 * (see {@link attentionShape}). Cost {@link attentionFlops}.
 *
 * Source: Vaswani et al., "Attention Is All You Need", 2017, eq. (1); diffusers `AttnProcessor.__call__`.
 *
 * @category Networks
 */
export const attention = (
  kernels: AttentionKernels,
  x: Tensor,
  weights: AttentionWeights,
  residual: Tensor | undefined,
  options: AttentionOptions,
): E.Either<ScoreflowError, Tensor> =>
  E.map((g: AttentionShape) => {
    const z = kernels.forward(g, x.data, weights);
    const f = g.rescaleOutputFactor;
    if (residual !== undefined) for (let i = 0; i < z.length; i++) z[i] = (z[i] + residual.data[i]) / f;
    else if (f !== 1) for (let i = 0; i < z.length; i++) z[i] /= f;
    return { shape: [...x.shape], data: z };
  })(attentionShape(x, weights, residual, options));

/**
 * Spatial multi-head self-attention, backward: for an output gradient ∂y, returns ∂L/∂x, ∂L/∂r = ∂y/f (when a
 * residual is given; its values are not read) and ∂L/∂W, ∂L/∂b of every projection, with the softmax adjoint
 * ∂S = P ⊙ (∂P − rowsum(P ⊙ ∂P)). When the residual is x itself, the total input gradient is dx + dResidual.
 * Validates like {@link attention}, and ∂y against the output shape. Cost about 3·{@link attentionFlops} (the
 * forward is recomputed).
 *
 * Source: the chain rule through the module's equations; softmax Jacobian pᵢ(δᵢⱼ − pⱼ).
 *
 * @category Networks
 */
export const attentionBackward = (
  kernels: AttentionKernels,
  x: Tensor,
  weights: AttentionWeights,
  residual: Tensor | undefined,
  dy: Tensor,
  options: AttentionOptions,
): E.Either<ScoreflowError, AttentionGradients> => {
  const shape = attentionShape(x, weights, residual, options);
  if (E.isLeft(shape)) return shape;
  const g = shape.right;
  const dyOk = checkAttentionOutputGradient(g, dy);
  if (E.isLeft(dyOk)) return dyOk;
  // a plain loop: Float32Array.from with a map function walks an iterator, ~30× slower at these sizes
  const dz = new Float32Array(dy.data.length);
  for (let i = 0; i < dz.length; i++) dz[i] = dy.data[i] / g.rescaleOutputFactor;
  const { dx, dWeights } = kernels.backward(g, x.data, weights, dz);
  return E.right({
    dx: { shape: [...x.shape], data: dx },
    dResidual: residual === undefined ? undefined : { shape: [...x.shape], data: dz },
    dWeights,
  });
};
