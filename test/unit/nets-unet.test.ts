import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, foldIn, type RngKey, rngKey } from "../../src/core/rng.js";
import { size, type Tensor } from "../../src/core/tensor.js";
import { createBackend, disposeBackend, type NetBackend } from "../../src/nets/backend.js";
import { type Unet2DConfig, unet2DConfig } from "../../src/nets/io/unet-config.js";
import {
  forwardNetwork,
  initParameters,
  type Network,
  networkGradients,
  type Parameters,
} from "../../src/nets/network.js";
import { tapeOps } from "../../src/nets/ops.js";
import { unet2DReference } from "../../src/nets/reference/unet.js";
import {
  backward,
  createTape,
  disposeNetKernels,
  type Gradients,
  type NetKernels,
  netKernels,
  parameterNode,
} from "../../src/nets/tape.js";
import { unet2DModel } from "../../src/nets/unet.js";

const key = (seed: number): RngKey => orThrow(rngKey(seed));
const normal32 = (k: RngKey, shape: readonly number[], scale = 1): Tensor => {
  const data = fillNormal(k, new Float32Array(size(shape)));
  for (let i = 0; i < data.length; i++) data[i] *= scale;
  return { shape: [...shape], data };
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const rms = (a: ArrayLike<number>): number => Math.sqrt(dot(a, a) / a.length);
/** max |a − ref| / rms(ref). */
const errOverRms = (a: ArrayLike<number>, ref: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(a[i] - ref[i]));
  return m / rms(ref);
};
const message = (r: E.Either<{ readonly message: string }, unknown>): string =>
  E.isLeft(r) ? r.left.message : "";

/**
 * Fresh PyTorch-initialized parameters with GroupNorm γ, β moved off 1 and 0 (so that they matter) and the
 * Fourier frequencies scaled to 1 (so that a central difference in them is well conditioned).
 */
const testParameters = (net: Network, seed: number): Parameters => {
  const p = new Map(initParameters(net, key(seed)));
  net.parameters.forEach((spec, i) => {
    const init = spec.init;
    if (init.kind === "constant") {
      const noise = normal32(foldIn(key(seed + 1), i), spec.shape, 0.2);
      p.set(spec.name, { shape: noise.shape, data: noise.data.map((v) => v + init.value) });
    }
    if (init.kind === "normal") p.set(spec.name, normal32(foldIn(key(seed + 1), i), spec.shape));
  });
  return p;
};

const config = (json: Record<string, unknown>): Unet2DConfig => orThrow(unet2DConfig(json));

/** Positional, Down/AttnDown and AttnUp/Up blocks, one layer, cin ≠ cout shortcuts, 2 channels. */
const POSITIONAL = config({
  sample_size: 8,
  in_channels: 2,
  out_channels: 2,
  block_out_channels: [8, 16],
  layers_per_block: 1,
  down_block_types: ["DownBlock2D", "AttnDownBlock2D"],
  up_block_types: ["AttnUpBlock2D", "UpBlock2D"],
  norm_num_groups: 4,
  attention_head_dim: 4,
});

/** Fourier, two layers, center_input_sample, downsample_padding 0, no mid attention, mid scale √2, one head. */
const FOURIER = config({
  sample_size: [8, 4],
  in_channels: 1,
  out_channels: 1,
  time_embedding_type: "fourier",
  center_input_sample: true,
  downsample_padding: 0,
  add_attention: false,
  mid_block_scale_factor: Math.SQRT2,
  block_out_channels: [8, 8],
  layers_per_block: 2,
  down_block_types: ["AttnDownBlock2D", "DownBlock2D"],
  up_block_types: ["UpBlock2D", "AttnUpBlock2D"],
  norm_num_groups: 2,
  attention_head_dim: null,
  norm_eps: 1e-6,
});

