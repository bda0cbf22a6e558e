/**
 * Three WebAssembly SIMD micro-kernels (f32x4, single thread) that carry every conv2d pass: a register-blocked
 * matrix product whose B rows are addressed through an offset table, a blocked row-dot product through the same
 * table, and an offset scatter-add. All addresses are byte addresses in one imported linear memory.
 *
 * Why our own kernels rather than gpu.js `webasm`: gpu.js vectorizes four threads per f32x4 but loads every
 * lane-varying array read one lane at a time (four scalar loads and three lane inserts, see its `vGather`), so a
 * conv whose threads read different activations runs at ~0.8 GFLOP/s on this class of machine (measured:
 * 64→64 channels, 32×32, 3×3: 98 ms). Here each inner step loads two contiguous f32x4 rows of B, broadcasts four
 * A values (`v128.load32_splat`) and updates a 4×8 tile of accumulators held in registers, 64 flops per 16
 * vector arithmetic instructions.
 *
 * Source: the register-blocked GEMM micro-kernel of Goto & van de Geijn, "Anatomy of High-Performance Matrix
 * Multiplication", ACM TOMS 34(3), 2008, §4–5; the offset-table B rows are the implicit-im2col idea of Chetlur
 * et al., "cuDNN: Efficient Primitives for Deep Learning", 2014, §3.1.
 *
 * @module
 */
import { type Body, body, I32_LT_U, isSharedMemory, moduleVariants, wasmModule } from "./assembler.js";

/** `f32x4` accumulate step: `acc ← acc + x·y` for locals acc, x, y. */
const fma = (f: Body, acc: number, x: number, y: number): void => {
  f.get(acc).get(x).get(y).mulV().addV().set(acc);
};

/**
 * `panelProduct(aPack, bOffsets, nk, c, ldcBytes, mBlocks, nBytes)`:
 * C[4·ib + r, j] = Σₖ Apack[ib, k, r] · B(k)[j] for 0 ≤ ib < mBlocks, 0 ≤ r < 4, 0 ≤ j < nBytes/4,
 * where B(k) is the f32 row starting at byte address `bOffsets[k]` (i32 table of nk entries) and Apack stores
 * A in 4-row panels, `Apack[ib, k, r] = A[4·ib + r, k]`. nBytes is a positive multiple of 32, nk, mBlocks ≥ 1.
 */
const panelProduct = (): Body => {
  const f = body(7);
  const [aPack, bOffs, nk, c, ldc, mBlocks, nBytes] = [0, 1, 2, 3, 4, 5, 6];
  const j = f.local("i32");
  const pa = f.local("i32");
  const pb = f.local("i32");
  const pbEnd = f.local("i32");
  const cRow = f.local("i32");
  const ib = f.local("i32");
  const bo = f.local("i32");
  const t = f.local("i32");
  const acc = Array.from({ length: 8 }, () => f.local("v128"));
  const b0 = f.local("v128");
  const b1 = f.local("v128");
  const s = f.local("v128");
  f.i32(0).set(j);
  f.get(bOffs).get(nk).i32(4).mul().add().set(pbEnd);
  f.doWhile(
    () => {
      f.get(aPack).set(pa);
      f.get(c).get(j).add().set(cRow);
      f.i32(0).set(ib);
      f.doWhile(
        () => {
          for (const a of acc) f.zeroV().set(a);
          f.get(bOffs).set(pb);
          f.doWhile(
            () => {
              f.get(pb).loadI32().get(j).add().set(bo);
              f.get(bo).loadV(0).set(b0);
              f.get(bo).loadV(16).set(b1);
              for (let r = 0; r < 4; r++) {
                f.get(pa)
                  .splatLoad(4 * r)
                  .set(s);
                fma(f, acc[2 * r], s, b0);
                fma(f, acc[2 * r + 1], s, b1);
              }
              f.inc(pa, 16).inc(pb, 4);
            },
            () => f.get(pb).get(pbEnd).op(I32_LT_U),
          );
          f.get(cRow).set(t);
          for (let r = 0; r < 4; r++) {
            f.get(t)
              .get(acc[2 * r])
              .storeV(0);
            f.get(t)
              .get(acc[2 * r + 1])
              .storeV(16);
            f.get(t).get(ldc).add().set(t);
          }
          f.get(t).set(cRow);
          f.inc(ib, 1);
        },
        () => f.get(ib).get(mBlocks).op(I32_LT_U),
      );
      f.inc(j, 32);
    },
    () => f.get(j).get(nBytes).op(I32_LT_U),
  );
  return f;
};

