/**
 * Two WebAssembly SIMD row kernels for attention (f32x4, single thread) over a linear memory shared with the
 * matrix micro-kernels of `micro-kernels.ts`: the row-wise softmax of a score matrix, in place, and its adjoint.
 * They replace scalar loops whose `Math.exp` (one call per score, N·heads·T² of them) dominated the attention
 * op: 64% of its time for 8 heads over 256 tokens.
 *
 * The exponential on four lanes is Cephes' `expf`, emitted by `expf.ts`: relative error about 1e-7, i.e.
 * float32 rounding. Arguments below ln 2⁻¹²⁶ ≈ −87.34, where eˣ is smaller than the least normal float32, give
 * exactly 0; so does −∞, which the caller writes into padding columns. Row sums and row dot products accumulate in float64 (f64x2). Loops
 * step by two vectors with two accumulators, so that no loop-carried addition or maximum waits on the previous
 * one.
 *
 * Source: S. L. Moshier, Cephes Math Library, `expf.c` (reduction constants and polynomial); W. J. Cody and
 * W. Waite, "Software Manual for the Elementary Functions", 1980, ch. 6 (the two-constant reduction); the
 * softmax adjoint ∂S = P ⊙ (∂P − rowsum(P ⊙ ∂P)) of `kernels/attention.ts`.
 *
 * @module
 */
import { type Body, body, I32_LT_U, isSharedMemory, moduleVariants, wasmModule } from "./assembler.js";
import { expV } from "./expf.js";

/** Byte lanes 8–15 twice: the upper two f32 lanes moved down, for `f64x2.promote_low_f32x4`. */
const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/** Leaves [v₀ + v₂, v₁ + v₃] in float64 (f64x2) on the stack for the f32x4 local `v`. */
const pairSums64 = (f: Body, v: number): void => {
  f.get(v).promoteLowV().get(v).get(v).shuffle(HIGH).promoteLowV().addV64();
};

/** `for (j = 0; j < nBytes; j += step) inner()` for i32 locals j and nBytes (nBytes ≥ step). */
const columns = (f: Body, j: number, nBytes: number, step: number, inner: () => void): void => {
  f.i32(0).set(j);
  f.doWhile(
    () => {
      inner();
      f.inc(j, step);
    },
    () => f.get(j).get(nBytes).op(I32_LT_U),
  );
};

/**
 * `softmaxRows(p, rows, nBytes)`: for each of `rows` rows of nBytes/4 floats starting at byte address
 * p + i·nBytes, in place, P[j] = exp(S[j] − maxₖ S[k]) / Σₖ exp(S[k] − maxₖ S[k]) (sum in float64, scaled by the
 * float32 reciprocal). Entries are finite or −∞ (→ 0), at least one finite per row; rows ≥ 1; nBytes a positive
 * multiple of 32.
 */
const softmaxRows = (): Body => {
  const f = body(3);
  const [p, rows, nBytes] = [0, 1, 2];
  const row = f.local("i32");
  const end = f.local("i32");
  const j = f.local("i32");
  const at = f.local("i32");
  const [x, e, m0, m1, sum0, sum1, r, t, n, mask] = Array.from({ length: 10 }, () => f.local("v128"));
  const m = [m0, m1];
  const sum = [sum0, sum1];
  f.get(p).set(row);
  f.get(p).get(rows).get(nBytes).mul().add().set(end);
  f.doWhile(
    () => {
      for (const mk of m) f.constV(Number.NEGATIVE_INFINITY).set(mk);
      columns(f, j, nBytes, 32, () => {
        f.get(row).get(j).add().set(at);
        for (const [k, mk] of m.entries())
          f.get(mk)
            .get(at)
            .loadV(16 * k)
            .pmaxV()
            .set(mk);
      });
      f.get(m0).get(m1).pmaxV().set(m0);
      f.get(m0).lane(0).get(m0).lane(1).maxF().get(m0).lane(2).get(m0).lane(3).maxF().maxF().splatV().set(m0);
      for (const sk of sum) f.zeroV().set(sk);
      columns(f, j, nBytes, 32, () => {
        f.get(row).get(j).add().set(at);
        for (const [k, sk] of sum.entries()) {
          f.get(at)
            .loadV(16 * k)
            .get(m0)
            .subV()
            .set(x);
          f.get(at);
          expV(f, x, { r, t, n, mask });
          f.set(e)
            .get(e)
            .storeV(16 * k);
          f.get(sk);
          pairSums64(f, e);
          f.addV64().set(sk);
        }
      });
      f.f64(1).get(sum0).get(sum1).addV64().set(sum0);
      f.get(sum0).lane64(0).get(sum0).lane64(1).addF64().divF64().demote().splatV().set(m0);
      columns(f, j, nBytes, 16, () =>
        f.get(row).get(j).add().set(at).get(at).get(at).loadV().get(m0).mulV().storeV(),
      );
      f.get(row).get(nBytes).add().set(row);
    },
    () => f.get(row).get(end).op(I32_LT_U),
  );
  return f;
};

