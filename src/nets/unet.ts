/**
 * The diffusers `UNet2DModel` as a {@link Network}: a configuration ({@link Unet2DConfig}) becomes a parameter
 * list under diffusers' state-dict names (PyTorch initializers) and a forward pass on a {@link Tape}, so that a
 * diffusers checkpoint loads into it unchanged and a fresh one trains. With x [N, C_in, H, W], one timestep (or
 * σ) tₙ per sample, L levels of C₀ … C_{L−1} channels, the forward pass is `UNet2DModel.forward`:
 *   x ← 2x − 1 (center_input_sample);  e = linear_2(SiLU(linear_1(γ(t))))   (γ sinusoidal, or Fourier of ln t);
 *   h = conv_in(x); down levels (ResNet blocks, attention in Attn blocks, a stride-2 conv but on the last),
 *   every block output kept as a skip; mid block (ResNet, attention, ResNet, each ÷ mid_block_scale_factor);
 *   up levels (concatenate the most recent skip, ResNet, attention in Attn blocks, nearest 2× + conv but on the
 *   last); y = conv_out(SiLU(GroupNorm(h))), and y ← y / t for Fourier embeddings.
 * A ResNet block is r(h) = (s(h) + conv2(SiLU(GN₂(conv1(SiLU(GN₁(h))) + W_e·SiLU(e) + b_e)))) / f, with s the
 * 1×1 conv_shortcut when C_in ≠ C_out and the identity otherwise; an attention block is
 * (h + Attn(GN(h))) / f (see `attention-shape.ts`).
 *
 * Source: Ronneberger et al., "U-Net", MICCAI 2015 (the architecture); Ho et al., "Denoising Diffusion
 * Probabilistic Models", NeurIPS 2020, Appendix B (the DDPM U-Net); diffusers unets/unet_2d.py
 * (`UNet2DModel.forward`), unets/unet_2d_blocks.py (`DownBlock2D`, `AttnDownBlock2D`, `UNetMidBlock2D`,
 * `UpBlock2D`, `AttnUpBlock2D`), resnet.py (`ResnetBlock2D`), downsampling.py (`Downsample2D`), upsampling.py
 * (`Upsample2D`), embeddings.py (`Timesteps`, `TimestepEmbedding`, `GaussianFourierProjection`),
 * attention_processor.py (`Attention`, `AttnProcessor`).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { size } from "../core/tensor.js";
import { timestepEmbedding } from "./embedding.js";
import { type Unet2DConfig, unet2DParameters } from "./io/unet-config.js";
import { type Network, type ParameterSpec, pytorchUniform } from "./network.js";
import type { NetOps, ParameterLookup } from "./ops.js";
import { must } from "./tape.js";

const CONTEXT = "UNet2DModel";

/** The state-dict name of the Gaussian Fourier frequencies (`GaussianFourierProjection.weight`). */
const FOURIER_WEIGHT = "time_proj.weight";

/** The options of UNet2DModel's `GaussianFourierProjection(embedding_size=C₀, scale=16)`: log=True, no flip. */
const FOURIER_OPTIONS = { log: true, flipSinToCos: false } as const;

/**
 * The parameters of a configuration with PyTorch's initializers: a Conv2d or Linear weight and its bias
 * ~ U(−1/√fan_in, 1/√fan_in) with fan_in = ∏ weight.shape[1:]; a GroupNorm γ = 1, β = 0 (a module whose weight
 * is a vector); the Fourier frequencies `time_proj.weight` ~ N(0, 16²), frozen (diffusers: requires_grad=False).
 */
const parameterSpecs = (config: Unet2DConfig): readonly ParameterSpec[] => {
  const params = unet2DParameters(config);
  const shapes = new Map(params.map((p) => [p.name, p.shape]));
  return params.map(({ name, shape }): ParameterSpec => {
    if (name === FOURIER_WEIGHT) return { name, shape, init: { kind: "normal", std: 16 }, trainable: false };
    const weight = shapes.get(`${name.slice(0, name.lastIndexOf("."))}.weight`)!;
    if (weight.length === 1) {
      const value = name.endsWith(".weight") ? 1 : 0;
      return { name, shape, init: { kind: "constant", value }, trainable: true };
    }
    return { name, shape, init: pytorchUniform(size(weight.slice(1))), trainable: true };
  });
};

/** Everything a block needs during one pass: the ops, the parameters, the config and SiLU(e). */
interface Scope<V> {
  readonly ops: NetOps<V>;
  readonly parameter: ParameterLookup<V>;
  readonly config: Unet2DConfig;
  /** SiLU of the time embedding, [N, T]: every ResNet block's `time_emb_proj` input. */
  readonly tembAct: V;
}

/** A Conv2d (`name.weight`, `name.bias`) with the given stride and padding. */
const conv = <V>(s: Scope<V>, name: string, x: V, stride: number, padding: number): V =>
  s.ops.conv2d(x, s.parameter(`${name}.weight`), s.parameter(`${name}.bias`), { stride, padding });