/**
 * `rowDots(a, ldaBytes, bOffsets, nkPairs, c, ldcBytes, mBlocks, npBytes)`:
 * C[i, k] = Σₚ A[i, p] · B(k)[p] for 0 ≤ i < 4·mBlocks, 0 ≤ k < 2·nkPairs, 0 ≤ p < npBytes/4, with B(k) the
 * f32 row at byte address `bOffsets[k]`. A tile of 4 rows × 2 offsets keeps eight f32x4 partial sums; each sum
 * is reduced across lanes once at the end. npBytes is a positive multiple of 16.
 */
const rowDots = (): Body => {
  const f = body(8);
  const [a, lda, bOffs, nkPairs, c, ldc, mBlocks, np] = [0, 1, 2, 3, 4, 5, 6, 7];
  const ia = f.local("i32");
  const cRow = f.local("i32");
  const ib = f.local("i32");
  const pb = f.local("i32");
  const pbEnd = f.local("i32");
  const kc = f.local("i32");
  const p = f.local("i32");
  const q0 = f.local("i32");
  const q1 = f.local("i32");
  const ar = Array.from({ length: 4 }, () => f.local("i32"));
  const acc = Array.from({ length: 8 }, () => f.local("v128"));
  const vb0 = f.local("v128");
  const vb1 = f.local("v128");
  const va = f.local("v128");
  f.get(a).set(ia);
  f.get(c).set(cRow);
  f.i32(0).set(ib);
  f.get(bOffs).get(nkPairs).i32(8).mul().add().set(pbEnd);
  f.doWhile(
    () => {
      for (let r = 0; r < 4; r++) f.get(ia).get(lda).i32(r).mul().add().set(ar[r]);
      f.get(bOffs).set(pb);
      f.i32(0).set(kc);
      f.doWhile(
        () => {
          f.get(pb).loadI32(0).set(q0);
          f.get(pb).loadI32(4).set(q1);
          for (const x of acc) f.zeroV().set(x);
          f.i32(0).set(p);
          f.doWhile(
            () => {
              f.get(q0).get(p).add().loadV().set(vb0);
              f.get(q1).get(p).add().loadV().set(vb1);
              for (let r = 0; r < 4; r++) {
                f.get(ar[r]).get(p).add().loadV().set(va);
                fma(f, acc[2 * r], va, vb0);
                fma(f, acc[2 * r + 1], va, vb1);
              }
              f.inc(p, 16);
            },
            () => f.get(p).get(np).op(I32_LT_U),
          );
          for (let r = 0; r < 4; r++) {
            for (let k = 0; k < 2; k++) {
              const x = acc[2 * r + k];
              f.get(cRow).get(ldc).i32(r).mul().add().get(kc).add();
              f.get(x).lane(0).get(x).lane(1).addF().get(x).lane(2).get(x).lane(3).addF().addF();
              f.storeF32(4 * k);
            }
          }
          f.inc(pb, 8).inc(kc, 8);
        },
        () => f.get(pb).get(pbEnd).op(I32_LT_U),
      );
      f.get(ia).get(lda).i32(4).mul().add().set(ia);
      f.get(cRow).get(ldc).i32(4).mul().add().set(cRow);
      f.inc(ib, 1);
    },
    () => f.get(ib).get(mBlocks).op(I32_LT_U),
  );
  return f;
};

/**
 * `scatterAdd(src, ldsBytes, dstOffsets, nk, nBytes)`: D(k)[q] ← D(k)[q] + S[k, q] for 0 ≤ k < nk in order,
 * 0 ≤ q < nBytes/4, with D(k) the f32 row at byte address `dstOffsets[k]` (rows may overlap: the adjoint of the
 * offset-table read). nBytes is a positive multiple of 16.
 */
