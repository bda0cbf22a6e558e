/**
 * Two WebAssembly SIMD element-wise kernels (f32x4, single thread) for the SiLU op of `kernels/silu.ts`: the
 * forward y = x·σ(x) and its adjoint ∂x = ∂y·σ(x)·(1 + x·(1 − σ(x))). They replace scalar loops whose one
 * `Math.exp` per element made SiLU about a tenth of a U-Net training pass.
 *
 * Both kernels evaluate the one exponential h = exp(−|x|/2) with the shared Cephes `expf` of `expf.ts`, so that
 * the argument is never positive (no overflow for any finite x) and e^(−|x|) = h² stays available with h a
 * normal float32 down to x ≈ −174.7:
 *
 *   σ(x) = 1/(1 + h²) for x ≥ 0,   σ(x) = h²/(1 + h²) for x < 0,   1 − σ(x) = σ(−x),
 *   y = (x·g)·g / (1 + h²)   with g = 1 for x ≥ 0 and g = h for x < 0.
 *
 * The left tail is written (x·h)·h rather than x·h² so that the only rounding into the subnormal range is the
 * last product: y = x·eˣ keeps its relative accuracy down to the least subnormal, x ≈ −108.6; for x < −174.7
 * (where |y| < 10⁻⁷³) h is 0 and y = −0. Measured against the float64 reference over 1.7·10⁷ arguments: y within
 * 5.3·2⁻²⁴ ≈ 3.1·10⁻⁷ relative (worst in the left tail, where h's error enters twice), ∂x within 2.4·2⁻²⁴ of
 * |∂y|·(σ(|x|)·(1 + |x|·(1 − σ(|x|)))), plus half the subnormal spacing. The right tail saturates
 * without NaN: h → 0 gives y = x and ∂x = ∂y exactly. σ and 1 − σ are both formed from one correctly rounded
 * reciprocal 1/(1 + h²), each on the branch where it is the small one, so neither is a difference of nearly
 * equal numbers.
 *
 * Source: Elfwing, Uchibe & Doya, "Sigmoid-Weighted Linear Units for Neural Network Function Approximation in
 * Reinforcement Learning", Neural Networks 107, 2018, eq. 3–4; S. L. Moshier, Cephes Math Library, `expf.c`.
 *
 * @module
 */
import { type Body, body, I32_LT_U, wasmModule } from "./assembler.js";
import { expV } from "./expf.js";

/**
 * Declares the locals of one element-wise pass and emits, per f32x4 step, the shared head: loads x at
 * `px + j`, and sets h = exp(−|x|/2) and the mask (x ≥ 0); `tail` then emits the rest of the step (it may use
 * locals `x`, `h`, `m` and the byte offset `j`). Loops `for (j = 0; j < nBytes; j += 16)`; nBytes a positive
 * multiple of 16.
 */
const elementWise = (
  f: Body,
  px: number,
  nBytes: number,
  tail: (v: { readonly x: number; readonly h: number; readonly m: number; readonly j: number }) => void,
): void => {
  const j = f.local("i32");
  const [x, a, h, m, r, t, n, mask] = Array.from({ length: 8 }, () => f.local("v128"));
  f.i32(0).set(j);
  f.doWhile(
    () => {
      f.get(px).get(j).add().loadV().set(x);
      f.get(x).absV().constV(-0.5).mulV().set(a);
      expV(f, a, { r, t, n, mask });
      f.set(h);
      f.get(x).zeroV().geV().set(m);
      tail({ x, h, m, j });
      f.inc(j, 16);
    },
    () => f.get(j).get(nBytes).op(I32_LT_U),
  );
};

/**
 * `siluForward(x, y, nBytes)`: y[i] = x[i]·σ(x[i]) for the nBytes/4 floats at byte addresses x and y (y may be
 * x: in place). nBytes is a positive multiple of 16.
 */
const siluForward = (): Body => {
  const f = body(3);
  const [px, py, nBytes] = [0, 1, 2];
  const g = f.local("v128");
  elementWise(f, px, nBytes, ({ x, h, m, j }) => {
    f.constV(1).get(h).get(m).bitselectV().set(g);
    f.get(py).get(j).add();
    f.get(x).get(g).mulV().get(g).mulV();
    f.constV(1).get(h).get(h).mulV().addV().divV();
    f.storeV();
  });
  return f;
};

/**
 * `siluBackward(x, dy, dx, nBytes)`: dx[i] = dy[i]·σ(x[i])·(1 + x[i]·(1 − σ(x[i]))) for the nBytes/4 floats at
 * byte addresses x, dy and dx (dx may be dy or x: in place). nBytes is a positive multiple of 16.
 */
const siluBackward = (): Body => {
  const f = body(4);
  const [px, pdy, pdx, nBytes] = [0, 1, 2, 3];
  const [rec, er, s] = Array.from({ length: 3 }, () => f.local("v128"));
  elementWise(f, px, nBytes, ({ x, h, m, j }) => {
    // rec = 1/(1 + e), er = e/(1 + e) with e = h² = exp(−|x|): σ(x) and 1 − σ(x) are these two, by sign
    f.constV(1).constV(1).get(h).get(h).mulV().addV().divV().set(rec);
    f.get(h).get(h).mulV().get(rec).mulV().set(er);
    f.get(rec).get(er).get(m).bitselectV().set(s);
    f.get(pdx).get(j).add();
    f.get(pdy).get(j).add().loadV().get(s).mulV();
    f.constV(1).get(x).get(er).get(rec).get(m).bitselectV().mulV().addV();
    f.mulV().storeV();
  });
  return f;
};

/**
 * The instantiated SiLU kernels; every address is a byte address in the memory they were given, and every
 * length a positive multiple of 16 bytes (four floats).
 *
 * @category Networks
 */
export interface SiluWasmKernels {
  /** y = x·σ(x) over nBytes/4 floats (y may be x); see the module documentation. */
  readonly siluForward: (x: number, y: number, nBytes: number) => void;
  /** ∂x = ∂y·σ(x)·(1 + x·(1 − σ(x))) over nBytes/4 floats (dx may be dy or x). */
  readonly siluBackward: (x: number, dy: number, dx: number, nBytes: number) => void;
}

/** The module bytes, built once per process (pure data). */
let moduleBytes: Uint8Array<ArrayBuffer> | undefined;

/**
 * Compiles and instantiates the SiLU kernels over `memory`. Requires WebAssembly fixed-width SIMD; returns
 * `undefined` where the platform rejects the module.
 *
 * @category Networks
 */
export const instantiateSiluKernels = (memory: WebAssembly.Memory): SiluWasmKernels | undefined => {
  moduleBytes ??= wasmModule(
    [
      { name: "siluForward", arity: 3, body: siluForward() },
      { name: "siluBackward", arity: 4, body: siluBackward() },
    ],
    1,
  );
  if (!WebAssembly.validate(moduleBytes)) return undefined;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes), { env: { memory } });
  return instance.exports as unknown as SiluWasmKernels;
};
