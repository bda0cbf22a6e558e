/**
 * The SiLU op (PyTorch `torch.nn.SiLU`, also called swish): a kernel interface, two implementations of it, the
 * process-wide selection between them, and the validated entry points `silu` and `siluBackward` over float32
 * tensors of any shape.
 *
 * Implementations: `wasm-simd` runs the WebAssembly SIMD kernels of `wasm/silu-kernels.ts` (four lanes, the
 * exponential by the Cephes `expf` shared with attention's softmax), streaming the tensor through a fixed
 * 128 KiB window of one WebAssembly memory in chunks of {@link SILU_CHUNK} floats, so that the memory is sized
 * once and never grows, whatever the tensor; `typescript` runs a scalar loop in float64 with `Math.exp`, where
 * the platform has no WebAssembly SIMD. Both agree with the float64 reference of `reference/silu.ts` to a few
 * float32 ulps (`wasm-simd`: ≤ 5.3·2⁻²⁴ relative, see `wasm/silu-kernels.ts`) for every finite x, and saturate
 * without NaN. The op is element-wise and the same on every backend: the entry points take no backend and use
 * {@link siluKernels}.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "../../core/errors.js";
import type { Tensor } from "../../core/tensor.js";
import { checkExactShape, checkOperand } from "../operand-check.js";
import { arena, roundUp } from "../wasm/arena.js";
import { instantiateSiluKernels } from "../wasm/silu-kernels.js";

const CONTEXT = "silu";

/**
 * Which code computes SiLU: the WebAssembly SIMD kernels, or a scalar TypeScript loop.
 *
 * @category Networks
 */
export type SiluImplementation = "wasm-simd" | "typescript";

/**
 * A SiLU implementation over flat float32 buffers, y = x·σ(x) and ∂x = ∂y·σ(x)·(1 + x·(1 − σ(x))) with
 * σ(x) = 1/(1 + e^(−x)). Kernels trust their inputs: finite, and ∂y as long as x.
 *
 * Source: Elfwing, Uchibe & Doya, "Sigmoid-Weighted Linear Units for Neural Network Function Approximation in
 * Reinforcement Learning", Neural Networks 107, 2018, eq. 3–4.
 *
 * @category Networks
 */
export interface SiluKernels {
  /** Which code runs. */
  readonly implementation: SiluImplementation;
  /** y = x·σ(x), element-wise, in a fresh array. */
  readonly forward: (x: Float32Array) => Float32Array;
  /** ∂x = ∂y·σ(x)·(1 + x·(1 − σ(x))), element-wise, in a fresh array. */
  readonly backward: (x: Float32Array, dy: Float32Array) => Float32Array;
}

/**
 * SiLU in scalar TypeScript: y = x/(1 + e^(−x)) and ∂x = ∂y·s·(1 + x·(1 − s)) with s = 1/(1 + e^(−x)), in
 * float64 then rounded to float32. For x → −∞, e^(−x) overflows to +∞ and s, y reach 0 without NaN; for
 * x → +∞, s = 1 and 1 − s = 0 exactly. Runs everywhere.
 *
 * Source: Elfwing, Uchibe & Doya 2018, eq. 3–4.
 *
 * @category Networks
 */
export const typescriptSilu: SiluKernels = {
  implementation: "typescript",
  forward: (x) => {
    const y = new Float32Array(x.length);
    for (let i = 0; i < y.length; i++) {
      const v = x[i];
      y[i] = v / (1 + Math.exp(-v));
    }
    return y;
  },
  backward: (x, dy) => {
    const dx = new Float32Array(x.length);
    for (let i = 0; i < dx.length; i++) {
      const v = x[i];
      const s = 1 / (1 + Math.exp(-v));
      dx[i] = dy[i] * s * (1 + v * (1 - s));
    }
    return dx;
  },
};

/**
 * Floats per chunk that the `wasm-simd` SiLU streams through WebAssembly memory: two 64 KiB buffers (x, and
 * ∂y for the backward pass), small enough to stay in the L2 cache between the copy in, the kernel and the copy
 * out.
 *
 * @category Networks
 */
export const SILU_CHUNK = 16384;