/** A GroupNorm (`name.weight` = γ, `name.bias` = β) with `groups` groups and ε = norm_eps. */
const norm = <V>(s: Scope<V>, name: string, x: V, groups: number): V =>
  s.ops.groupNorm(x, s.parameter(`${name}.weight`), s.parameter(`${name}.bias`), {
    groups,
    eps: s.config.normEps,
  });

/** y = x / f per element (skipped when f = 1, where it is the identity). */
const divide = <V>(s: Scope<V>, x: V, f: number): V =>
  f === 1 ? x : s.ops.scaleRows(x, new Float64Array(s.ops.shape(x)[0]).fill(1 / f));

/**
 * `ResnetBlock2D` with time_embedding_norm "default" and dropout 0:
 * (s(x) + conv2(SiLU(GN₂(conv1(SiLU(GN₁(x))) + time_emb_proj(SiLU(e)))))) / f.
 */
const resnet = <V>(s: Scope<V>, name: string, x: V, f: number): V => {
  const { ops } = s;
  const g = s.config.normNumGroups;
  let h = conv(s, `${name}.conv1`, ops.silu(norm(s, `${name}.norm1`, x, g)), 1, 1);
  const e = ops.linear(
    s.tembAct,
    s.parameter(`${name}.time_emb_proj.weight`),
    s.parameter(`${name}.time_emb_proj.bias`),
  );
  h = ops.addChannelBias(h, e);
  h = conv(s, `${name}.conv2`, ops.silu(norm(s, `${name}.norm2`, h, g)), 1, 1);
  const shortcut = ops.shape(x)[1] === ops.shape(h)[1] ? x : conv(s, `${name}.conv_shortcut`, x, 1, 0);
  return divide(s, ops.add(shortcut, h), f);
};

/** `Attention` with a residual connection: (x + Attn(GN(x))) / f, heads of attention_head_dim channels. */
const attention = <V>(s: Scope<V>, name: string, x: V, groups: number, f: number): V => {
  const projection = (p: string) =>
    [s.parameter(`${name}.${p}.weight`), s.parameter(`${name}.${p}.bias`)] as const;
  const weights = {
    toQ: projection("to_q"),
    toK: projection("to_k"),
    toV: projection("to_v"),
    toOut: projection("to_out.0"),
  };
  const normed = norm(s, `${name}.group_norm`, x, groups);
  const headDim = s.config.attentionHeadDim ?? s.ops.shape(x)[1];
  return s.ops.attention(normed, weights, x, { headDim, rescaleOutputFactor: f });
};

/** `Downsample2D(use_conv=True)`: a 3×3 stride-2 conv with padding p; p = 0 pads bottom/right by 1 first. */
const downsample = <V>(s: Scope<V>, name: string, x: V): V => {
  const p = s.config.downsamplePadding;
  return conv(s, `${name}.conv`, p === 0 ? s.ops.padBottomRight(x) : x, 2, p);
};

/** `Upsample2D(use_conv=True)`: nearest-neighbour 2× then a 3×3 conv with padding 1. */
const upsample = <V>(s: Scope<V>, name: string, x: V): V => conv(s, `${name}.conv`, s.ops.upsample(x), 1, 1);

/**
 * The time features γ(t) [N, C₀ or 2C₀]: the sinusoidal `Timesteps(C₀, flip_sin_to_cos, freq_shift)`, a
 * constant; or `GaussianFourierProjection` of ln t (frozen, as in diffusers).
 */
const timeFeatures = <V>(
  ops: NetOps<V>,
  parameter: ParameterLookup<V>,
  config: Unet2DConfig,
  t: Float64Array,
): V => {
  if (config.timeEmbeddingType === "positional") {
    const options = {
      embeddingDim: config.blockOutChannels[0],
      flipSinToCos: config.flipSinToCos,
      downscaleFreqShift: config.freqShift,
    };
    return ops.constant(must(timestepEmbedding(t, options)));
  }
  return ops.fourierFeatures(t, parameter(FOURIER_WEIGHT), FOURIER_OPTIONS);
};

