/**
 * Plain-TypeScript reference `UNet2DModel` forward pass in float64, built from the reference ops: the oracle the
 * tape network of `unet.ts` is tested against (values and, by finite differences, gradients). It follows
 * diffusers module by module — `ResnetBlock2D`, `Attention`, `Downsample2D`, `Upsample2D`, the down blocks
 * returning their output states, `UNetMidBlock2D`, the up blocks consuming the last len(resnets) states — with
 * the same equations as `unet.ts`:
 *   x ← 2x − 1 (center_input_sample);  e = linear_2(SiLU(linear_1(γ(t))));  h = conv_in(x);
 *   ResNet r(h) = (s(h) + conv2(SiLU(GN₂(conv1(SiLU(GN₁(h))) + time_emb_proj(SiLU(e)))))) / f;
 *   attention (h + Attn(GN(h))) / f;  y = conv_out(SiLU(GN(h))), and y ← y / t for Fourier embeddings.
 * It runs in evaluation mode (dropout is the identity) and takes any downsample_padding p (p = 0 pads the
 * bottom and right by one first, as `Downsample2D` does).
 *
 * Source: diffusers unets/unet_2d.py (`UNet2DModel.forward`), unets/unet_2d_blocks.py, resnet.py,
 * downsampling.py, upsampling.py, embeddings.py, attention_processor.py (`AttnProcessor`).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../../core/errors.js";
import type { Storage, Tensor, Tensor64 } from "../../core/tensor.js";
import { attentionShape } from "../attention-shape.js";
import { conv2dShape } from "../conv2d-shape.js";
import { fourierFeatures64, timestepEmbedding } from "../embedding.js";
import { groupNormShape } from "../group-norm-shape.js";
import type { Unet2DConfig } from "../io/unet-config.js";
import { linearShape } from "../linear-shape.js";
import { must, runOnTape } from "../tape.js";
import { residualAddReference } from "./add.js";
import { attentionReference } from "./attention.js";
import { concatChannelsReference } from "./concat.js";
import { conv2dReference } from "./conv2d.js";
import { groupNormReference } from "./group-norm.js";
import { linearReference } from "./linear.js";
import { siluReference } from "./silu.js";
import { upsampleNearest2xReference } from "./upsample.js";

const CONTEXT = "UNet2DModel reference";

/** The float64 pass's view of the weights and the config. */
interface Model {
  readonly config: Unet2DConfig;
  readonly weight: (name: string) => Tensor<Storage>;
}

const conv = (m: Model, name: string, x: Tensor<Storage>, stride: number, padding: number): Tensor64 => {
  const w = m.weight(`${name}.weight`);
  const b = m.weight(`${name}.bias`);
  return conv2dReference(must(conv2dShape(x, w, b, { stride, padding })), x, w, b);
};

const linear = (m: Model, name: string, x: Tensor<Storage>): Tensor64 => {
  const w = m.weight(`${name}.weight`);
  const b = m.weight(`${name}.bias`);
  return linearReference(must(linearShape(x, w, b)), x, w, b);
};

const groupNorm = (m: Model, name: string, x: Tensor<Storage>, groups: number): Tensor64 => {
  const gamma = m.weight(`${name}.weight`);
  const beta = m.weight(`${name}.bias`);
  const g = must(groupNormShape(x, gamma, beta, { groups, eps: m.config.normEps }));
  return groupNormReference(g, x, gamma, beta);
};

const divide = (x: Tensor64, f: number): Tensor64 => ({ shape: x.shape, data: x.data.map((v) => v / f) });

