/**
 * The webasm kernels on one thread and split across every core (`createKernelThreads`, src/node/kernel-threads.ts):
 * a 3×3 conv layer, a linear layer and the issue's U-Net ([32, 64], 1×32×32), forward and forward+backward, with
 * ms (median), GFLOP/s and the speed-up. The split passes give one thread's bits (checked here once more, and in
 * test/unit/nets-threads.test.ts).
 * Run: `npx tsx bench/nets-threads.ts` (add `--quick` for fewer repetitions).
 *
 * @module
 */
import { availableParallelism } from "node:os";
import { orThrow } from "../src/core/errors.js";
import { rngKey } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { createBackend } from "../src/nets/backend.js";
import { conv2dFlops, conv2dShape } from "../src/nets/conv2d-shape.js";
import { wasmConv2d } from "../src/nets/kernels/conv2d-wasm.js";
import { wasmLinear } from "../src/nets/kernels/linear-wasm.js";
import { linearFlops, linearShape } from "../src/nets/linear-shape.js";
import { forwardNetwork, initParameters, networkGradients } from "../src/nets/network.js";
import { netKernels } from "../src/nets/tape.js";
import type { KernelThreads } from "../src/nets/wasm/threads.js";
import { createKernelThreads } from "../src/node/kernel-threads.js";
import { ISSUE_UNET_FORWARD_GFLOP, issueUnet, NATIVE_GFLOPS, pad, rnd, time } from "./harness.js";

const quick = process.argv.includes("--quick");
const cores = availableParallelism();
const threads = orThrow(createKernelThreads(cores - 1));

/** One row: a pass timed on one thread and on all, with its FLOPs (0: not counted). */
const row = (label: string, flops: number, one: () => unknown, all: () => unknown, reps: number): void => {
  const [a, b] = [time(() => void one(), reps), time(() => void all(), reps)];
  const gf = (ms: number) => (flops > 0 ? (flops / ms / 1e6).toFixed(1) : "—");
  console.log(
    `${label.padEnd(34)}${pad(a.toFixed(2), 10)}${pad(gf(a), 9)}${pad(b.toFixed(2), 10)}${pad(gf(b), 9)}${pad(`${(a / b).toFixed(2)}×`, 9)}`,
  );
};

const sameBits = (a: Float32Array, b: Float32Array): boolean => a.every((v, i) => Object.is(v, b[i]));

console.log(
  `webasm kernels: 1 thread vs ${cores} (${cores - 1} helper${cores > 2 ? "s" : ""} + the caller); native peak ~${NATIVE_GFLOPS} GFLOP/s on both cores.\n`,
);
console.log(
  `${"pass".padEnd(34)}${pad("1: ms", 10)}${pad("GFLOP/s", 9)}${pad(`${cores}: ms`, 10)}${pad("GFLOP/s", 9)}${pad("speed-up", 9)}`,
);

// A 3×3 conv, 64 → 64 channels at 32×32, batch 8, and a linear layer of 2000 rows, 128 → 128 (the playground's
// MLP at its particle count).
const convs = { one: wasmConv2d("one")!, all: wasmConv2d("all", threads)! };
const x = rnd([8, 64, 32, 32]);
const w = rnd([64, 64, 3, 3]);
const g = orThrow(conv2dShape(x, w, undefined, { stride: 1, padding: 1 }));
const y = convs.one.forward(g, x.data, w.data, undefined);
if (!sameBits(convs.all.forward(g, x.data, w.data, undefined), y))
  throw new Error("conv: split ≠ one thread");
const r = quick ? 5 : 15;
row(
  "conv 8×64×32×32 → 64, forward",
  conv2dFlops(g),
  () => convs.one.forward(g, x.data, w.data, undefined),
  () => convs.all.forward(g, x.data, w.data, undefined),
  r,
);
row(
  "conv 8×64×32×32 → 64, backward",
  2 * conv2dFlops(g),
  () => convs.one.backward(g, x.data, w.data, y),
  () => convs.all.backward(g, x.data, w.data, y),
  r,
);
const linears = { one: wasmLinear("one")!, all: wasmLinear("all", threads)! };
const lx = rnd([2000, 128]);
const lw = rnd([128, 128]);
const lg = orThrow(linearShape(lx, lw, undefined));
const ly = linears.one.forward(lg, lx.data, lw.data, undefined);
row(
  "linear 2000×128 → 128, forward",
  linearFlops(lg),
  () => linears.one.forward(lg, lx.data, lw.data, undefined),
  () => linears.all.forward(lg, lx.data, lw.data, undefined),
  4 * r,
);
row(
  "linear 2000×128 → 128, backward",
  2 * linearFlops(lg),
  () => linears.one.backward(lg, lx.data, lw.data, ly),
  () => linears.all.backward(lg, lx.data, lw.data, ly),
  4 * r,
);

// The issue's U-Net: whole passes (FLOPs as counted by bench/nets-unet.ts: 0.579 GFLOP per image forward).
const network = issueUnet();
const parameters = initParameters(network, orThrow(rngKey(0)));
const backend = orThrow(await createBackend("webasm"));
const kernelsOn = (t?: KernelThreads) => orThrow(netKernels(backend, t));
const [one, all] = [kernelsOn(), kernelsOn(threads)];
for (const n of [8, 64]) {
  const ux: Tensor = rnd([n, 1, 32, 32]);
  const t = Array.from({ length: n }, (_, i) => (997 * (i + 1)) % 1000);
  const u = rnd([n, 1, 32, 32]).data;
  const loss = (out: Tensor) => ({ loss: out.data.reduce((s, v, i) => s + v * u[i], 0), dOutput: u });
  const reps = n === 64 ? (quick ? 1 : 3) : quick ? 3 : 9;
  row(
    `U-Net batch ${n}, forward`,
    n * ISSUE_UNET_FORWARD_GFLOP * 1e9,
    () => forwardNetwork(one, network, parameters, ux, t),
    () => forwardNetwork(all, network, parameters, ux, t),
    reps,
  );
  row(
    `U-Net batch ${n}, fwd+bwd`,
    0,
    () => networkGradients(one, network, parameters, ux, t, loss),
    () => networkGradients(all, network, parameters, ux, t, loss),
    reps,
  );
}
await threads.dispose();