/** `UNet2DModel.forward` in any ops (module equations); shapes are invariants checked by the caller. */
const forward =
  (config: Unet2DConfig) =>
  <V>(ops: NetOps<V>, parameter: ParameterLookup<V>, x: V, t: Float64Array): V => {
    const [n] = ops.shape(x);
    const L = config.blockOutChannels.length;
    const timeLinear = (name: string, v: V) =>
      ops.linear(v, parameter(`time_embedding.${name}.weight`), parameter(`time_embedding.${name}.bias`));
    const features = timeFeatures(ops, parameter, config, t);
    const temb = timeLinear("linear_2", ops.silu(timeLinear("linear_1", features)));
    const s: Scope<V> = { ops, parameter, config, tembAct: ops.silu(temb) };

    const centered = config.centerInputSample
      ? ops.add(
          ops.scaleRows(x, new Float64Array(n).fill(2)),
          ops.constant({ shape: ops.shape(x), data: new Float32Array(size(ops.shape(x))).fill(-1) }),
        )
      : x;
    let h = conv(s, "conv_in", centered, 1, 1);
    const skips: V[] = [h];
    for (let i = 0; i < L; i++) {
      const block = `down_blocks.${i}`;
      for (let j = 0; j < config.layersPerBlock; j++) {
        h = resnet(s, `${block}.resnets.${j}`, h, 1);
        if (config.downBlockTypes[i] === "AttnDownBlock2D")
          h = attention(s, `${block}.attentions.${j}`, h, config.normNumGroups, 1);
        skips.push(h);
      }
      if (i < L - 1) {
        h = downsample(s, `${block}.downsamplers.0`, h);
        skips.push(h);
      }
    }

    const f = config.midBlockScaleFactor;
    h = resnet(s, "mid_block.resnets.0", h, f);
    if (config.addAttention)
      h = attention(s, "mid_block.attentions.0", h, config.attnNormNumGroups ?? config.normNumGroups, f);
    h = resnet(s, "mid_block.resnets.1", h, f);

    for (let i = 0; i < L; i++) {
      const block = `up_blocks.${i}`;
      for (let j = 0; j <= config.layersPerBlock; j++) {
        h = ops.concat([h, skips.pop()!]);
        h = resnet(s, `${block}.resnets.${j}`, h, 1);
        if (config.upBlockTypes[i] === "AttnUpBlock2D")
          h = attention(s, `${block}.attentions.${j}`, h, config.normNumGroups, 1);
      }
      if (i < L - 1) h = upsample(s, `${block}.upsamplers.0`, h);
    }

    h = ops.silu(norm(s, "conv_norm_out", h, config.normNumGroups));
    const y = conv(s, "conv_out", h, 1, 1);
    return config.timeEmbeddingType === "fourier"
      ? ops.scaleRows(
          y,
          t.map((v) => 1 / v),
        )
      : y;
  };

/** A Left for `field` of the config breaking `rule`. */
const refuse = (field: string, value: unknown, rule: string): E.Either<ScoreflowError, never> =>
  E.left(scoreflowError(CONTEXT, field, value, rule));

/**
 * The diffusers `UNet2DModel` of a configuration as a {@link Network} named "UNet2DModel": sampleShape
 * [in_channels, H, W], the parameters of {@link unet2DParameters} in state-dict order with PyTorch's initializers
 * (Conv2d / Linear weight and bias ~ U(−1/√fan_in, 1/√fan_in); GroupNorm γ = 1, β = 0; for Fourier embeddings
 * the frequencies `time_proj.weight` ~ N(0, 16²), frozen), and `apply` = `UNet2DModel.forward` (module
 * equations). The conditioning scalar is the timestep t (positional embeddings, any real t) or σ > 0 (Fourier
 * embeddings: features of ln σ, output divided by σ; σ ≤ 0 is a Left of the forward pass).
 *
 * `sampleSize` [H, W] overrides the config's `sample_size` (e.g. to run a model at another resolution). Rules:
 * a sample size is given (argument or config) with H, W integers ≥ 1, multiples of 2^(L − 1); out_channels =
 * in_channels (a Network's output has its input's shape); dropout = 0 (dropout is not implemented: set it to 0
 * to run a checkpoint as PyTorch's `eval()` does); downsample_padding 0 or 1 (any other padding changes the
 * resolution of the down path and breaks the skip connections, as in diffusers). The config is otherwise trusted
 * as `unet2DConfig` validated it; an op's Left in the forward pass names what broke.
 *
 * Source: diffusers unets/unet_2d.py, `UNet2DModel.__init__` and `forward`; PyTorch `reset_parameters` of
 * Conv2d, Linear and GroupNorm.
 *
 * @category Networks
 */
export const unet2DModel = (
  config: Unet2DConfig,
  sampleSize?: readonly [height: number, width: number],
): E.Either<ScoreflowError, Network> => {
  const hw = sampleSize ?? config.sampleSize;
  const m = 2 ** (config.blockOutChannels.length - 1);
  if (hw === null)
    return refuse(
      "sample_size",
      null,
      "must be set, in the config or as the sampleSize argument [height, width]",
    );
  if (hw.length !== 2 || hw.some((d) => !Number.isSafeInteger(d) || d < 1 || d % m !== 0))
    return refuse(
      sampleSize === undefined ? "sample_size" : "sampleSize",
      hw,
      `must be [height, width], integers ≥ 1 and multiples of 2^(levels − 1) = ${m}`,
    );
  if (config.outChannels !== config.inChannels)
    return E.left(
      scoreflowError(
        CONTEXT,
        "out_channels",
        config.outChannels,
        "must equal in_channels (a Network's output has the shape of its input)",
        `in_channels=${config.inChannels}, out_channels=${config.outChannels}`,
      ),
    );
  if (config.dropout !== 0)
    return refuse(
      "dropout",
      config.dropout,
      "must be 0 (dropout is not implemented; set 0 to run the model as PyTorch's eval() does)",
    );
  if (config.downsamplePadding > 1)
    return refuse(
      "downsample_padding",
      config.downsamplePadding,
      "must be 0 or 1 (other paddings change the down path's resolution and break the skip connections)",
    );
  return E.right({
    name: CONTEXT,
    sampleShape: [config.inChannels, hw[0], hw[1]],
    parameters: parameterSpecs(config),
    apply: forward(config),
  });
};