/** `ResnetBlock2D.forward` (time_embedding_norm "default", eval mode). */
const resnetBlock = (m: Model, name: string, input: Tensor64, temb: Tensor64, f: number): Tensor64 => {
  const groups = m.config.normNumGroups;
  let h = siluReference(groupNorm(m, `${name}.norm1`, input, groups));
  h = conv(m, `${name}.conv1`, h, 1, 1);
  const e = linear(m, `${name}.time_emb_proj`, siluReference(temb));
  const plane = h.data.length / e.data.length;
  h = { shape: h.shape, data: h.data.map((v, i) => v + e.data[Math.floor(i / plane)]) };
  h = siluReference(groupNorm(m, `${name}.norm2`, h, groups));
  h = conv(m, `${name}.conv2`, h, 1, 1);
  const shortcut = input.shape[1] === h.shape[1] ? input : conv(m, `${name}.conv_shortcut`, input, 1, 0);
  return divide(residualAddReference(shortcut, h), f);
};

/** `Attention` with group_norm, residual_connection=True and rescale_output_factor f (`AttnProcessor`). */
const attentionBlock = (m: Model, name: string, x: Tensor64, groups: number, f: number): Tensor64 => {
  const projection = (p: string) => ({
    weight: m.weight(`${name}.${p}.weight`),
    bias: m.weight(`${name}.${p}.bias`),
  });
  const weights = {
    toQ: projection("to_q"),
    toK: projection("to_k"),
    toV: projection("to_v"),
    toOut: projection("to_out.0"),
  };
  const normed = groupNorm(m, `${name}.group_norm`, x, groups);
  const headDim = m.config.attentionHeadDim ?? x.shape[1];
  const g = must(attentionShape(normed, weights, x, { headDim, rescaleOutputFactor: f }));
  return attentionReference(g, normed, weights, x);
};

/** `F.pad(x, (0, 1, 0, 1))`: one zero row at the bottom, one zero column at the right. */
const padBottomRight = (x: Tensor64): Tensor64 => {
  const [n, c, h, w] = x.shape;
  const y = new Float64Array(n * c * (h + 1) * (w + 1));
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) y[(p * (h + 1) + i) * (w + 1) + j] = x.data[(p * h + i) * w + j];
  return { shape: [n, c, h + 1, w + 1], data: y };
};

/** `DownBlock2D` / `AttnDownBlock2D`.forward: (hidden states, output states). */
const downBlock = (m: Model, i: number, x: Tensor64, temb: Tensor64): [Tensor64, Tensor64[]] => {
  const c = m.config;
  const states: Tensor64[] = [];
  let h = x;
  for (let j = 0; j < c.layersPerBlock; j++) {
    h = resnetBlock(m, `down_blocks.${i}.resnets.${j}`, h, temb, 1);
    if (c.downBlockTypes[i] === "AttnDownBlock2D")
      h = attentionBlock(m, `down_blocks.${i}.attentions.${j}`, h, c.normNumGroups, 1);
    states.push(h);
  }
  if (i < c.blockOutChannels.length - 1) {
    const p = c.downsamplePadding;
    h = conv(m, `down_blocks.${i}.downsamplers.0.conv`, p === 0 ? padBottomRight(h) : h, 2, p);
    states.push(h);
  }
  return [h, states];
};

/** `UNetMidBlock2D.forward`: resnet, attention (when add_attention), resnet, all with output scale f. */
const midBlock = (m: Model, x: Tensor64, temb: Tensor64): Tensor64 => {
  const c = m.config;
  const f = c.midBlockScaleFactor;
  let h = resnetBlock(m, "mid_block.resnets.0", x, temb, f);
  if (c.addAttention)
    h = attentionBlock(m, "mid_block.attentions.0", h, c.attnNormNumGroups ?? c.normNumGroups, f);
  return resnetBlock(m, "mid_block.resnets.1", h, temb, f);
};

/** `UpBlock2D` / `AttnUpBlock2D`.forward: each resnet takes the last remaining skip state. */
const upBlock = (m: Model, i: number, x: Tensor64, skips: readonly Tensor64[], temb: Tensor64): Tensor64 => {
  const c = m.config;
  let rest = skips;
  let h = x;
  for (let j = 0; j < skips.length; j++) {
    const skip = rest[rest.length - 1];
    rest = rest.slice(0, -1);
    h = resnetBlock(m, `up_blocks.${i}.resnets.${j}`, concatChannelsReference([h, skip]), temb, 1);
    if (c.upBlockTypes[i] === "AttnUpBlock2D")
      h = attentionBlock(m, `up_blocks.${i}.attentions.${j}`, h, c.normNumGroups, 1);
  }
  return i < c.blockOutChannels.length - 1
    ? conv(m, `up_blocks.${i}.upsamplers.0.conv`, upsampleNearest2xReference(h), 1, 1)
    : h;
};

