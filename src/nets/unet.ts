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
import { fourierFeatures, fourierFeaturesBackward, timestepEmbedding } from "./embedding.js";
import { type Unet2DConfig, unet2DParameters } from "./io/unet-config.js";
import {
  addChannelBiasNode,
  addNode,
  attentionNode,
  concatNode,
  conv2dNode,
  groupNormNode,
  linearNode,
  scaleRowsNode,
  siluNode,
  upsampleNode,
} from "./layers.js";
import { type Network, type ParameterLookup, type ParameterSpec, pytorchUniform } from "./network.js";
import { constantNode, must, type Node, recordOp, type Tape } from "./tape.js";

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

/** Everything a block needs during one pass: the tape, the parameters, the config and SiLU(e). */
interface Scope {
  readonly tape: Tape;
  readonly parameter: ParameterLookup;
  readonly config: Unet2DConfig;
  /** SiLU of the time embedding, [N, T]: every ResNet block's `time_emb_proj` input. */
  readonly tembAct: Node;
}

/** A Conv2d (`name.weight`, `name.bias`) with the given stride and padding. */
const conv = (s: Scope, name: string, x: Node, stride: number, padding: number): Node =>
  conv2dNode(s.tape, x, s.parameter(`${name}.weight`), s.parameter(`${name}.bias`), { stride, padding });

/** A GroupNorm (`name.weight` = γ, `name.bias` = β) with `groups` groups and ε = norm_eps. */
const norm = (s: Scope, name: string, x: Node, groups: number): Node =>
  groupNormNode(s.tape, x, s.parameter(`${name}.weight`), s.parameter(`${name}.bias`), {
    groups,
    eps: s.config.normEps,
  });

/** y = x / f per element (skipped when f = 1, where it is the identity). */
const divide = (s: Scope, x: Node, f: number): Node =>
  f === 1 ? x : scaleRowsNode(s.tape, x, new Float64Array(x.value.shape[0]).fill(1 / f));

/**
 * `ResnetBlock2D` with time_embedding_norm "default" and dropout 0:
 * (s(x) + conv2(SiLU(GN₂(conv1(SiLU(GN₁(x))) + time_emb_proj(SiLU(e)))))) / f.
 */
const resnet = (s: Scope, name: string, x: Node, f: number): Node => {
  const g = s.config.normNumGroups;
  let h = conv(s, `${name}.conv1`, siluNode(s.tape, norm(s, `${name}.norm1`, x, g)), 1, 1);
  const e = linearNode(
    s.tape,
    s.tembAct,
    s.parameter(`${name}.time_emb_proj.weight`),
    s.parameter(`${name}.time_emb_proj.bias`),
  );
  h = addChannelBiasNode(s.tape, h, e);
  h = conv(s, `${name}.conv2`, siluNode(s.tape, norm(s, `${name}.norm2`, h, g)), 1, 1);
  const shortcut = x.value.shape[1] === h.value.shape[1] ? x : conv(s, `${name}.conv_shortcut`, x, 1, 0);
  return divide(s, addNode(s.tape, shortcut, h), f);
};

/** `Attention` with a residual connection: (x + Attn(GN(x))) / f, heads of attention_head_dim channels. */
const attention = (s: Scope, name: string, x: Node, groups: number, f: number): Node => {
  const projection = (p: string) =>
    [s.parameter(`${name}.${p}.weight`), s.parameter(`${name}.${p}.bias`)] as const;
  const weights = {
    toQ: projection("to_q"),
    toK: projection("to_k"),
    toV: projection("to_v"),
    toOut: projection("to_out.0"),
  };
  const normed = norm(s, `${name}.group_norm`, x, groups);
  const headDim = s.config.attentionHeadDim ?? x.value.shape[1];
  return attentionNode(s.tape, normed, weights, x, { headDim, rescaleOutputFactor: f });
};

/**
 * Zero padding by one row at the bottom and one column at the right, [N, C, H, W] → [N, C, H + 1, W + 1]
 * (PyTorch `F.pad(x, (0, 1, 0, 1))`, what `Downsample2D` does before a padding-0 conv); the pullback crops
 * ∂y back to [N, C, H, W].
 */