/**
 * SiLU on the WebAssembly SIMD kernels of `wasm/silu-kernels.ts` over a fresh WebAssembly memory of three
 * 64 KiB pages, or `undefined` where the platform has no WebAssembly SIMD. Each call copies the input chunk by
 * chunk ({@link SILU_CHUNK} floats) into the memory, runs the kernel in place and copies the result out; a
 * chunk's length is rounded up to four floats, the extra lanes computing on stale (finite or not: lanes are
 * independent) data that is never read back. The memory never grows.
 *
 * Source: Elfwing, Uchibe & Doya 2018, eq. 3–4; S. L. Moshier, Cephes `expf.c`.
 *
 * @category Networks
 */
export const wasmSilu = (): SiluKernels | undefined => {
  const memory = new WebAssembly.Memory({ initial: Math.ceil(((2 * SILU_CHUNK + 4) * 4) / 65536) });
  const k = instantiateSiluKernels(memory);
  if (k === undefined) return undefined;
  /** Runs `step(at, nBytes)` over each chunk of `x` (and `dy`) copied to element offsets at[0] (and at[1]). */
  const chunked = (
    x: Float32Array,
    dy: Float32Array | undefined,
    step: (at: readonly number[], nBytes: number) => void,
  ): Float32Array => {
    const out = new Float32Array(x.length);
    const { at, f32 } = arena(memory, [SILU_CHUNK, SILU_CHUNK]);
    const [xa, da] = at;
    const result = dy === undefined ? xa : da;
    for (let i = 0; i < x.length; i += SILU_CHUNK) {
      const n = Math.min(SILU_CHUNK, x.length - i);
      f32.set(x.subarray(i, i + n), xa);
      if (dy !== undefined) f32.set(dy.subarray(i, i + n), da);
      step(at, roundUp(n, 4) * 4);
      out.set(f32.subarray(result, result + n), i);
    }
    return out;
  };
  return {
    implementation: "wasm-simd",
    forward: (x) => chunked(x, undefined, ([xa], nBytes) => k.siluForward(xa * 4, xa * 4, nBytes)),
    backward: (x, dy) => chunked(x, dy, ([xa, da], nBytes) => k.siluBackward(xa * 4, da * 4, da * 4, nBytes)),
  };
};

/** The process-wide SiLU kernels, chosen on first use. */
let selected: SiluKernels | undefined;

/**
 * The SiLU kernels every {@link silu} and {@link siluBackward} call uses: `wasm-simd` where the platform has
 * WebAssembly SIMD, else `typescript`. Chosen once per process; the `wasm-simd` memory (192 KiB) lives as long
 * as the process.
 *
 * @category Networks
 */
export const siluKernels = (): SiluKernels => {
  selected ??= wasmSilu() ?? typescriptSilu;
  return selected;
};

/**
 * SiLU y = x·σ(x) with σ(x) = 1/(1 + e^(−x)), element-wise, for a finite tensor of any shape (σ saturates to
 * 0 or 1 for large |x| without producing NaN).
 *
 * Source: Elfwing, Uchibe & Doya, "Sigmoid-Weighted Linear Units for Neural Network Function Approximation in
 * Reinforcement Learning", Neural Networks 107, 2018, eq. 3; Hendrycks & Gimpel, "Gaussian Error Linear Units",
 * 2016, §2 (SiLU); PyTorch `torch.nn.functional.silu`.
 *
 * @category Networks
 */
export const silu = (x: Tensor): E.Either<ScoreflowError, Tensor> =>
  E.map(() => ({ shape: [...x.shape], data: siluKernels().forward(x.data) }))(
    checkOperand(CONTEXT, "x", x, 1, Number.POSITIVE_INFINITY, "any shape"),
  );

/**
 * SiLU backward: ∂x = ∂y · d(x·σ(x))/dx = ∂y · σ(x)·(1 + x·(1 − σ(x))), using σ′ = σ·(1 − σ); ∂y must have
 * the shape of x.
 *
 * Source: Elfwing, Uchibe & Doya 2018, eq. 4.
 *
 * @category Networks
 */
export const siluBackward = (x: Tensor, dy: Tensor): E.Either<ScoreflowError, Tensor> => {
  const xs = checkOperand(CONTEXT, "x", x, 1, Number.POSITIVE_INFINITY, "any shape");
  if (E.isLeft(xs)) return xs;
  const dys = checkExactShape(CONTEXT, "dy", dy, x.shape, "the shape of x");
  if (E.isLeft(dys)) return dys;
  return E.right({ shape: [...x.shape], data: siluKernels().backward(x.data, dy.data) });
};
