import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, foldIn, rngKey } from "../../src/core/rng.js";
import type { Tensor } from "../../src/core/tensor.js";
import { createBackend, disposeBackend, type NetBackend } from "../../src/nets/backend.js";
import { unet2DConfig } from "../../src/nets/io/unet-config.js";
import { mlpConfig, mlpNetwork } from "../../src/nets/mlp.js";
import {
  initParameters,
  type LossAndGradient,
  type Network,
  networkGradients,
} from "../../src/nets/network.js";
import { disposeNetKernels, type NetKernels, netKernels } from "../../src/nets/tape.js";
import { unet2DModel } from "../../src/nets/unet.js";

/**
 * A full garbage collection: `global.gc` when node runs with --expose-gc, else the same function obtained at
 * run time (V8 flag, then a fresh context, which installs `gc`); undefined where neither works.
 */
const fullGc = ((): (() => void) | undefined => {
  if (typeof globalThis.gc === "function") return globalThis.gc;
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    return typeof gc === "function" ? () => void gc() : undefined;
  } catch {
    return undefined;
  }
})();

/** heapUsed in bytes, after a full collection when one is available. */
const heapUsed = (): number => {
  fullGc?.();
  return process.memoryUsage().heapUsed;
};

/** Least-squares slope of ys against xs. */
const slope = (xs: readonly number[], ys: readonly number[]): number => {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxy / sxx;
};

/** L = ½‖y‖², ∂L/∂y = y. */
const halfSquare = (y: Tensor): LossAndGradient => ({
  loss: 0.5 * y.data.reduce((s, v) => s + v * v, 0),
  dOutput: Float32Array.from(y.data),
});

const normal = (seed: number, shape: readonly number[]): Tensor => ({
  shape: [...shape],
  data: fillNormal(foldIn(orThrow(rngKey(seed)), 1), new Float32Array(shape.reduce((a, b) => a * b, 1))),
});

/** Bytes of every WebAssembly memory after each `grow` call made while `run` runs, in call order. */
const wasmGrowths = (run: () => void): number[] => {
  const sizes: number[] = [];
  const grow = WebAssembly.Memory.prototype.grow;
  const spy = vi.spyOn(WebAssembly.Memory.prototype, "grow").mockImplementation(function (
    this: WebAssembly.Memory,
    pages: number,
  ) {
    const previous = grow.call(this, pages);
    sizes.push(this.buffer.byteLength);
    return previous;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return sizes;
};

/** What a run of training passes left behind. */
interface Run {
  /** Sizes in bytes of the WebAssembly memories after each growth during warm-up. */
  readonly warmUpGrowths: number[];
  /** The same after warm-up. */
  readonly growths: number[];
  /** Pass counts (after warm-up) at which the heap was sampled. */
  readonly at: number[];
  /** heapUsed at those counts, bytes. */
  readonly heap: number[];
}

/**
 * `warmUp` then `calls` training passes of `network` (fixed parameters; x and noise fixed per batch size), pass
 * i at batch `large` when i is a multiple of `every` and at batch `small` otherwise, so that the kernels' scratch
 * memory must serve two sizes; heapUsed sampled `samples` times at equal intervals after warm-up.
 */
const trainingPasses = (
  kernels: NetKernels,
  network: Network,
  batches: { readonly small: number; readonly large: number; readonly every: number },
  warmUp: number,
  calls: number,
  samples: number,
): Run => {
  const parameters = initParameters(network, orThrow(rngKey(1)));
  const inputs = [batches.small, batches.large].map((n) => ({
    x: normal(n, [n, ...network.sampleShape]),
    noise: Float64Array.from({ length: n }, (_, i) => 0.1 + (0.8 * i) / n),
  }));
  const pass = (i: number) => {
    const { x, noise } = inputs[i % batches.every === 0 ? 1 : 0];
    orThrow(networkGradients(kernels, network, parameters, x, noise, halfSquare));
  };
  const warmUpGrowths = wasmGrowths(() => {
    for (let i = 1; i <= warmUp; i++) pass(i);
  });
  const at: number[] = [];
  const heap: number[] = [];
  const growths = wasmGrowths(() => {
    for (let i = 1; i <= calls; i++) {
      pass(i);
      if (i % (calls / samples) === 0) {
        at.push(i);
        heap.push(heapUsed());
      }
    }
  });
  return { warmUpGrowths, growths, at, heap };
};

/**
 * With a full collection before each sample, heapUsed after warm-up moves by a few hundred KiB at most (what
 * the JIT still compiles), so the fitted slope stays near 0 bytes per call; leaking even a one-field object per
 * call shows as ~40 bytes per call. Without a collection only a generous bound holds (64 MiB).
 */
const expectNoHeapTrend = (run: Run, bytesPerCall: number): void => {
  const { at, heap } = run;
  const growth = Math.max(...heap) - heap[0];
  if (fullGc === undefined) {
    expect(growth).toBeLessThan(64 * 2 ** 20);
    return;
  }
  expect(slope(at, heap)).toBeLessThan(bytesPerCall);
  expect(growth).toBeLessThan(2 ** 20);
};

describe("memory over many forward/backward calls", () => {
  let backend: NetBackend;
  beforeAll(async () => {
    backend = orThrow(await createBackend("webasm"));
  });
  afterAll(() => disposeBackend(backend));
  /** `run` on fresh kernels (fresh WebAssembly memories of one 64 KiB page), released afterwards. */
  const withKernels = <A>(run: (kernels: NetKernels) => A): A => {
    const kernels = orThrow(netKernels(backend));
    try {
      return run(kernels);
    } finally {
      disposeNetKernels(kernels);
    }
  };

  it("a width-32 MLP: 10 000 training passes grow neither the WebAssembly memory nor the JS heap", () => {
    const mlp = mlpNetwork(orThrow(mlpConfig({ dataDim: 2, width: 32, blocks: 1 })));
    const run = withKernels((k) =>
      trainingPasses(k, mlp, { small: 8, large: 1024, every: 100 }, 200, 10_000, 20),
    );
    // the detector sees growth: the first batch of 1024 outgrows the initial 64 KiB page
    expect(run.warmUpGrowths.length).toBeGreaterThan(0);
    expect(run.growths).toEqual([]);
    expectNoHeapTrend(run, 16);
  });

  it("a tiny attention U-Net: 300 training passes grow neither the WebAssembly memory nor the JS heap", () => {
    const config = orThrow(
      unet2DConfig({
        sample_size: 8,
        in_channels: 1,
        out_channels: 1,
        block_out_channels: [8, 16],
        layers_per_block: 1,
        down_block_types: ["DownBlock2D", "AttnDownBlock2D"],
        up_block_types: ["AttnUpBlock2D", "UpBlock2D"],
        norm_num_groups: 4,
        attention_head_dim: 4,
      }),
    );
    const unet = orThrow(unet2DModel(config));
    const run = withKernels((k) => trainingPasses(k, unet, { small: 1, large: 4, every: 10 }, 30, 300, 10));
    expect(run.growths).toEqual([]);
    // a leaked tape would hold every activation (~100 KiB a call); JIT warm-up adds well under 1 KiB a call
    expectNoHeapTrend(run, 3072);
  });
});
