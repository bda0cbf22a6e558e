/**
 * conv2d on our own WebAssembly SIMD micro-kernels (see `wasm/micro-kernels.ts` for why not gpu.js `webasm`).
 * Every pass is one register-blocked product over a "phase-padded wide" layout that turns the convolution into
 * a matrix product without an im2col copy:
 *
 * - Pack: pad x by p and split it into s² stride phases, X̃[c, a·s + b][n·L + i·Wφ + j] = x_pad[n, c, s·i + a,
 *   s·j + b], with Hφ = ⌈(H + 2p)/s⌉, Wφ = ⌈(W + 2p)/s⌉, L = Hφ·Wφ. Then every tap k = (c, u, v) reads one
 *   contiguous row B(k)[q] = X̃[c, (u mod s)·s + (v mod s)][q + ⌊u/s⌋·Wφ + ⌊v/s⌋] along the "wide" output index
 *   q = n·L + i·Wφ + j, and y[·, o, i, j] = Σₖ w[o, k] · B(k)[q] for i < Hout, j < Wout (other q are discarded).
 * - Forward: Ỹ = W · B (panel product, M = Cout, K = Cin·kh·kw, N = N·L).
 * - ∂w: ∂w[o, k] = Σ_q ∂Ỹ[o, q] · B(k)[q] (row dots), with ∂Ỹ zero on the discarded q, so they add nothing.
 * - ∂x: ∂B = Wᵀ · ∂Ỹ (panel product), then the adjoint of the offset read, X̃-rows += ∂B rows (scatter-add),
 *   and un-pack the interior. ∂b = Σ ∂y in float64.
 * FLOPs per pass: 2·Cout·Cin·kh·kw·N·L, which exceeds the conv's 2·Cout·Cin·kh·kw·N·Hout·Wout by the wide
 * margin L/(Hout·Wout) (6% at 32×32, 3×3, p = 1).
 *
 * Source: implicit GEMM (Chetlur et al., "cuDNN", 2014, §3.1); stride phases as in the polyphase decomposition
 * of strided filters (Vaidyanathan, "Multirate Systems and Filter Banks", 1993, §4.3).
 *
 * @module
 */
import type { Conv2dShape } from "../conv2d-shape.js";
import { arena, roundUp } from "../wasm/arena.js";
import type { MicroKernels } from "../wasm/micro-kernels.js";
import { type KernelThreads, microKernelsOn } from "../wasm/threads.js";
import type { Conv2dKernels } from "./conv2d.js";

/** The phase-padded wide layout of one geometry (all sizes in f32 elements). */
interface WideLayout {
  /** Phase height ⌈(H + 2p)/s⌉ and width ⌈(W + 2p)/s⌉. */
  readonly hph: number;
  /** Phase width. */
  readonly wph: number;
  /** Elements per image and phase, Hφ·Wφ. */
  readonly l: number;
  /** Wide columns N·L rounded up to the kernels' 8-column tile. */
  readonly q: number;
  /** Stride between packed planes (c, phase): q plus the largest tap offset, rounded to 4. */
  readonly plane: number;
  /** Taps K = Cin·kh·kw. */
  readonly taps: number;
  /** Element offset of tap k's row inside the packed input. */
  readonly offsets: Int32Array;
}

const wideLayout = (g: Conv2dShape): WideLayout => {
  const s = g.stride;
  const hph = Math.ceil((g.h + 2 * g.padding) / s);
  const wph = Math.ceil((g.w + 2 * g.padding) / s);
  const l = hph * wph;
  const q = roundUp(g.n * l, 8);
  const plane = roundUp(q + Math.floor((g.kh - 1) / s) * wph + Math.floor((g.kw - 1) / s), 4);
  const taps = g.cin * g.kh * g.kw;
  const offsets = new Int32Array(taps);
  for (let c = 0; c < g.cin; c++)
    for (let u = 0; u < g.kh; u++)
      for (let v = 0; v < g.kw; v++) {
        const phase = (u % s) * s + (v % s);
        offsets[(c * g.kh + u) * g.kw + v] =
          (c * s * s + phase) * plane + Math.floor(u / s) * wph + Math.floor(v / s);
      }
  return { hph, wph, l, q, plane, taps, offsets };
};

