/**
 * Throughput of the U-Net's non-conv ops on the CPU backends. Linear (compute-bound): GFLOP/s of forward and
 * backward per implementation (WebAssembly SIMD panel product; GPU.js on webasm and cpu) for the time-embedding
 * MLP and per-pixel projection shapes. Group norm, SiLU, residual add, nearest 2× upsampling and channel concat
 * (memory-bound, plain TypeScript loops): milliseconds and GB/s of the bytes each pass must read and write.
 * Run: `npx tsx bench/nets-ops.ts` (add `--quick` to skip the GPU.js rows above 1 MFLOP).
 *
 * @module
 */
import { GPU } from "gpu.js";
import { orThrow } from "../src/core/errors.js";
import { residualAdd } from "../src/nets/kernels/add.js";
import { concatChannels, concatChannelsBackward } from "../src/nets/kernels/concat.js";
import { groupNorm, groupNormBackward } from "../src/nets/kernels/group-norm.js";
import type { LinearKernels } from "../src/nets/kernels/linear.js";
import { gpujsLinear } from "../src/nets/kernels/linear-gpujs.js";
import { wasmLinear } from "../src/nets/kernels/linear-wasm.js";
import { silu, siluBackward, siluKernels } from "../src/nets/kernels/silu.js";
import { upsampleNearest2x, upsampleNearest2xBackward } from "../src/nets/kernels/upsample.js";
import { linearFlops, linearShape } from "../src/nets/linear-shape.js";
import { pad, rnd, time } from "./harness.js";

const quick = process.argv.includes("--quick");

// Linear: rows × in → out. Time embedding (diffusers TimestepEmbedding, 128 → 512, 512 → 512) at batch 8;
// a per-pixel projection at 16×16 (attention q/k/v, 256 rows per image, 64 → 64 and 128 → 128).
const linearShapes = [
  { rows: 8, inF: 128, outF: 512 },
  { rows: 8, inF: 512, outF: 512 },
  { rows: 8 * 256, inF: 64, outF: 64 },
  { rows: 8 * 256, inF: 128, outF: 128 },
];
const gpus = [new GPU({ mode: "webasm" }), new GPU({ mode: "cpu" })];
const impls: LinearKernels[] = [
  wasmLinear("bench")!,
  gpujsLinear(gpus[0], "gpujs-webasm", "bench"),
  gpujsLinear(gpus[1], "gpujs-cpu", "bench"),
];
console.log(
  `${"linear (rows × in → out)".padEnd(26)}${pad("impl", 14)}${pad("fwd ms", 10)}${pad("GFLOP/s", 9)}${pad("bwd ms", 10)}${pad("GFLOP/s", 9)}`,
);
for (const { rows, inF, outF } of linearShapes) {
  const x = rnd([rows, inF]);
  const w = rnd([outF, inF]);
  const b = rnd([outF]);
  const g = orThrow(linearShape(x, w, b));
  const dy = rnd([rows, outF]).data;
  const flops = linearFlops(g);
  for (const im of impls) {
    const slow = im.implementation !== "wasm-simd";
    if (slow && quick && flops > 1e6) continue;
    const reps = slow ? 3 : 21;
    const fwd = time(() => im.forward(g, x.data, w.data, b.data), reps);
    const bwd = time(() => im.backward(g, x.data, w.data, dy), reps);
    const gf = (f: number, ms: number): string => (f / ms / 1e6).toFixed(1);
    console.log(
      `${`${rows} × ${inF} → ${outF}`.padEnd(26)}${pad(im.implementation, 14)}` +
        `${pad(fwd.toFixed(3), 10)}${pad(gf(flops, fwd), 9)}${pad(bwd.toFixed(3), 10)}${pad(gf(2 * flops, bwd), 9)}`,
    );
  }
}
for (const im of impls) im.dispose();
await Promise.all(gpus.map((gpu) => gpu.destroy()));

// Memory-bound ops at a U-Net activation of 8 × 128 × 32 × 32 (1M floats, 4 MiB).
const shape = [8, 128, 32, 32];
const x = rnd(shape);
const other = rnd(shape);
const dy = rnd(shape);
const gamma = rnd([128]);
const beta = rnd([128]);
const small = rnd([8, 128, 16, 16]);
const elems = x.data.length;
const options = { groups: 32, eps: 1e-6 };
/** [name, bytes read + written (float32), the pass]. */
const passes: ReadonlyArray<readonly [string, number, () => unknown]> = [
  ["group norm forward", 2 * elems * 4, () => groupNorm(x, gamma, beta, options)],
  ["group norm backward", 3 * elems * 4, () => groupNormBackward(x, gamma, dy, options)],
  [`silu forward (${siluKernels().implementation})`, 2 * elems * 4, () => silu(x)],
  [`silu backward (${siluKernels().implementation})`, 3 * elems * 4, () => siluBackward(x, dy)],
  ["residual add", 3 * elems * 4, () => residualAdd(x, other)],
  ["upsample 2× forward (16²→32²)", (elems / 4 + elems) * 4, () => upsampleNearest2x(small)],
  ["upsample 2× backward", (elems + elems / 4) * 4, () => upsampleNearest2xBackward(dy)],
  ["concat [x, x] channels", 4 * elems * 4, () => concatChannels([x, other])],
  ["concat backward (split)", 4 * elems * 4, () => concatChannelsBackward(dy, [64, 64])],
];
console.log(
  `\n${"memory-bound op, 8×128×32×32 (incl. validation)".padEnd(48)}${pad("ms", 9)}${pad("GB/s", 8)}`,
);
for (const [name, bytes, pass] of passes) {
  const ms = time(pass, 11);
  console.log(`${name.padEnd(48)}${pad(ms.toFixed(2), 9)}${pad((bytes / ms / 1e6).toFixed(2), 8)}`);
}
