/**
 * UNet2DModel forward and forward+backward on the CPU (webasm backend: the WebAssembly SIMD kernels), for the
 * issue's config: block_out_channels [32, 64], layers_per_block 1, attention at the lower resolution
 * (AttnDownBlock2D / AttnUpBlock2D there, and the mid block's), 1 channel, 32×32, norm_num_groups 8,
 * attention_head_dim 8 (8 heads over 16×16 = 256 tokens). Prints ms (median), images/s and GFLOP/s at batch 1, 8
 * and 64, the share of each op kind in a pass, and per-layer figures of the conv layers, against the ~200 GFLOP/s
 * a native conv reaches on the same 2-core machine.
 *
 * FLOPs are counted, not derived by hand: the network runs on counting kernels, which wrap the real conv2d,
 * linear and attention kernels, add `conv2dFlops` / `linearFlops` / `attentionFlops` of each call's validated
 * geometry (twice that for a backward call) and time it. So the count walks exactly the layers the forward pass
 * runs, and nothing of the U-Net's structure is repeated here. Not counted: group norm, SiLU, adds, concat and
 * upsampling (memory-bound, O(activations)), and the forward that attention's backward recomputes.
 * Run: `npx tsx bench/nets-unet.ts` (add `--quick` for fewer repetitions).
 *
 * @module
 */
import { orThrow } from "../src/core/errors.js";
import { rngKey } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { attentionFlops } from "../src/nets/attention-shape.js";
import { createBackend, disposeBackend } from "../src/nets/backend.js";
import { type Conv2dShape, conv2dFlops } from "../src/nets/conv2d-shape.js";
import { linearFlops } from "../src/nets/linear-shape.js";
import { forwardNetwork, initParameters, networkGradients } from "../src/nets/network.js";
import { disposeNetKernels, type NetKernels, netKernels } from "../src/nets/tape.js";
import { issueUnet, median, NATIVE_GFLOPS, pad, rnd } from "./harness.js";

const quick = process.argv.includes("--quick");

const network = issueUnet();
const parameters = initParameters(network, orThrow(rngKey(0)));

/** One kernel call seen by the counting kernels. */
interface Call {
  /** The op. */
  readonly op: "conv2d" | "linear" | "attention";
  /** Forward or backward kernel. */
  readonly backward: boolean;
  /** The layer's geometry, for grouping. */
  readonly label: string;
  /** Useful FLOPs of the call. */
  readonly flops: number;
  /** Wall time, ms. */
  readonly ms: number;
}

const convLabel = (g: Conv2dShape): string =>
  `${g.n}×${g.cin}×${g.h}×${g.w} → ${g.cout}, ${g.kh}×${g.kw}, s${g.stride}`;

/** The real kernels, wrapped so that every call is appended to `calls` with its FLOPs and wall time. */
const counting = (inner: NetKernels, calls: Call[]): NetKernels => {
  const timed = <A>(op: Call["op"], backward: boolean, label: string, flops: number, run: () => A): A => {
    const t0 = performance.now();
    const result = run();
    calls.push({ op, backward, label, flops, ms: performance.now() - t0 });
    return result;
  };
  const { conv2d, linear, attention } = inner;
  return {
    conv2d: {
      ...conv2d,
      forward: (g, x, w, b) =>
        timed("conv2d", false, convLabel(g), conv2dFlops(g), () => conv2d.forward(g, x, w, b)),
      backward: (g, x, w, dy) =>
        timed("conv2d", true, convLabel(g), 2 * conv2dFlops(g), () => conv2d.backward(g, x, w, dy)),
    },
    linear: {
      ...linear,
      forward: (g, x, w, b) => timed("linear", false, "", linearFlops(g), () => linear.forward(g, x, w, b)),
      backward: (g, x, w, dy) =>
        timed("linear", true, "", 2 * linearFlops(g), () => linear.backward(g, x, w, dy)),
    },
    attention: {
      ...attention,
      forward: (g, x, w) =>
        timed("attention", false, "", attentionFlops(g), () => attention.forward(g, x, w)),
      backward: (g, x, w, dz) =>
        timed("attention", true, "", 2 * attentionFlops(g), () => attention.backward(g, x, w, dz)),
    },
  };
};

const backend = orThrow(await createBackend("webasm"));
const kernels = orThrow(netKernels(backend));
const calls: Call[] = [];
const counted = counting(kernels, calls);

const input = (n: number): { readonly x: Tensor; readonly t: Float64Array } => ({
  x: rnd([n, 1, 32, 32]),
  t: Float64Array.from({ length: n }, (_, i) => (997 * (i + 1)) % 1000),
});
/** A fixed output gradient: L = Σ y·u with u uniform, so ∂L/∂y = u. */
const loss = (u: Float32Array) => (y: Tensor) => ({
  loss: y.data.reduce((s, v, i) => s + v * u[i], 0),
  dOutput: u,
});
const forward = (x: Tensor, t: Float64Array) => () =>
  void orThrow(forwardNetwork(counted, network, parameters, x, t));