/**
 * `softmaxBackward(p, ds, rows, nBytes)`: for each of `rows` rows of nBytes/4 floats (P at byte address
 * p + i·nBytes, ∂P at ds + i·nBytes), ∂S[j] = P[j]·(∂P[j] − Σₖ P[k]·∂P[k]) written over ∂P (the products and
 * the dot product in float64). Rows ≥ 1; nBytes a positive multiple of 32.
 */
const softmaxBackward = (): Body => {
  const f = body(4);
  const [p, ds, rows, nBytes] = [0, 1, 2, 3];
  const pr = f.local("i32");
  const dr = f.local("i32");
  const end = f.local("i32");
  const j = f.local("i32");
  const [vp, vd, acc0, acc1, dot] = Array.from({ length: 5 }, () => f.local("v128"));
  const acc = [acc0, acc1];
  f.get(p).set(pr);
  f.get(ds).set(dr);
  f.get(p).get(rows).get(nBytes).mul().add().set(end);
  f.doWhile(
    () => {
      for (const a of acc) f.zeroV().set(a);
      columns(f, j, nBytes, 32, () => {
        for (const [k, a] of acc.entries()) {
          f.get(pr)
            .get(j)
            .add()
            .loadV(16 * k)
            .set(vp);
          f.get(dr)
            .get(j)
            .add()
            .loadV(16 * k)
            .set(vd);
          f.get(a).get(vp).promoteLowV().get(vd).promoteLowV().mulV64();
          f.get(vp).get(vp).shuffle(HIGH).promoteLowV().get(vd).get(vd).shuffle(HIGH).promoteLowV().mulV64();
          f.addV64().addV64().set(a);
        }
      });
      f.get(acc0).get(acc1).addV64().set(acc0);
      f.get(acc0).lane64(0).get(acc0).lane64(1).addF64().demote().splatV().set(dot);
      columns(f, j, nBytes, 16, () => {
        f.get(dr).get(j).add();
        f.get(pr).get(j).add().loadV().get(dr).get(j).add().loadV().get(dot).subV().mulV().storeV();
      });
      f.get(pr).get(nBytes).add().set(pr);
      f.get(dr).get(nBytes).add().set(dr);
    },
    () => f.get(pr).get(end).op(I32_LT_U),
  );
  return f;
};

/**
 * The instantiated softmax row kernels; every address is a byte address in the memory they were given.
 *
 * @category Networks
 */
export interface SoftmaxKernels {
  /** Row-wise softmax in place, −∞ entries (padding) → 0; see the module documentation. */
  readonly softmaxRows: (p: number, rows: number, nBytes: number) => void;
  /** The softmax adjoint ∂S = P ⊙ (∂P − rowsum(P ⊙ ∂P)), written over ∂P. */
  readonly softmaxBackward: (p: number, ds: number, rows: number, nBytes: number) => void;
}

/** The module bytes, built once per process (pure data). */
/** The module, over an own or a shared memory. */
const softmaxModule = moduleVariants((sharedMaxPages) =>
  wasmModule(
    [
      { name: "softmaxRows", arity: 3, body: softmaxRows() },
      { name: "softmaxBackward", arity: 4, body: softmaxBackward() },
    ],
    1,
    sharedMaxPages,
  ),
);

/**
 * Compiles and instantiates the softmax kernels over `memory` (shared with the matrix micro-kernels, and with
 * their helper threads when it is a shared memory). Requires WebAssembly fixed-width SIMD; returns `undefined`
 * where the platform rejects the module.
 *
 * @category Networks
 */
export const instantiateSoftmaxKernels = (memory: WebAssembly.Memory): SoftmaxKernels | undefined => {
  const bytes = softmaxModule(isSharedMemory(memory));
  if (!WebAssembly.validate(bytes)) return undefined;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return instance.exports as unknown as SoftmaxKernels;
};
