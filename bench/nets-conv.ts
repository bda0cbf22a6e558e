/**
 * conv2d throughput on the CPU backends: GFLOP/s of forward and backward for the U-Net's conv shapes, per
 * implementation (our WebAssembly SIMD micro-kernels on webasm, GPU.js kernels on webasm and cpu), with the
 * share of the ~200 GFLOP/s a native conv reaches on the same 2-core machine.
 * Run: `npx tsx bench/nets-conv.ts` (add `--quick` to skip the slow GPU.js rows at batch 8).
 *
 * @module
 */
import { GPU } from "gpu.js";
import { orThrow } from "../src/core/errors.js";
import { type Conv2dKernels, conv2dFlops, conv2dShape, gpujsConv2d, wasmConv2d } from "../src/nets/index.js";
import { NATIVE_GFLOPS, pad, rnd, time } from "./harness.js";

const quick = process.argv.includes("--quick");

const shapes = [
  { n: 1, c: 32, hw: 32, k: 3, s: 1 },
  { n: 8, c: 32, hw: 32, k: 3, s: 1 },
  { n: 1, c: 64, hw: 32, k: 3, s: 1 },
  { n: 8, c: 64, hw: 32, k: 3, s: 1 },
  { n: 8, c: 64, hw: 16, k: 3, s: 1 },
  { n: 8, c: 64, hw: 32, k: 3, s: 2 },
  { n: 8, c: 64, hw: 32, k: 1, s: 1 },
];

const gpus = [new GPU({ mode: "webasm" }), new GPU({ mode: "cpu" })];
const impls: Conv2dKernels[] = [
  wasmConv2d("bench")!,
  gpujsConv2d(gpus[0], "gpujs-webasm", "bench"),
  gpujsConv2d(gpus[1], "gpujs-cpu", "bench"),
];

console.log(
  `${"shape (N×C×H×W, k, s)".padEnd(26)}${pad("impl", 14)}${pad("fwd ms", 10)}${pad("GFLOP/s", 9)}${pad("%native", 9)}${pad("bwd ms", 10)}${pad("GFLOP/s", 9)}${pad("%native", 9)}`,
);
for (const { n, c, hw, k, s } of shapes) {
  const x = rnd([n, c, hw, hw]);
  const w = rnd([c, c, k, k]);
  const b = rnd([c]);
  const g = orThrow(conv2dShape(x, w, b, { stride: s, padding: (k - 1) / 2 }));
  const dy = rnd([g.n, g.cout, g.hout, g.wout]).data;
  const flops = conv2dFlops(g);
  for (const im of impls) {
    const slow = im.implementation !== "wasm-simd";
    if (slow && quick && n > 1) continue;
    const reps = slow ? 3 : 15;
    const fwd = time(() => im.forward(g, x.data, w.data, b.data), reps);
    const bwd = time(() => im.backward(g, x.data, w.data, dy), reps);
    const gf = (f: number, ms: number): number => f / ms / 1e6;
    console.log(
      `${`${n}×${c}×${hw}×${hw}, ${k}×${k}, s${s}`.padEnd(26)}${pad(im.implementation, 14)}` +
        `${pad(fwd.toFixed(2), 10)}${pad(gf(flops, fwd).toFixed(1), 9)}${pad(((100 * gf(flops, fwd)) / NATIVE_GFLOPS).toFixed(1), 9)}` +
        `${pad(bwd.toFixed(2), 10)}${pad(gf(2 * flops, bwd).toFixed(1), 9)}${pad(((100 * gf(2 * flops, bwd)) / NATIVE_GFLOPS).toFixed(1), 9)}`,
    );
  }
}
for (const im of impls) im.dispose();
await Promise.all(gpus.map((gpu) => gpu.destroy()));