/** Three levels, DDPM's sinusoid (freq_shift 1, no flip), attn_norm_num_groups, time_embedding_dim, mid scale 2. */
const THREE_LEVELS = config({
  sample_size: 8,
  in_channels: 1,
  out_channels: 1,
  block_out_channels: [4, 8, 8],
  layers_per_block: 2,
  down_block_types: ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
  up_block_types: ["AttnUpBlock2D", "UpBlock2D", "UpBlock2D"],
  norm_num_groups: 2,
  attn_norm_num_groups: 4,
  attention_head_dim: 2,
  flip_sin_to_cos: false,
  freq_shift: 1,
  time_embedding_dim: 12,
  mid_block_scale_factor: 2,
});

let webasm: NetBackend;
let kernels: NetKernels;
beforeAll(async () => {
  webasm = orThrow(await createBackend("webasm"));
  kernels = orThrow(netKernels(webasm));
});
afterAll(async () => {
  disposeNetKernels(kernels);
  await disposeBackend(webasm);
});

describe("unet2DModel (constructor)", () => {
  it("is the Network UNet2DModel with sampleShape [in_channels, H, W] and the config's parameters in order", () => {
    const net = orThrow(unet2DModel(FOURIER));
    expect(net.name).toBe("UNet2DModel");
    expect(net.sampleShape).toEqual([1, 8, 4]);
    expect(net.parameters[0].name).toBe("conv_in.weight");
    expect(net.parameters.at(-1)?.name).toBe("conv_out.bias");
    expect(orThrow(unet2DModel(FOURIER, [16, 8])).sampleShape).toEqual([1, 16, 8]);
  });

  it("initializes as PyTorch: U(±1/√fan_in) for conv/linear, GroupNorm 1 and 0, frozen N(0, 16²) Fourier weights", () => {
    const net = orThrow(unet2DModel(FOURIER));
    const spec = (name: string) => net.parameters.find((s) => s.name === name)!;
    expect(spec("conv_in.weight").init).toEqual({ kind: "uniform", bound: 1 / 3 });
    expect(spec("conv_in.bias").init).toEqual({ kind: "uniform", bound: 1 / 3 });
    expect(spec("time_embedding.linear_1.weight").init).toEqual({ kind: "uniform", bound: 1 / 4 });
    expect(spec("up_blocks.0.resnets.0.conv_shortcut.bias").init).toEqual({ kind: "uniform", bound: 1 / 4 });
    expect(spec("down_blocks.0.attentions.1.to_out.0.weight").init).toEqual({
      kind: "uniform",
      bound: 1 / Math.sqrt(8),
    });
    expect(spec("mid_block.resnets.0.norm1.weight").init).toEqual({ kind: "constant", value: 1 });
    expect(spec("down_blocks.0.attentions.0.group_norm.bias").init).toEqual({ kind: "constant", value: 0 });
    expect(spec("time_proj.weight")).toEqual({
      name: "time_proj.weight",
      shape: [8],
      init: { kind: "normal", std: 16 },
      trainable: false,
    });
    expect(net.parameters.filter((s) => !s.trainable).map((s) => s.name)).toEqual(["time_proj.weight"]);
    const p = initParameters(net, key(3));
    for (const s of net.parameters)
      if (s.init.kind === "uniform") {
        const bound = s.init.bound;
        expect(p.get(s.name)!.data.every((v) => Math.abs(v) <= bound)).toBe(true);
      }
  });

  it("has 35 746 307 parameters for the ddpm-cifar10-32 configuration", () => {
    const cifar = config({
      block_out_channels: [128, 256, 256, 256],
      layers_per_block: 2,
      down_block_types: ["DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"],
      up_block_types: ["UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
      sample_size: 32,
      downsample_padding: 0,
      flip_sin_to_cos: false,
      freq_shift: 1,
      norm_eps: 1e-6,
    });
    const net = orThrow(unet2DModel(cifar));
    expect(net.sampleShape).toEqual([3, 32, 32]);
    expect(net.parameters.reduce((a, s) => a + size(s.shape), 0)).toBe(35_746_307);
  });

  it("refuses what it does not implement, naming the field", () => {
    expect(message(unet2DModel({ ...POSITIONAL, sampleSize: null }))).toMatch(
      /^UNet2DModel: sample_size must be set/,
    );
    expect(message(unet2DModel(POSITIONAL, [8, 5]))).toMatch(
      /sampleSize must be \[height, width\].*multiples of .* = 2/,
    );
    expect(message(unet2DModel({ ...POSITIONAL, outChannels: 3 }))).toMatch(
      /out_channels must equal in_channels/,
    );
    expect(message(unet2DModel({ ...POSITIONAL, dropout: 0.1 }))).toMatch(/dropout must be 0/);
    expect(message(unet2DModel({ ...POSITIONAL, downsamplePadding: 2 }))).toMatch(
      /downsample_padding must be 0 or 1/,
    );
  });
});

describe("unet2DModel (forward) against the float64 reference", () => {
  const cases: readonly (readonly [string, Unet2DConfig, readonly number[]])[] = [
    ["positional, Down/AttnDown/AttnUp/Up, 1 layer", POSITIONAL, [0, 999]],
    ["fourier, 2 layers, centered, downsample_padding 0, no mid attention", FOURIER, [0.02, 30]],
    [
      "3 levels, freq_shift 1, attn_norm_num_groups, time_embedding_dim, mid scale 2",
      THREE_LEVELS,
      [17, 500.5],
    ],
  ];
  for (const [label, c, t] of cases)
    it(`${label}: within 1e-4 of the output RMS`, () => {
      const net = orThrow(unet2DModel(c));
      const params = testParameters(net, 10);
      const x = normal32(key(11), [2, ...net.sampleShape]);
      const y = orThrow(forwardNetwork(kernels, net, params, x, t));
      const ref = orThrow(unet2DReference(c, params, x, t));
      expect(y.shape).toEqual(ref.shape);
      expect(errOverRms(y.data, ref.data)).toBeLessThan(1e-4);
    });

  it("a non-positive σ with Fourier embeddings is a Left (features of ln σ)", () => {
    const net = orThrow(unet2DModel(FOURIER));
    const x = normal32(key(1), [1, ...net.sampleShape]);
    expect(message(forwardNetwork(kernels, net, initParameters(net, key(2)), x, [0]))).toMatch(/sigmas\[0\]/);
  });
});

/** ⟨∂L/∂θ, u_θ⟩ + ⟨∂L/∂x, u_x⟩ from one recording tape, L = ⟨y, r⟩. */
const tapeGradients = (
  net: Network,
  params: Parameters,
  x: Tensor,
  t: readonly number[],
  r: Float32Array,
): Gradients => {
  const tape = createTape(kernels, true);
  const xNode = parameterNode(tape, "input x", x);
  const y = net.apply(
    tapeOps(tape),
    (name) => parameterNode(tape, name, params.get(name)!),
    xNode,
    Float64Array.from(t),
  );
  return orThrow(backward(tape, y, r));
};

/** L(θ + εu, x + εv) − L(θ − εu, x − εv) over 2ε, in float64 on the reference. */
const centralDifference = (
  c: Unet2DConfig,
  params: Parameters,
  u: ReadonlyMap<string, Float64Array>,
  x: Tensor,
  v: Float64Array | undefined,
  t: readonly number[],
  r: Float32Array,
  eps: number,
): number => {
  const loss = (s: number): number => {
    const shifted = new Map(
      [...params].map(([name, p]) => {
        const d = u.get(name);
        return [name, { shape: p.shape, data: Float64Array.from(p.data, (w, i) => w + (d ? s * d[i] : 0)) }];
      }),
    );
    const xs = { shape: x.shape, data: Float64Array.from(x.data, (w, i) => w + (v ? s * v[i] : 0)) };
    return dot(orThrow(unet2DReference(c, shifted, xs, t)).data, r);
  };
  return (loss(eps) - loss(-eps)) / (2 * eps);
};

describe("unet2DModel (gradients)", () => {
  const directional = (c: Unet2DConfig, t: readonly number[], seed: number) => {
    const net = orThrow(unet2DModel(c));
    const params = testParameters(net, seed);
    const x = normal32(key(seed + 1), [2, ...net.sampleShape]);
    const r = normal32(key(seed + 2), x.shape).data;
    const u = new Map(
      net.parameters.map((s, i) => [
        s.name,
        fillNormal(foldIn(key(seed + 3), i), new Float64Array(size(s.shape))),
      ]),
    );
    const v = fillNormal(key(seed + 4), new Float64Array(x.data.length));
    const g = tapeGradients(net, params, x, t, r);
    const alongTheta = net.parameters.reduce((a, s) => a + dot(g.get(s.name)!.data, u.get(s.name)!), 0);
    const alongX = dot(g.get("input x")!.data, v);
    return { net, params, x, r, u, v, alongTheta, alongX };
  };

  for (const [label, c, t] of [
    ["positional", POSITIONAL, [3, 700]],
    ["fourier (frozen frequencies included)", FOURIER, [0.5, 4]],
  ] as const)
    it(`${label}: ⟨∂L/∂θ, u⟩ and ⟨∂L/∂x, v⟩ match a float64 central difference within 1e-3`, () => {
      const d = directional(c, t, 40);
      const fdTheta = centralDifference(c, d.params, d.u, d.x, undefined, t, d.r, 1e-5);
      const fdX = centralDifference(c, d.params, new Map(), d.x, d.v, t, d.r, 1e-5);
      expect(Math.abs(d.alongTheta - fdTheta) / Math.abs(fdTheta)).toBeLessThan(1e-3);
      expect(Math.abs(d.alongX - fdX) / Math.abs(fdX)).toBeLessThan(1e-3);
    });

  it("every trainable parameter gets a nonzero gradient (to_k.bias: ≈ 0, softmax is shift invariant); frozen ones none", () => {
    const net = orThrow(unet2DModel(FOURIER));
    const params = testParameters(net, 50);
    const x = normal32(key(51), [2, ...net.sampleShape]);
    const target = normal32(key(52), x.shape).data;
    const mse = (y: Tensor) => ({
      loss: y.data.reduce((a, v, i) => a + (v - target[i]) ** 2, 0) / y.data.length,
      dOutput: y.data.map((v, i) => (2 * (v - target[i])) / y.data.length),
    });
    const { gradients } = orThrow(networkGradients(kernels, net, params, x, [0.3, 2], mse));
    const trainable = net.parameters.filter((s) => s.trainable).map((s) => s.name);
    expect([...gradients.keys()].sort()).toEqual([...trainable].sort());
    const maxAbs = (name: string) => gradients.get(name)!.data.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    for (const name of trainable) {
      if (name.endsWith("to_k.bias"))
        expect(maxAbs(name), name).toBeLessThan(1e-4 * maxAbs(name.replace("to_k.bias", "to_q.bias")));
      else expect(maxAbs(name), name).toBeGreaterThan(0);
    }
  });
});

describe("unet2DModel (backends)", () => {
  it("webasm and cpu agree on the output and the gradients within float32 tolerance", async () => {
    const cpu = orThrow(await createBackend("cpu"));
    const cpuKernels = orThrow(netKernels(cpu));
    const net = orThrow(unet2DModel(POSITIONAL));
    const params = testParameters(net, 60);
    const x = normal32(key(61), [2, ...net.sampleShape]);
    const loss = (y: Tensor) => ({ loss: dot(y.data, y.data) / 2, dOutput: y.data });
    const a = orThrow(networkGradients(kernels, net, params, x, [5, 50], loss));
    const b = orThrow(networkGradients(cpuKernels, net, params, x, [5, 50], loss));
    expect(errOverRms(a.output.data, b.output.data)).toBeLessThan(1e-5);
    // to_k.bias is left out: its gradient is 0 in exact arithmetic (softmax shift invariance), float32 noise here.
    for (const [name, g] of b.gradients)
      if (!name.endsWith("to_k.bias"))
        expect(errOverRms(a.gradients.get(name)!.data, g.data), name).toBeLessThan(1e-4);
    disposeNetKernels(cpuKernels);
    await disposeBackend(cpu);
  });
});
