import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, foldIn, type RngKey, rngKey } from "../../src/core/rng.js";
import { size, type Tensor } from "../../src/core/tensor.js";
import { createBackend, disposeBackend, type NetBackend } from "../../src/nets/backend.js";
import { unet2DConfig } from "../../src/nets/io/unet-config.js";
import { forwardNetwork, initParameters, type Network, type Parameters } from "../../src/nets/network.js";
import { unet2DReference } from "../../src/nets/reference/unet.js";
import { disposeNetKernels, type NetKernels, netKernels } from "../../src/nets/tape.js";
import { unet2DModel } from "../../src/nets/unet.js";

const key = (seed: number): RngKey => orThrow(rngKey(seed));
const normal32 = (k: RngKey, shape: readonly number[]): Tensor => ({
  shape: [...shape],
  data: fillNormal(k, new Float32Array(size(shape))),
});
/** max |a − ref| / rms(ref). */
const errOverRms = (a: ArrayLike<number>, ref: ArrayLike<number>): number => {
  let m = 0;
  let ss = 0;
  for (let i = 0; i < ref.length; i++) {
    m = Math.max(m, Math.abs(a[i] - ref[i]));
    ss += ref[i] * ref[i];
  }
  return m / Math.sqrt(ss / ref.length);
};
/** PyTorch initialization, with GroupNorm γ, β moved off 1 and 0 so that they matter. */
const parametersFor = (net: Network, seed: number): Parameters => {
  const p = new Map(initParameters(net, key(seed)));
  net.parameters.forEach((spec, i) => {
    const init = spec.init;
    if (init.kind === "constant")
      p.set(spec.name, {
        shape: [...spec.shape],
        data: fillNormal(foldIn(key(seed + 1), i), new Float32Array(size(spec.shape))).map(
          (v) => init.value + 0.2 * v,
        ),
      });
  });
  return p;
};

/** A tiny UNet2DModel config.json: 1–3 levels of 4 or 8 channels (GroupNorms of 2 groups), every option drawn. */
const tinyConfig = fc
  .record({
    levels: fc.integer({ min: 1, max: 3 }),
    widths: fc.array(fc.constantFrom(4, 8), { minLength: 3, maxLength: 3 }),
    attnDown: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    attnUp: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    layers: fc.integer({ min: 1, max: 2 }),
    channels: fc.integer({ min: 1, max: 2 }),
    fourier: fc.boolean(),
    center: fc.boolean(),
    padding: fc.constantFrom(0, 1),
    addAttention: fc.boolean(),
    headDim: fc.constantFrom(null, 2, 4),
    midScale: fc.double({ min: 0.5, max: 2, noNaN: true }),
    flip: fc.boolean(),
    shift: fc.constantFrom(0, 1),
    scale: fc.constantFrom(1, 2),
  })
  .map((d) => {
    const m = 2 ** (d.levels - 1);
    return {
      sample_size: [m * 2 * d.scale, m * 2],
      in_channels: d.channels,
      out_channels: d.channels,
      block_out_channels: d.widths.slice(0, d.levels),
      layers_per_block: d.layers,
      down_block_types: d.attnDown.slice(0, d.levels).map((a) => (a ? "AttnDownBlock2D" : "DownBlock2D")),
      up_block_types: d.attnUp.slice(0, d.levels).map((a) => (a ? "AttnUpBlock2D" : "UpBlock2D")),
      time_embedding_type: d.fourier ? "fourier" : "positional",
      center_input_sample: d.center,
      downsample_padding: d.padding,
      add_attention: d.addAttention,
      attention_head_dim: d.headDim,
      mid_block_scale_factor: d.midScale,
      flip_sin_to_cos: d.flip,
      freq_shift: d.shift,
      norm_num_groups: 2,
    };
  });

const timesteps = (fourier: boolean, n: number, seed: number): number[] =>
  Array.from({ length: n }, (_, i) => {
    const u = (Math.sin(seed * 12.9898 + i * 78.233) + 1) / 2;
    return fourier ? 0.01 * 8000 ** u : Math.round(999 * u);
  });

let backend: NetBackend;
let kernels: NetKernels;
beforeAll(async () => {
  backend = orThrow(await createBackend("webasm"));
  kernels = orThrow(netKernels(backend));
});
afterAll(async () => {
  disposeNetKernels(kernels);
  await disposeBackend(backend);
});

describe("unet2DModel properties", () => {
  it("matches the float64 reference within 1e-4 of the output RMS for any tiny configuration", () => {
    fc.assert(
      fc.property(tinyConfig, fc.integer({ min: 1, max: 2 }), fc.nat(1000), (json, n, seed) => {
        const config = orThrow(unet2DConfig(json));
        const net = orThrow(unet2DModel(config));
        const params = parametersFor(net, seed);
        const x = normal32(key(seed + 7), [n, ...net.sampleShape]);
        const t = timesteps(config.timeEmbeddingType === "fourier", n, seed);
        const y = orThrow(forwardNetwork(kernels, net, params, x, t));
        const ref = orThrow(unet2DReference(config, params, x, t));
        expect(errOverRms(y.data, ref.data)).toBeLessThan(1e-4);
      }),
      { numRuns: 30 },
    );
  });

  it("treats samples independently: a batch's outputs are the outputs of its samples", () => {
    fc.assert(
      fc.property(tinyConfig, fc.nat(1000), (json, seed) => {
        const config = orThrow(unet2DConfig(json));
        const net = orThrow(unet2DModel(config));
        const params = parametersFor(net, seed);
        const x = normal32(key(seed + 3), [3, ...net.sampleShape]);
        const t = timesteps(config.timeEmbeddingType === "fourier", 3, seed);
        const y = orThrow(forwardNetwork(kernels, net, params, x, t));
        const per = size(net.sampleShape);
        return [0, 1, 2].every((i) => {
          const xi = { shape: [1, ...net.sampleShape], data: x.data.slice(i * per, (i + 1) * per) };
          const yi = orThrow(forwardNetwork(kernels, net, params, xi, [t[i]]));
          return errOverRms(y.data.subarray(i * per, (i + 1) * per), yi.data) < 1e-5;
        });
      }),
      { numRuns: 12 },
    );
  });

  it("refuses dropout > 0, downsample_padding > 1 and sample sizes off the 2^(L−1) grid, naming the field", () => {
    const base = orThrow(
      unet2DConfig({
        sample_size: 8,
        block_out_channels: [4, 8],
        down_block_types: ["DownBlock2D", "DownBlock2D"],
        up_block_types: ["UpBlock2D", "UpBlock2D"],
        norm_num_groups: 2,
      }),
    );
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1, noNaN: true }),
        fc.integer({ min: 2, max: 9 }),
        fc.integer({ min: 1, max: 64 }),
        (dropout, padding, odd) => {
          const d = unet2DModel({ ...base, dropout });
          const p = unet2DModel({ ...base, downsamplePadding: padding });
          const s = unet2DModel(base, [8, 2 * odd - 1]);
          return (
            E.isLeft(d) &&
            d.left.field === "dropout" &&
            E.isLeft(p) &&
            p.left.field === "downsample_padding" &&
            E.isLeft(s) &&
            s.left.field === "sampleSize"
          );
        },
      ),
    );
  });
});