/**
 * Moves x between NCHW and the packed layout at element base `at` of `mem`: `toPacked` copies x in, otherwise
 * the packed values are copied out into x. Rows are contiguous in both layouts when s = 1.
 */
const transferInput = (
  g: Conv2dShape,
  lay: WideLayout,
  mem: Float32Array,
  at: number,
  x: Float32Array,
  toPacked: boolean,
): void => {
  const s = g.stride;
  for (let b = 0; b < g.n; b++)
    for (let c = 0; c < g.cin; c++)
      for (let r = 0; r < g.h; r++) {
        const rp = r + g.padding;
        const xi = ((b * g.cin + c) * g.h + r) * g.w;
        const rowBase =
          at + (c * s * s + (rp % s) * s) * lay.plane + b * lay.l + Math.floor(rp / s) * lay.wph;
        if (s === 1) {
          const pi = rowBase + g.padding;
          if (toPacked) mem.set(x.subarray(xi, xi + g.w), pi);
          else x.set(mem.subarray(pi, pi + g.w), xi);
          continue;
        }
        for (let col = 0; col < g.w; col++) {
          const cp = col + g.padding;
          const pi = rowBase + (cp % s) * lay.plane + Math.floor(cp / s);
          if (toPacked) mem[pi] = x[xi + col];
          else x[xi + col] = mem[pi];
        }
      }
};

/**
 * Moves an NCHW output-shaped buffer y between its layout and the wide layout [Cout][q] at element base `at`:
 * `toWide` copies y in (leaving the discarded columns as they are), otherwise the wide values are copied out.
 * Each output row is contiguous in both.
 */
const transferOutput = (
  g: Conv2dShape,
  lay: WideLayout,
  mem: Float32Array,
  at: number,
  y: Float32Array,
  toWide: boolean,
): void => {
  for (let b = 0; b < g.n; b++)
    for (let o = 0; o < g.cout; o++)
      for (let i = 0; i < g.hout; i++) {
        const yi = ((b * g.cout + o) * g.hout + i) * g.wout;
        const q = at + o * lay.q + b * lay.l + i * lay.wph;
        if (toWide) mem.set(y.subarray(yi, yi + g.wout), q);
        else y.set(mem.subarray(q, q + g.wout), yi);
      }
};

/**
 * conv2d kernels on the WebAssembly SIMD micro-kernels, or `undefined` where the platform has no WebAssembly
 * SIMD. On one thread, or split across `threads` (bit-identical results, see `wasm/threads.ts`); memory grows to
 * the largest call and is released by `dispose`.
 *
 * @category Networks
 */