const scatterAdd = (): Body => {
  const f = body(5);
  const [src, lds, dOffs, nk, nBytes] = [0, 1, 2, 3, 4];
  const pd = f.local("i32");
  const pdEnd = f.local("i32");
  const row = f.local("i32");
  const dst = f.local("i32");
  const q = f.local("i32");
  f.get(dOffs).set(pd);
  f.get(dOffs).get(nk).i32(4).mul().add().set(pdEnd);
  f.get(src).set(row);
  f.doWhile(
    () => {
      f.get(pd).loadI32().set(dst);
      f.i32(0).set(q);
      f.doWhile(
        () => {
          f.get(dst).get(q).add();
          f.get(dst).get(q).add().loadV();
          f.get(row).get(q).add().loadV();
          f.addV().storeV();
          f.inc(q, 16);
        },
        () => f.get(q).get(nBytes).op(I32_LT_U),
      );
      f.get(row).get(lds).add().set(row);
      f.inc(pd, 4);
    },
    () => f.get(pd).get(pdEnd).op(I32_LT_U),
  );
  return f;
};

/**
 * The instantiated micro-kernels over one growable linear memory.
 *
 * @category Networks
 */
export interface MicroKernels {
  /** The linear memory every address refers to; grow it with `memory.grow` before a larger call. */
  readonly memory: WebAssembly.Memory;
  /** See the module documentation: the 4×8 register-blocked panel product C = A·B(k). */
  readonly panelProduct: (
    aPack: number,
    bOffsets: number,
    nk: number,
    c: number,
    ldcBytes: number,
    mBlocks: number,
    nBytes: number,
  ) => void;
  /** The 4×2 blocked row-dot product C[i, k] = Σₚ A[i, p]·B(k)[p]. */
  readonly rowDots: (
    a: number,
    ldaBytes: number,
    bOffsets: number,
    nkPairs: number,
    c: number,
    ldcBytes: number,
    mBlocks: number,
    npBytes: number,
  ) => void;
  /** The offset scatter-add D(k) += S[k, ·], the adjoint of reading through an offset table. */
  readonly scatterAdd: (
    src: number,
    ldsBytes: number,
    dstOffsets: number,
    nk: number,
    nBytes: number,
  ) => void;
}

/**
 * A micro-kernel's name.
 *
 * @category Networks
 */
export type MicroKernelName = "panelProduct" | "rowDots" | "scatterAdd";

/** The micro-kernels' names, in the order their calls are numbered between threads. */
export const MICRO_KERNEL_NAMES: readonly MicroKernelName[] = ["panelProduct", "rowDots", "scatterAdd"];

/**
 * The micro-kernels' WebAssembly module: over an own memory, or (`shared`) over an imported shared memory, as
 * threads need.
 *
 * @category Networks
 */
export const microKernelsModule = moduleVariants((sharedMaxPages) =>
  wasmModule(
    [
      { name: "panelProduct", arity: 7, body: panelProduct() },
      { name: "rowDots", arity: 8, body: rowDots() },
      { name: "scatterAdd", arity: 5, body: scatterAdd() },
    ],
    1,
    sharedMaxPages,
  ),
);

/**
 * Compiles and instantiates the micro-kernels over a fresh memory, or over `memory` when given (a shared memory
 * (of at most `SHARED_MAX_PAGES` pages) which other threads run the same module over). Requires WebAssembly
 * fixed-width SIMD (Node ≥ 16.4, every evergreen browser); returns `undefined` where the platform rejects the
 * module.
 *
 * @category Networks
 */
export const instantiateMicroKernels = (memory?: WebAssembly.Memory): MicroKernels | undefined => {
  const bytes = microKernelsModule(memory !== undefined && isSharedMemory(memory));
  if (!WebAssembly.validate(bytes)) return undefined;
  const own = memory ?? new WebAssembly.Memory({ initial: 1 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: own } });
  const ex = instance.exports as unknown as Omit<MicroKernels, "memory">;
  return { memory: own, panelProduct: ex.panelProduct, rowDots: ex.rowDots, scatterAdd: ex.scatterAdd };
};
