/**
 * Scratch memory for the micro-kernels: a bump allocator over a linear memory that grows in 64 KiB pages.
 *
 * @module
 */

/**
 * Linear memory addressed by byte offsets: a `WebAssembly.Memory`, or any growable buffer with the same two
 * members (the scalar fallbacks use one).
 *
 * @category Networks
 */
export interface LinearMemory {
  /** The current buffer (replaced when the memory grows). */
  readonly buffer: ArrayBufferLike;
  /** Grows by `pages` 64 KiB pages; returns the previous size in pages. */
  readonly grow: (pages: number) => number;
}

/**
 * Rounds `n` up to a multiple of `m`.
 *
 * @category Networks
 */
export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Places buffers of the given sizes (in 4-byte elements) one after another, each 16-byte aligned, above a
 * 16-byte guard, growing the memory when it is too small; returns each buffer's element offset and fresh float
 * and integer views (views must be re-taken after any growth).
 *
 * @category Networks
 */
export const arena = (
  memory: LinearMemory,
  sizes: readonly number[],
): { readonly at: number[]; readonly f32: Float32Array; readonly i32: Int32Array } => {
  const at: number[] = [];
  let top = 4;
  for (const n of sizes) {
    at.push(top);
    top += roundUp(n, 4);
  }
  const need = top * 4 - memory.buffer.byteLength;
  if (need > 0) memory.grow(Math.ceil(need / 65536));
  return { at, f32: new Float32Array(memory.buffer), i32: new Int32Array(memory.buffer) };
};