export const wasmConv2d = (reason: string, threads?: KernelThreads): Conv2dKernels | undefined => {
  let mk = microKernelsOn(threads);
  if (mk === undefined) return undefined;
  const live = (): MicroKernels => {
    mk ??= microKernelsOn(threads)!;
    return mk;
  };

  const forward: Conv2dKernels["forward"] = (g, x, w, b) => {
    const k = live();
    const lay = wideLayout(g);
    const planes = g.cin * g.stride * g.stride;
    const m4 = roundUp(g.cout, 4);
    const {
      at: [xt, offs, ap, yt],
      f32,
      i32,
    } = arena(k.memory, [planes * lay.plane, lay.taps, m4 * lay.taps, m4 * lay.q]);
    f32.fill(0, xt, xt + planes * lay.plane);
    transferInput(g, lay, f32, xt, x, true);
    for (let t = 0; t < lay.taps; t++) i32[offs + t] = (xt + lay.offsets[t]) * 4;
    f32.fill(0, ap, ap + m4 * lay.taps);
    for (let o = 0; o < g.cout; o++)
      for (let t = 0; t < lay.taps; t++)
        f32[ap + ((o >> 2) * lay.taps + t) * 4 + (o & 3)] = w[o * lay.taps + t];
    k.panelProduct(ap * 4, offs * 4, lay.taps, yt * 4, lay.q * 4, m4 / 4, lay.q * 4);
    const y = new Float32Array(g.n * g.cout * g.hout * g.wout);
    transferOutput(g, lay, f32, yt, y, false);
    if (b !== undefined) {
      const plane = g.hout * g.wout;
      for (let i = 0; i < y.length; i += plane) {
        const bias = b[(i / plane) % g.cout];
        for (let j = i; j < i + plane; j++) y[j] += bias;
      }
    }
    return y;
  };

  const backward: Conv2dKernels["backward"] = (g, x, w, dy) => {
    const k = live();
    const lay = wideLayout(g);
    const planes = g.cin * g.stride * g.stride;
    const m4 = roundUp(g.cout, 4);
    const t2 = roundUp(lay.taps, 2);
    const t4 = roundUp(lay.taps, 4);
    const {
      at: [xt, offs, dyt, dwt, wtp, dyOffs, dbt, dxt, dxOffs],
      f32,
      i32,
    } = arena(k.memory, [
      planes * lay.plane,
      t2,
      m4 * lay.q,
      m4 * t2,
      t4 * g.cout,
      g.cout,
      t4 * lay.q,
      planes * lay.plane,
      lay.taps,
    ]);
    // pack x and the output gradient (zero on discarded wide columns and padded rows)
    f32.fill(0, xt, xt + planes * lay.plane);
    transferInput(g, lay, f32, xt, x, true);
    for (let t = 0; t < t2; t++) i32[offs + t] = (xt + lay.offsets[Math.min(t, lay.taps - 1)]) * 4;
    f32.fill(0, dyt, dyt + m4 * lay.q);
    transferOutput(g, lay, f32, dyt, dy, true);
    const db = new Float64Array(g.cout);
    const plane = g.hout * g.wout;
    for (let i = 0; i < dy.length; i++) db[Math.floor(i / plane) % g.cout] += dy[i];
    // ∂w[o, k] = Σ_q ∂Ỹ[o, q] · B(k)[q]
    k.rowDots(dyt * 4, lay.q * 4, offs * 4, t2 / 2, dwt * 4, t2 * 4, m4 / 4, lay.q * 4);
    const dw = new Float32Array(g.cout * lay.taps);
    for (let o = 0; o < g.cout; o++)
      for (let t = 0; t < lay.taps; t++) dw[o * lay.taps + t] = f32[dwt + o * t2 + t];
    // ∂B = Wᵀ · ∂Ỹ, panel-packed Wᵀ: rows are taps, the reduction runs over output channels
    f32.fill(0, wtp, wtp + t4 * g.cout);
    for (let o = 0; o < g.cout; o++)
      for (let t = 0; t < lay.taps; t++)
        f32[wtp + ((t >> 2) * g.cout + o) * 4 + (t & 3)] = w[o * lay.taps + t];
    for (let o = 0; o < g.cout; o++) i32[dyOffs + o] = (dyt + o * lay.q) * 4;
    k.panelProduct(wtp * 4, dyOffs * 4, g.cout, dbt * 4, lay.q * 4, t4 / 4, lay.q * 4);
    // adjoint of the offset read: packed ∂x rows += ∂B rows, then read back the interior
    f32.fill(0, dxt, dxt + planes * lay.plane);
    for (let t = 0; t < lay.taps; t++) i32[dxOffs + t] = (dxt + lay.offsets[t]) * 4;
    k.scatterAdd(dbt * 4, lay.q * 4, dxOffs * 4, lay.taps, lay.q * 4);
    const dx = new Float32Array(x.length);
    transferInput(g, lay, f32, dxt, dx, false);
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
