/**
 * The exponential on four f32 lanes, emitted inline into a WebAssembly SIMD function body: Cephes' `expf`,
 * shared by the softmax kernels (`softmax-kernels.ts`) and the SiLU kernels (`silu-kernels.ts`).
 *
 * n = round(x·log₂e) (by adding and subtracting 1.5·2²³, which also leaves n in the low mantissa bits),
 * r = x − n·C₁ − n·C₂ with C₁ + C₂ = ln 2 (C₁ = 0.693359375 has 9 significant bits, so n·C₁ is exact),
 * |r| ≤ ln 2 / 2, eʳ ≈ 1 + r + r²·P(r) with P of degree 5, times 2ⁿ assembled from the exponent bits
 * (n + 127) ≪ 23: relative error about 1e-7, i.e. float32 rounding. Arguments below ln 2⁻¹²⁶ ≈ −87.34, where eˣ
 * is smaller than the least normal float32, give exactly 0; so does −∞. Arguments must not exceed
 * ln(2¹²⁸) ≈ 88.72 (the callers only pass x ≤ 0).
 *
 * Source: S. L. Moshier, Cephes Math Library, `expf.c` (reduction constants and polynomial); W. J. Cody and
 * W. Waite, "Software Manual for the Elementary Functions", 1980, ch. 6 (the two-constant reduction).
 *
 * @module
 */
import type { Body } from "./assembler.js";

/** ln 2⁻¹²⁶: below it eˣ is under the least normal float32 and {@link expV} returns 0. */
const EXP_MIN = -87.33654475;
/** 1.5·2²³: adding it rounds an f32 of magnitude < 2²² to an integer n and leaves 0x4B400000 + n as its bits. */
const ROUNDER = 12582912;
/** ln 2 = C₁ + C₂ (Cephes `expf.c`). */
const C1 = 0.693359375;
const C2 = -2.1219444e-4;
/** P(r), highest degree first (Cephes `expf.c`): eʳ ≈ 1 + r + r²·P(r). */
const P = [
  1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1,
];

/**
 * Scratch f32x4 locals of {@link expV}, declared by the caller in its function body.
 *
 * @category Networks
 */
export interface ExpScratch {
  /** x clamped to ln 2⁻¹²⁶, then the reduced argument r. */
  readonly r: number;
  /** x·log₂e + 1.5·2²³ (its bits hold n). */
  readonly t: number;
  /** n as a float. */
  readonly n: number;
  /** All ones where x ≥ ln 2⁻¹²⁶. */
  readonly mask: number;
}

/**
 * Emits code that leaves exp(x) of the f32x4 local `x` on the stack, lane-wise: eˣ = 2ⁿ·eʳ with
 * n = round(x·log₂e), r = x − n·ln 2 and eʳ ≈ 1 + r + r²·P(r) (see the module documentation); 0 where
 * x < ln 2⁻¹²⁶ ≈ −87.34. Requires x ≤ ln(2¹²⁸); the four scratch locals are overwritten.
 *
 * Source: Cephes `expf.c` (S. L. Moshier).
 *
 * @category Networks
 */
export const expV = (f: Body, x: number, s: ExpScratch): void => {
  f.get(x).constV(EXP_MIN).geV().set(s.mask);
  f.get(x).constV(EXP_MIN).pmaxV().set(s.r);
  f.get(s.r).constV(Math.LOG2E).mulV().constV(ROUNDER).addV().set(s.t);
  f.get(s.t).constV(ROUNDER).subV().set(s.n);
  f.get(s.r).get(s.n).constV(C1).mulV().subV().get(s.n).constV(C2).mulV().subV().set(s.r);
  f.constV(P[0]);
  for (const c of P.slice(1)) f.get(s.r).mulV().constV(c).addV();
  f.get(s.r).get(s.r).mulV().mulV().get(s.r).addV().constV(1).addV();
  f.get(s.t)
    .constIV(127 - 0x4b400000)
    .addIV()
    .i32(23)
    .shlIV();
  f.mulV().get(s.mask).andV();
};
