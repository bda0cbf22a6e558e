/**
 * Shared fixtures for network tests: a webasm kernel set, a small MLP and U-Net, and a directional finite-difference check
 * of any scalar function of the parameters against the tape's gradient.
 *
 * @module
 */
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, foldIn, type RngKey, rngKey } from "../../src/core/rng.js";
import type { Tensor } from "../../src/core/tensor.js";
import { createBackend } from "../../src/nets/backend.js";
import { unet2DConfig } from "../../src/nets/io/unet-config.js";
import { mlpConfig, mlpNetwork } from "../../src/nets/mlp.js";
import type { Network, Parameters } from "../../src/nets/network.js";
import { type Gradients, type NetKernels, netKernels } from "../../src/nets/tape.js";
import { unet2DModel } from "../../src/nets/unet.js";

/** The webasm kernels (one set per test file). */
export const webasmKernels = async (): Promise<NetKernels> =>
  orThrow(netKernels(orThrow(await createBackend("webasm"))));

/** A small 2-D MLP (width 16, 2 blocks, 4 frequencies). */
export const smallMlp = (): Network =>
  mlpNetwork(orThrow(mlpConfig({ dataDim: 2, width: 16, blocks: 2, frequencies: 4 })));

/**
 * A small UNet2DModel with attention at its lower level and in the mid block: 1 channel, [16, 32], one layer
 * per block, 4 groups, heads of 8, `size`×`size` inputs.
 */
export const smallUnet = (size: number): Network =>
  orThrow(
    unet2DModel(
      orThrow(
        unet2DConfig({
          sample_size: size,
          in_channels: 1,
          out_channels: 1,
          layers_per_block: 1,
          block_out_channels: [16, 32],
          down_block_types: ["DownBlock2D", "AttnDownBlock2D"],
          up_block_types: ["AttnUpBlock2D", "UpBlock2D"],
          norm_num_groups: 4,
          attention_head_dim: 8,
        }),
      ),
    ),
  );

/** A standard-normal float32 tensor of the given shape from `seed`. */
export const normalTensor = (key: RngKey, shape: readonly number[]): Tensor => ({
  shape: [...shape],
  data: fillNormal(key, new Float32Array(shape.reduce((a, b) => a * b, 1))),
});

/** Σ aᵢ·bᵢ in float64. */
export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/**
 * Relative error between ⟨∂f/∂θ, u⟩ from `gradients` and the five-point difference
 * (−f(θ + 2hu) + 8f(θ + hu) − 8f(θ − hu) + f(θ − 2hu))/12h (truncation O(h⁴), so h can be large enough to drown
 * float32 rounding), for a random direction u over the named parameters.
 */
export const directionalError = (
  f: (params: Parameters) => number,
  params: Parameters,
  gradients: Gradients,
  names: readonly string[],
  h = 5e-2,
  seed = 7,
): { readonly analytic: number; readonly numeric: number; readonly relative: number } => {
  const key = orThrow(rngKey(seed));
  const dirs = new Map(names.map((n, i) => [n, normalTensor(foldIn(key, i), params.get(n)?.shape ?? [])]));
  const shifted = (eps: number): Parameters =>
    new Map(
      [...params].map(([n, p]) => {
        const d = dirs.get(n);
        return [n, d === undefined ? p : { shape: p.shape, data: p.data.map((v, i) => v + eps * d.data[i]) }];
      }),
    );
  const numeric =
    (-f(shifted(2 * h)) + 8 * f(shifted(h)) - 8 * f(shifted(-h)) + f(shifted(-2 * h))) / (12 * h);
  const analytic = names.reduce((a, n) => a + dot(gradients.get(n)?.data ?? [], dirs.get(n)?.data ?? []), 0);
  return { analytic, numeric, relative: Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), 1e-12) };
};