const training = (x: Tensor, t: Float64Array, u: Float32Array) => () =>
  void orThrow(networkGradients(counted, network, parameters, x, t, loss(u)));

const sum = (xs: readonly Call[], f: (c: Call) => number): number => xs.reduce((s, c) => s + f(c), 0);
const gf = (flops: number, ms: number): number => flops / ms / 1e6;

const batches = [1, 8, 64];
const reps = (n: number): number => (n === 64 ? (quick ? 1 : 3) : quick ? 5 : 15);
console.log(
  `UNet2DModel [32, 64], 1 layer/block, attention at 16×16 (8 heads of 8), 1×32×32, norm_num_groups 8; ` +
    `${network.parameters.length} tensors, ${[...parameters.values()].reduce((s, p) => s + p.data.length, 0)} parameters.` +
    ` ${kernels.conv2d.implementation} kernels, one thread; native peak ~${NATIVE_GFLOPS} GFLOP/s (2 cores).\n`,
);
console.log(
  `${"batch".padEnd(6)}${pad("pass", 9)}${pad("GFLOP", 9)}${pad("ms", 10)}${pad("img/s", 9)}${pad("GFLOP/s", 9)}` +
    `${pad("%native", 9)}${pad("conv", 7)}${pad("attn", 7)}${pad("linear", 7)}${pad("other", 7)}`,
);
const layerCalls: Call[] = [];
for (const n of batches) {
  const { x, t } = input(n);
  const u = rnd([n, 1, 32, 32]).data;
  for (const [name, run] of [
    ["forward", forward(x, t)],
    ["fwd+bwd", training(x, t, u)],
  ] as const) {
    // One warm-up pass, then `r` timed passes; every kernel call of those is in `calls`.
    const r = reps(n);
    run();
    calls.length = 0;
    const walls: number[] = [];
    for (let i = 0; i < r; i++) {
      const t0 = performance.now();
      run();
      walls.push(performance.now() - t0);
    }
    const ms = median(walls);
    const flops = sum(calls, (c) => c.flops) / r;
    const wall = walls.reduce((a, b) => a + b, 0);
    const share = (op: Call["op"]) => sum(calls, (c) => (c.op === op ? c.ms : 0)) / wall;
    const other = 1 - share("conv2d") - share("attention") - share("linear");
    const pct = (f: number) => pad(`${(100 * f).toFixed(0)}%`, 7);
    console.log(
      `${String(n).padEnd(6)}${pad(name, 9)}${pad((flops / 1e9).toFixed(3), 9)}${pad(ms.toFixed(1), 10)}` +
        `${pad(((1000 * n) / ms).toFixed(1), 9)}${pad(gf(flops, ms).toFixed(1), 9)}` +
        `${pad(((100 * gf(flops, ms)) / NATIVE_GFLOPS).toFixed(1), 9)}` +
        `${pct(share("conv2d"))}${pct(share("attention"))}${pct(share("linear"))}${pct(other)}`,
    );
    if (n === 8 && name === "fwd+bwd") layerCalls.push(...calls);
  }
}

// Per-layer conv figures at batch 8, timed inside the fwd+bwd passes above (median per call).
const reps8 = reps(8);
const labels = [...new Set(layerCalls.filter((c) => c.op === "conv2d").map((c) => c.label))];
console.log(
  `\n${"conv layers at batch 8 (N×Cin×H×W → Cout)".padEnd(40)}${pad("/pass", 6)}${pad("fwd ms", 9)}${pad("GFLOP/s", 9)}` +
    `${pad("bwd ms", 9)}${pad("GFLOP/s", 9)}`,
);
/** Median ms per call and its GFLOP/s, for calls of one layer and direction. */
const cell = (cs: readonly Call[]): string => {
  const ms = median(cs.map((c) => c.ms));
  return `${pad(ms.toFixed(2), 9)}${pad(gf(cs[0].flops, ms).toFixed(1), 9)}`;
};
const row = (label: string, cs: readonly Call[]): void => {
  const [fwd, bwd] = [cs.filter((c) => !c.backward), cs.filter((c) => c.backward)];
  console.log(`${label.padEnd(40)}${pad(fwd.length / reps8, 6)}${cell(fwd)}${cell(bwd)}`);
};
for (const label of labels)
  row(
    label,
    layerCalls.filter((c) => c.op === "conv2d" && c.label === label),
  );
row(
  "attention 8×64×16×16, 8 heads of 8",
  layerCalls.filter((c) => c.op === "attention"),
);

disposeNetKernels(kernels);
await disposeBackend(backend);
