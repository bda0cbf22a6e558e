/**
 * The linear layer on the WebAssembly SIMD panel product of `wasm/micro-kernels.ts`
 * (C[4·ib + r, j] = Σₖ Apack[ib, k, r] · B(k)[j], A packed in 4-row panels, B rows through an offset table,
 * C columns in tiles of 8). With x as [R, in], each pass is one product:
 *
 * - forward y = x·Wᵀ:  A = x (R × in), B(k) = column k of W, i.e. row k of Wᵀ packed [in][out₈];
 * - ∂x = ∂y·W:         A = ∂y (R × out), B(k) = row k of W, packed [out][in₈];
 * - ∂W = ∂yᵀ·x:        A = ∂yᵀ (out × R), B(k) = row k of x, packed [R][in₈];
 * - ∂b = Σᵣ ∂y[r, ·] in float64 (memory-bound, plain loop).
 *
 * (n₈ = n rounded up to 8, rows of A padded to 4 with zeros; padded outputs are discarded.) The rows of the
 * product's A side are the batch rows in the forward pass so that a batch of one wastes at most 3 zero rows
 * of a 4-row panel, not 7 zero columns of an 8-column tile.
 *
 * Source: the register-blocked GEMM of Goto & van de Geijn, "Anatomy of High-Performance Matrix
 * Multiplication", ACM TOMS 34(3), 2008; gradients of y = x·Wᵀ + b as in PyTorch's `addmm` backward.
 *
 * @module
 */
import { arena, roundUp } from "../wasm/arena.js";
import type { MicroKernels } from "../wasm/micro-kernels.js";
import { type KernelThreads, microKernelsOn } from "../wasm/threads.js";
import type { LinearKernels } from "./linear.js";

/**
 * One product C [m × n] = A [m × k] · B [k × n] on the panel-product micro-kernel. A is read from `a` with
 * strides, A[i, p] = a[i·ai + p·ap] (so Aᵀ costs nothing); `fillB` writes B's k rows into zeroed rows of
 * length `ld` ≥ n. Returns C row-major [m × n].
 */
const product = (
  mk: MicroKernels,
  m: number,
  k: number,
  n: number,
  a: Float32Array,
  ai: number,
  ap: number,
  fillB: (rows: Float32Array, ld: number) => void,
): Float32Array => {
  const m4 = roundUp(m, 4);
  const n8 = roundUp(n, 8);
  const {
    at: [pa, bp, offs, cp],
    f32,
    i32,
  } = arena(mk.memory, [m4 * k, k * n8, k, m4 * n8]);
  f32.fill(0, pa, pa + m4 * k);
  for (let i = 0; i < m; i++) {
    const to = pa + (i >> 2) * k * 4 + (i & 3);
    for (let p = 0; p < k; p++) f32[to + p * 4] = a[i * ai + p * ap];
  }
  const bRows = f32.subarray(bp, bp + k * n8);
  bRows.fill(0);
  fillB(bRows, n8);
  for (let p = 0; p < k; p++) i32[offs + p] = (bp + p * n8) * 4;
  mk.panelProduct(pa * 4, offs * 4, k, cp * 4, n8 * 4, m4 / 4, n8 * 4);
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) c.set(f32.subarray(cp + i * n8, cp + i * n8 + n), i * n);
  return c;
};

/**
 * Linear kernels on the WebAssembly SIMD panel product, or `undefined` where the platform has no WebAssembly
 * SIMD. On one thread, or split across `threads` (bit-identical results, see `wasm/threads.ts`); memory grows to
 * the largest call and is released by `dispose`.
 *
 * @category Networks
 */
export const wasmLinear = (reason: string, threads?: KernelThreads): LinearKernels | undefined => {
  let mk = microKernelsOn(threads);
  if (mk === undefined) return undefined;
  const live = (): MicroKernels => {
    mk ??= microKernelsOn(threads)!;
    return mk;
  };

  const forward: LinearKernels["forward"] = (g, x, w, b) => {
    const { rows, inFeatures: nin, outFeatures: nout } = g;
    // B = Wᵀ: row k holds W[·, k]
    const y = product(live(), rows, nin, nout, x, nin, 1, (bRows, ld) => {
      for (let o = 0; o < nout; o++) for (let k = 0; k < nin; k++) bRows[k * ld + o] = w[o * nin + k];
    });
    if (b !== undefined) for (let i = 0; i < y.length; i++) y[i] += b[i % nout];
    return y;
  };

  const backward: LinearKernels["backward"] = (g, x, w, dy) => {
    const { rows, inFeatures: nin, outFeatures: nout } = g;
    const copyRows =
      (src: Float32Array, count: number) =>
      (bRows: Float32Array, ld: number): void => {
        for (let p = 0; p < count; p++) bRows.set(src.subarray(p * nin, (p + 1) * nin), p * ld);
      };
    const dx = product(live(), rows, nout, nin, dy, nout, 1, copyRows(w, nout));
    const dw = product(live(), nout, rows, nin, dy, 1, nout, copyRows(x, rows));
    const db = new Float64Array(nout);
    for (let i = 0; i < dy.length; i++) db[i % nout] += dy[i];
    return { dx, dw, db: Float32Array.from(db) };
  };

  return {
    implementation: "wasm-simd",
    reason,
    forward,
    backward,
    dispose: () => {
      mk = undefined;
    },
  };
};