/** γ(t) in float64: sinusoidal (the float32 values of `timestepEmbedding`) or Fourier features of ln t. */
const timeFeatures = (m: Model, t: ArrayLike<number>): Tensor64 => {
  const c = m.config;
  if (c.timeEmbeddingType === "fourier")
    return must(fourierFeatures64(t, m.weight("time_proj.weight"), { log: true, flipSinToCos: false }));
  const e = must(
    timestepEmbedding(t, {
      embeddingDim: c.blockOutChannels[0],
      flipSinToCos: c.flipSinToCos,
      downscaleFreqShift: c.freqShift,
    }),
  );
  return { shape: e.shape, data: Float64Array.from(e.data) };
};

/**
 * The `UNet2DModel` forward pass in float64 (module equations) for the weights `parameters` (any storage, by
 * diffusers state-dict name), a batch x [N, in_channels, H, W] and one timestep (σ > 0 for Fourier embeddings)
 * per sample. The sinusoidal features are `timestepEmbedding`'s float32 values widened to float64 (an input of
 * the network, not part of what is tested); every other step accumulates in float64. Rules: every weight the
 * config names is present (a Left names the first missing one); every op's operand rules (a Left names the op
 * and operand, e.g. a GroupNorm whose groups do not divide the channels); timesteps.length = N.
 *
 * Source: diffusers unets/unet_2d.py, `UNet2DModel.forward` (steps 0–6).
 *
 * @category Networks
 */
export const unet2DReference = (
  config: Unet2DConfig,
  parameters: ReadonlyMap<string, Tensor<Storage>>,
  x: Tensor<Storage>,
  timesteps: ArrayLike<number>,
): E.Either<ScoreflowError, Tensor64> => {
  if (timesteps.length !== x.shape[0])
    return E.left(
      scoreflowError(
        CONTEXT,
        "timesteps.length",
        timesteps.length,
        `must equal the batch size ${x.shape[0]}`,
      ),
    );
  const m: Model = {
    config,
    weight: (name) => {
      const w = parameters.get(name);
      return w ?? must(E.left(scoreflowError(CONTEXT, name, undefined, "is missing from the parameters")));
    },
  };
  return runOnTape(() => {
    const c = config;
    const x64: Tensor64 = { shape: [...x.shape], data: Float64Array.from(x.data) };
    const sample = c.centerInputSample ? { shape: x64.shape, data: x64.data.map((v) => 2 * v - 1) } : x64;
    const temb = linear(
      m,
      "time_embedding.linear_2",
      siluReference(linear(m, "time_embedding.linear_1", timeFeatures(m, timesteps))),
    );
    let h = conv(m, "conv_in", sample, 1, 1);
    let res: Tensor64[] = [h];
    for (let i = 0; i < c.blockOutChannels.length; i++) {
      const [out, states] = downBlock(m, i, h, temb);
      h = out;
      res = [...res, ...states];
    }
    h = midBlock(m, h, temb);
    for (let i = 0; i < c.upBlockTypes.length; i++) {
      const k = c.layersPerBlock + 1;
      const skips = res.slice(-k);
      res = res.slice(0, -k);
      h = upBlock(m, i, h, skips, temb);
    }
    h = siluReference(groupNorm(m, "conv_norm_out", h, c.normNumGroups));
    const y = conv(m, "conv_out", h, 1, 1);
    if (c.timeEmbeddingType !== "fourier") return y;
    const plane = y.data.length / timesteps.length;
    return { shape: y.shape, data: y.data.map((v, i) => v / timesteps[Math.floor(i / plane)]) };
  });
};
