/**
 * What the network benchmarks share: the machine's native peak they compare with, a median timer, random
 * operands and column padding.
 *
 * @module
 */
import type { Tensor } from "../src/core/tensor.js";

/** GFLOP/s a native conv reaches on the project's 2-core machine (both cores; our kernels use one). */
export const NATIVE_GFLOPS = 200;

/** Median wall time in ms of `f` over `reps` runs after one warm-up. */
export const time = (f: () => void, reps: number): number => {
  f();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
};

/** The median of a non-empty list (the upper one of the middle two for an even count). */
export const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A float32 tensor of the given shape with entries uniform on [−½, ½) (Math.random: not seeded). */
export const rnd = (shape: readonly number[]): Tensor => ({
  shape: [...shape],
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() - 0.5),
});

/** `v` right-aligned in `w` columns. */
export const pad = (v: string | number, w: number): string => String(v).padStart(w);