const padBottomRightNode = (tape: Tape, x: Node): Node => {
  const [n, c, h, w] = x.value.shape;
  const y = new Float32Array(n * c * (h + 1) * (w + 1));
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < h; i++)
      y.set(x.value.data.subarray((p * h + i) * w, (p * h + i + 1) * w), (p * (h + 1) + i) * (w + 1));
  return recordOp(tape, { shape: [n, c, h + 1, w + 1], data: y }, [x], (dy) => {
    const dx = new Float32Array(n * c * h * w);
    for (let p = 0; p < n * c; p++)
      for (let i = 0; i < h; i++)
        dx.set(dy.subarray((p * (h + 1) + i) * (w + 1), (p * (h + 1) + i) * (w + 1) + w), (p * h + i) * w);
    return [dx];
  });
};

/** `Downsample2D(use_conv=True)`: a 3×3 stride-2 conv with padding p; p = 0 pads bottom/right by 1 first. */
const downsample = (s: Scope, name: string, x: Node): Node => {
  const p = s.config.downsamplePadding;
  return conv(s, `${name}.conv`, p === 0 ? padBottomRightNode(s.tape, x) : x, 2, p);
};

/** `Upsample2D(use_conv=True)`: nearest-neighbour 2× then a 3×3 conv with padding 1. */
const upsample = (s: Scope, name: string, x: Node): Node =>
  conv(s, `${name}.conv`, upsampleNode(s.tape, x), 1, 1);

/**
 * The time features γ(t) [N, C₀ or 2C₀]: the sinusoidal `Timesteps(C₀, flip_sin_to_cos, freq_shift)`, a
 * constant; or `GaussianFourierProjection` of ln t, recorded with its pullback to the frequencies.
 */
const timeFeatures = (
  tape: Tape,
  parameter: ParameterLookup,
  config: Unet2DConfig,
  t: Float64Array,
): Node => {
  if (config.timeEmbeddingType === "positional") {
    const options = {
      embeddingDim: config.blockOutChannels[0],
      flipSinToCos: config.flipSinToCos,
      downscaleFreqShift: config.freqShift,
    };
    return constantNode(tape, must(timestepEmbedding(t, options)));
  }
  const w = parameter(FOURIER_WEIGHT);
  const e = must(fourierFeatures(t, w.value, FOURIER_OPTIONS));
  return recordOp(tape, e, [w], (de) => {
    const dw = must(fourierFeaturesBackward(t, w.value, { shape: e.shape, data: de }, FOURIER_OPTIONS));
    return [dw.data];
  });
};

/** `UNet2DModel.forward` on a tape (module equations); shapes are invariants checked by the caller. */
const forward =
  (config: Unet2DConfig) =>
  (tape: Tape, parameter: ParameterLookup, x: Node, t: Float64Array): Node => {
    const n = x.value.shape[0];
    const L = config.blockOutChannels.length;
    const timeLinear = (name: string, v: Node) =>
      linearNode(
        tape,
        v,
        parameter(`time_embedding.${name}.weight`),
        parameter(`time_embedding.${name}.bias`),
      );
    const features = timeFeatures(tape, parameter, config, t);
    const temb = timeLinear("linear_2", siluNode(tape, timeLinear("linear_1", features)));
    const s: Scope = { tape, parameter, config, tembAct: siluNode(tape, temb) };

    const centered = config.centerInputSample
      ? addNode(
          tape,
          scaleRowsNode(tape, x, new Float64Array(n).fill(2)),
          constantNode(tape, { shape: x.value.shape, data: new Float32Array(x.value.data.length).fill(-1) }),
        )
      : x;
    let h = conv(s, "conv_in", centered, 1, 1);
    const skips: Node[] = [h];
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
        h = concatNode(tape, [h, skips.pop()!]);
        h = resnet(s, `${block}.resnets.${j}`, h, 1);
        if (config.upBlockTypes[i] === "AttnUpBlock2D")
          h = attention(s, `${block}.attentions.${j}`, h, config.normNumGroups, 1);
      }
      if (i < L - 1) h = upsample(s, `${block}.upsamplers.0`, h);
    }

    h = siluNode(tape, norm(s, "conv_norm_out", h, config.normNumGroups));
    const y = conv(s, "conv_out", h, 1, 1);
    return config.timeEmbeddingType === "fourier"
      ? scaleRowsNode(
          tape,
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
