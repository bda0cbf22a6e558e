/**
 * What the network benchmarks share: the machine's native peak they compare with, a median timer, random
 * operands and column padding.
 *
 * @module
 */
import { orThrow } from "../src/core/errors.js";
import type { Tensor } from "../src/core/tensor.js";
import { unet2DConfig } from "../src/nets/io/unet-config.js";
import type { Network } from "../src/nets/network.js";
import { unet2DModel } from "../src/nets/unet.js";

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

/**
 * The nets issue's benchmark U-Net: block_out_channels [32, 64], layers_per_block 1, attention at the lower
 * resolution (8 heads of 8 over 16×16 tokens) and in the mid block, 1 channel, 32×32, norm_num_groups 8.
 */
export const issueUnet = (): Network =>
  orThrow(
    unet2DModel(
      orThrow(
        unet2DConfig({
          sample_size: 32,
          in_channels: 1,
          out_channels: 1,
          block_out_channels: [32, 64],
          layers_per_block: 1,
          down_block_types: ["DownBlock2D", "AttnDownBlock2D"],
          up_block_types: ["AttnUpBlock2D", "UpBlock2D"],
          norm_num_groups: 8,
          attention_head_dim: 8,
        }),
      ),
    ),
  );

/** GFLOP of one {@link issueUnet} forward pass per image, as bench/nets-unet.ts counts them. */
export const ISSUE_UNET_FORWARD_GFLOP = 0.579;
