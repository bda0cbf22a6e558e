/**
 * The micro-kernels on several threads, behind the same synchronous {@link MicroKernels} interface: a call's
 * row blocks are split into contiguous ranges, helpers run theirs over one shared memory while the calling
 * thread runs the first, and the call returns when all are done. Every output element is computed by exactly
 * one thread with the same instructions in the same order as on one thread, so results are bit-identical for
 * any number of threads.
 *
 * What is split: `panelProduct` and `rowDots` by their 4-row blocks (disjoint rows of C). `scatterAdd` stays on
 * the calling thread: its destination rows overlap (the adjoint of an offset read), so any split would race.
 * Calls too small to repay a wake-up (under {@link MIN_FLOPS_PER_THREAD} per thread) run on the calling thread.
 *
 * The helpers themselves are platform code (Node's `worker_threads`, see `createKernelThreads` in
 * `scoreflow/node`): the calling thread blocks while they work, which browsers forbid on their main thread.
 *
 * Source: the row-panel partition of a GEMM across cores (Smith, van de Geijn et al., "Anatomy of
 * High-Performance Many-Threaded Matrix Multiplication", IPDPS 2014, §4, the loop around the micro-kernel).
 *
 * @module
 */
import { instantiateMicroKernels, type MICRO_KERNEL_NAMES, type MicroKernels } from "./micro-kernels.js";

/**
 * A micro-kernel's name.
 *
 * @category Networks
 */
export type MicroKernelName = (typeof MICRO_KERNEL_NAMES)[number];

/**
 * Helper threads that run micro-kernel calls over one shared memory, started and awaited by the calling thread.
 *
 * @category Networks
 */
export interface KernelThreads {
  /** How many helpers there are (calls split up to `helpers + 1` ways: the calling thread works too). */
  readonly helpers: number;
  /** The shared memory every thread's instance of the micro-kernels runs over. */
  readonly memory: WebAssembly.Memory;
  /** Starts `kernel(...args)` on helper `h` (0 ≤ h < helpers) and returns at once. */
  readonly start: (h: number, kernel: MicroKernelName, args: readonly number[]) => void;
  /** Blocks until helper `h` has finished the call last started on it; false when that call failed (a trap). */
  readonly wait: (h: number) => boolean;
  /** Stops the helpers; the threads must not be used afterwards. */
  readonly dispose: () => Promise<void>;
}

/**
 * The work below which a call is not split: each thread must get at least this many flops (about 30 µs of
 * micro-kernel work at 30 GFLOP/s, some ten times a helper's wake-up).
 *
 * @category Networks
 */
export const MIN_FLOPS_PER_THREAD = 8e6;

/** Contiguous ranges [start, end) splitting `blocks` into `parts` near-equal pieces. */
const ranges = (blocks: number, parts: number): readonly (readonly [number, number])[] =>
  Array.from({ length: parts }, (_, p) => [
    Math.floor((p * blocks) / parts),
    Math.floor(((p + 1) * blocks) / parts),
  ]);

/**
 * The micro-kernels over `threads`' shared memory, splitting every `panelProduct` and `rowDots` that gives each
 * thread at least `minFlopsPerThread` flops across the helpers and the calling thread (see the module
 * documentation). `undefined` where the platform has no WebAssembly SIMD.
 *
 * @category Networks
 */
export const threadedMicroKernels = (
  threads: KernelThreads,
  minFlopsPerThread: number = MIN_FLOPS_PER_THREAD,
): MicroKernels | undefined => {
  const local = instantiateMicroKernels(threads.memory);
  if (local === undefined) return undefined;
  /**
   * Splits a call over `blocks` row blocks: `argsFor(from, count)` gives the call's arguments for blocks
   * [from, from + count); part 0 runs here, part p on helper p − 1.
   */
  const split = (
    kernel: "panelProduct" | "rowDots",
    blocks: number,
    flops: number,
    argsFor: (from: number, count: number) => readonly number[],
  ): void => {
    const parts = Math.max(
      1,
      Math.min(threads.helpers + 1, blocks, Math.floor(flops / Math.max(minFlopsPerThread, 1))),
    );
    const rs = ranges(blocks, parts);
    for (let p = 1; p < parts; p++) threads.start(p - 1, kernel, argsFor(rs[p][0], rs[p][1] - rs[p][0]));
    const mine = argsFor(rs[0][0], rs[0][1] - rs[0][0]);
    let trap: unknown;
    try {
      (local[kernel] as (...args: readonly number[]) => void)(...mine);
    } catch (e) {
      trap = e;
    }
    // every helper is waited for before anything is thrown: none may still write when the caller goes on
    const failed = rs.slice(1).flatMap((_, h) => (threads.wait(h) ? [] : [h]));
    if (trap !== undefined) throw trap;
    if (failed.length > 0) throw new Error(`kernel threads: helper ${failed.join(", ")} failed its call`);
  };
  return {
    memory: local.memory,
    // 4-row panel ib of A starts nk·16 bytes after panel ib − 1; C's block starts 4 rows further down.
    panelProduct: (aPack, bOffsets, nk, c, ldcBytes, mBlocks, nBytes) =>
      split("panelProduct", mBlocks, 8 * mBlocks * nk * (nBytes / 4), (from, count) => [
        aPack + from * nk * 16,
        bOffsets,
        nk,
        c + 4 * from * ldcBytes,
        ldcBytes,
        count,
        nBytes,
      ]),
    // Row block ib covers A's rows and C's rows 4·ib … 4·ib + 3.
    rowDots: (a, ldaBytes, bOffsets, nkPairs, c, ldcBytes, mBlocks, npBytes) =>
      split("rowDots", mBlocks, 16 * mBlocks * nkPairs * (npBytes / 4), (from, count) => [
        a + 4 * from * ldaBytes,
        ldaBytes,
        bOffsets,
        nkPairs,
        c + 4 * from * ldcBytes,
        ldcBytes,
        count,
        npBytes,
      ]),
    scatterAdd: local.scatterAdd,
  };
};

/**
 * The micro-kernels for a kernel set: split across `threads` when given, else on one thread over an own memory.
 * `undefined` where the platform has no WebAssembly SIMD.
 *
 * @category Networks
 */
export const microKernelsOn = (threads: KernelThreads | undefined): MicroKernels | undefined =>
  threads === undefined ? instantiateMicroKernels() : threadedMicroKernels(threads);

/**
 * A kernel set's reason with its thread count appended when calls split («…, on 2 threads»).
 *
 * @category Networks
 */
export const withThreads = (reason: string, threads: KernelThreads | undefined): string =>
  threads === undefined || threads.helpers === 0 ? reason : `${reason}, on ${threads.helpers + 1} threads`;
