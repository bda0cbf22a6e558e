import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { size, type Tensor, zeros32 } from "../../src/core/tensor.js";
import { readSafetensors, writeSafetensors } from "../../src/nets/io/safetensors.js";
import {
  checkUnet2DCheckpoint,
  type Unet2DConfig,
  unet2DConfig,
  unet2DConfigFromJson,
  unet2DParameters,
} from "../../src/nets/io/unet-config.js";

const message = (r: E.Either<{ readonly message: string }, unknown>): string =>
  E.isLeft(r) ? r.left.message : "";
const zerosFor = (config: Unet2DConfig): Map<string, Tensor> =>
  new Map(unet2DParameters(config).map((p) => [p.name, zeros32(p.shape)]));
const count = (config: Unet2DConfig): number =>
  unet2DParameters(config).reduce((a, p) => a + size(p.shape), 0);

/** google/ddpm-cifar10-32 `unet/config.json` as published (diffusers 0.0.4). */
const DDPM_CIFAR10 = `{
  "_class_name": "UNet2DModel", "_diffusers_version": "0.0.4", "act_fn": "silu",
  "block_out_channels": [128, 256, 256, 256], "center_input_sample": false,
  "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"],
  "downsample_padding": 0, "flip_sin_to_cos": false, "freq_shift": 1, "in_channels": 3, "layers_per_block": 2,
  "mid_block_scale_factor": 1, "norm_eps": 1e-06, "norm_num_groups": 32, "out_channels": 3, "sample_size": 32,
  "time_embedding_type": "positional",
  "up_block_types": ["UpBlock2D", "AttnUpBlock2D", "UpBlock2D", "UpBlock2D"]
}`;

describe("unet2DConfig", () => {
  it("fills in UNet2DModel.__init__'s defaults", () => {
    expect(orThrow(unet2DConfig({}))).toEqual({
      sampleSize: null,
      inChannels: 3,
      outChannels: 3,
      centerInputSample: false,
      timeEmbeddingType: "positional",
      timeEmbeddingDim: 4 * 224,
      freqShift: 0,
      flipSinToCos: true,
      downBlockTypes: ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
      midBlockType: "UNetMidBlock2D",
      upBlockTypes: ["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
      blockOutChannels: [224, 448, 672, 896],
      layersPerBlock: 2,
      midBlockScaleFactor: 1,
      downsamplePadding: 1,
      downsampleType: "conv",
      upsampleType: "conv",
      dropout: 0,
      actFn: "silu",
      attentionHeadDim: 8,
      normNumGroups: 32,
      attnNormNumGroups: null,
      normEps: 1e-5,
      resnetTimeScaleShift: "default",
      addAttention: true,
      classEmbedType: null,
      numClassEmbeds: null,
      numTrainTimesteps: null,
    });
  });

  it("reads google/ddpm-cifar10-32: 35 746 307 parameters in 328 tensors (DDPM's 35.7M, Ho et al. 2020 App. B)", () => {
    const c = orThrow(unet2DConfigFromJson(DDPM_CIFAR10));
    expect([c.sampleSize, c.downsamplePadding, c.freqShift, c.flipSinToCos, c.normEps]).toEqual([
      [32, 32],
      0,
      1,
      false,
      1e-6,
    ]);
    expect(unet2DParameters(c).length).toBe(328);
    expect(count(c)).toBe(35_746_307);
  });

  it("accepts the keys newer diffusers versions write, with the supported values", () => {
    const c = orThrow(
      unet2DConfig({
        ...JSON.parse(DDPM_CIFAR10),
        _diffusers_version: "0.24.0",
        add_attention: true,
        attention_head_dim: null,
        attn_norm_num_groups: null,
        class_embed_type: null,
        downsample_type: "conv",
        dropout: 0.1,
        mid_block_type: "UNetMidBlock2D",
        num_class_embeds: null,
        num_train_timesteps: null,
        resnet_time_scale_shift: "default",
        time_embedding_dim: null,
        upsample_type: "conv",
        act_fn: "swish",
        sample_size: [32, 64],
      }),
    );
    expect([c.attentionHeadDim, c.dropout, c.actFn, c.sampleSize]).toEqual([null, 0.1, "silu", [32, 64]]);
    expect(count(c)).toBe(35_746_307);
  });

  it("refuses unknown fields and unsupported values, naming the key and what is supported", () => {
    const cases: Array<[unknown, RegExp]> = [
      [[1], /config must be a JSON object/],
      [
        { resnet_num_groups: 32 },
        /resnet_num_groups is not a UNet2DModel field this library supports \(supported: sample_size, /,
      ],
      [
        { act_fn: "gelu" },
        /act_fn must be one of "silu", "swish" \(supported; both are SiLU\), got act_fn="gelu"/,
      ],
      [
        { time_embedding_type: "learned" },
        /time_embedding_type must be one of "positional", "fourier" \(supported\)/,
      ],
      [
        { class_embed_type: "timestep" },
        /class_embed_type must be null \(class conditioning is not supported\)/,
      ],
      [{ num_class_embeds: 10 }, /num_class_embeds must be null/],
      [{ mid_block_type: null }, /mid_block_type must be "UNetMidBlock2D"/],
      [{ resnet_time_scale_shift: "scale_shift" }, /resnet_time_scale_shift must be "default"/],
      [{ downsample_type: "resnet" }, /downsample_type must be "conv"/],
      [{ upsample_type: "resnet" }, /upsample_type must be "conv"/],
      [
        { down_block_types: ["CrossAttnDownBlock2D"] },
        /down_block_types must be a non-empty list of "DownBlock2D", "AttnDownBlock2D"/,
      ],
      [{ up_block_types: [] }, /up_block_types must be a non-empty list of "UpBlock2D", "AttnUpBlock2D"/],
      [{ block_out_channels: [32, 0] }, /block_out_channels must be a non-empty list of integers ≥ 1/],
      [{ in_channels: 1.5 }, /in_channels must be an integer ≥ 1, got in_channels=1.5/],
      [{ layers_per_block: 0 }, /layers_per_block must be an integer ≥ 1/],
      [{ norm_eps: 0 }, /norm_eps must be a finite number > 0/],
      [{ freq_shift: Number.NaN }, /freq_shift must be a finite number, got freq_shift=NaN/],
      [{ mid_block_scale_factor: -1 }, /mid_block_scale_factor must be a finite number > 0/],
      [{ dropout: 2 }, /dropout must be a number in \[0, 1\]/],
      [{ center_input_sample: "no" }, /center_input_sample must be true or false/],
      [{ sample_size: [32] }, /sample_size must be null, an integer ≥ 1 or \[height, width\]/],
      [{ attention_head_dim: 0 }, /attention_head_dim must be null or an integer ≥ 1/],
      [
        { block_out_channels: [64, 128] },
        /down_block_types must have one entry per block_out_channels entry, got down_block_types has 4, block_out_channels has 2/,
      ],
      [
        { block_out_channels: [32, 48, 64, 64] },
        /norm_num_groups must divide the channels of every GroupNorm, got norm_num_groups=32, down_blocks\.1\.attentions\.0\.group_norm has 48 channels/,
      ],
      [
        { block_out_channels: [32, 64, 64, 64], attention_head_dim: 48 },
        /attention_head_dim must divide the channels of every attention layer, got attention_head_dim=48, down_blocks\.1\.attentions\.0 has 64 channels/,
      ],
      [
        { attn_norm_num_groups: 5 },
        /attn_norm_num_groups must divide the channels of every GroupNorm, got attn_norm_num_groups=5, mid_block\.attentions\.0\.group_norm has 896/,
      ],
      [{ sample_size: 36 }, /sample_size must be a multiple of 2\^\(levels − 1\) = 8 on both axes/],
    ];
    for (const [json, pattern] of cases) {
      const r = unet2DConfig(json);
      expect(E.isLeft(r), pattern.source).toBe(true);
      expect(message(r)).toMatch(/^UNet2DModel config: /);
      expect(message(r)).toMatch(pattern);
    }
    expect(message(unet2DConfigFromJson("{"))).toMatch(/config\.json must be valid JSON/);
  });
});

describe("unet2DParameters", () => {
  it("lists a small config's parameters exactly, in state-dict order (derived by hand from diffusers)", () => {
    const c = orThrow(
      unet2DConfig({
        block_out_channels: [32, 64],
        down_block_types: ["DownBlock2D", "AttnDownBlock2D"],
        up_block_types: ["AttnUpBlock2D", "UpBlock2D"],
        layers_per_block: 1,
        in_channels: 3,
        out_channels: 2,
        attention_head_dim: 16,
      }),
    );
    const T = 128; // 4·C₀
    const lin = (n: string, o: number, i: number): Array<[string, number[]]> => [
      [`${n}.weight`, [o, i]],
      [`${n}.bias`, [o]],
    ];
    const conv = (n: string, o: number, i: number, k = 3): Array<[string, number[]]> => [
      [`${n}.weight`, [o, i, k, k]],
      [`${n}.bias`, [o]],
    ];
    const gn = (n: string, ch: number): Array<[string, number[]]> => [
      [`${n}.weight`, [ch]],
      [`${n}.bias`, [ch]],
    ];
    const resnet = (n: string, i: number, o: number): Array<[string, number[]]> => [
      ...gn(`${n}.norm1`, i),
      ...conv(`${n}.conv1`, o, i),
      ...lin(`${n}.time_emb_proj`, o, T),
      ...gn(`${n}.norm2`, o),
      ...conv(`${n}.conv2`, o, o),
      ...(i === o ? [] : conv(`${n}.conv_shortcut`, o, i, 1)),
    ];
    const attn = (n: string, ch: number): Array<[string, number[]]> => [
      ...gn(`${n}.group_norm`, ch),
      ...lin(`${n}.to_q`, ch, ch),
      ...lin(`${n}.to_k`, ch, ch),
      ...lin(`${n}.to_v`, ch, ch),
      ...lin(`${n}.to_out.0`, ch, ch),
    ];
    // Skip stack after the down path: conv_in (32), d0.r0 (32), d0.down (32), d1.r0 (64); the up blocks pop it
    // from the end: up0 takes 64 then 32, up1 takes 32 then 32.
    const expected: Array<[string, number[]]> = [
      ...conv("conv_in", 32, 3),
      ...lin("time_embedding.linear_1", T, 32),
      ...lin("time_embedding.linear_2", T, T),
      ...resnet("down_blocks.0.resnets.0", 32, 32),
      ...conv("down_blocks.0.downsamplers.0.conv", 32, 32),
      ...attn("down_blocks.1.attentions.0", 64),
      ...resnet("down_blocks.1.resnets.0", 32, 64),
      ...attn("mid_block.attentions.0", 64),
      ...resnet("mid_block.resnets.0", 64, 64),
      ...resnet("mid_block.resnets.1", 64, 64),
      ...attn("up_blocks.0.attentions.0", 64),
      ...attn("up_blocks.0.attentions.1", 64),
      ...resnet("up_blocks.0.resnets.0", 64 + 64, 64),
      ...resnet("up_blocks.0.resnets.1", 64 + 32, 64),
      ...conv("up_blocks.0.upsamplers.0.conv", 64, 64),
      ...resnet("up_blocks.1.resnets.0", 64 + 32, 32),
      ...resnet("up_blocks.1.resnets.1", 32 + 32, 32),
      ...gn("conv_norm_out", 32),
      ...conv("conv_out", 2, 32),
    ];
    expect(unet2DParameters(c).map((p) => [p.name, p.shape])).toEqual(expected);
  });

  it("fourier embedding: time_proj.weight [C₀] and a 2·C₀-wide linear_1; time_embedding_dim overrides 4·C₀", () => {
    const c = orThrow(
      unet2DConfig({
        block_out_channels: [32, 64],
        down_block_types: ["DownBlock2D", "DownBlock2D"],
        up_block_types: ["UpBlock2D", "UpBlock2D"],
        time_embedding_type: "fourier",
        time_embedding_dim: 40,
        add_attention: false,
      }),
    );
    const ps = unet2DParameters(c);
    expect(ps.slice(2, 5)).toEqual([
      { name: "time_proj.weight", shape: [32] },
      { name: "time_embedding.linear_1.weight", shape: [40, 64] },
      { name: "time_embedding.linear_1.bias", shape: [40] },
    ]);
    expect(ps.find((p) => p.name === "mid_block.resnets.0.time_emb_proj.weight")!.shape).toEqual([64, 40]);
    expect(ps.some((p) => p.name.includes("attentions"))).toBe(false);
  });
});

describe("checkUnet2DCheckpoint", () => {
  const c = orThrow(unet2DConfigFromJson(DDPM_CIFAR10));

  it("accepts exactly the implied tensors and returns them in state-dict order", () => {
    const tensors = zerosFor(c);
    const shuffled = new Map([...tensors].reverse());
    const r = orThrow(checkUnet2DCheckpoint(c, shuffled));
    expect([...r.keys()]).toEqual(unet2DParameters(c).map((p) => p.name));
  });

  it("renames pre-0.14 attention names (query, key, value, proj_attn) as diffusers does on load", () => {
    const old = new Map(
      [...zerosFor(c)].map(([name, t]) => [
        name
          .replace(/\.to_q\./, ".query.")
          .replace(/\.to_k\./, ".key.")
          .replace(/\.to_v\./, ".value.")
          .replace(/\.to_out\.0\./, ".proj_attn."),
        t,
      ]),
    );
    expect(old.has("mid_block.attentions.0.proj_attn.weight")).toBe(true);
    const r = orThrow(checkUnet2DCheckpoint(c, old));
    expect(r.has("mid_block.attentions.0.to_out.0.weight")).toBe(true);
    expect(r.size).toBe(328);
  });

  it("names missing, unexpected and mis-shaped tensors", () => {
    const tensors = zerosFor(c);
    tensors.delete("conv_in.bias");
    tensors.delete("mid_block.attentions.0.to_q.weight");
    tensors.set("extra.weight", zeros32([1]));
    tensors.set("conv_out.weight", zeros32([3, 128, 1, 1]));
    const r = checkUnet2DCheckpoint(c, tensors);
    expect(message(r)).toBe(
      "UNet2DModel checkpoint: tensors must match the 328 parameters the config implies, got " +
        "missing (2): conv_in.bias, mid_block.attentions.0.to_q.weight; unexpected (1): extra.weight; " +
        "wrong shape (1): conv_out.weight [3, 128, 1, 1] (expected [3, 128, 3, 3])",
    );
    expect(E.isLeft(r) && r.left.value).toEqual({
      missing: ["conv_in.bias", "mid_block.attentions.0.to_q.weight"],
      unexpected: ["extra.weight"],
      misshaped: ["conv_out.weight [3, 128, 1, 1] (expected [3, 128, 3, 3])"],
    });
  });

  it("a checkpoint written with writeSafetensors reads back and matches its config", () => {
    const small = orThrow(
      unet2DConfig({
        block_out_channels: [32, 64],
        down_block_types: ["DownBlock2D", "AttnDownBlock2D"],
        up_block_types: ["AttnUpBlock2D", "UpBlock2D"],
        layers_per_block: 1,
      }),
    );
    const tensors = new Map(
      unet2DParameters(small).map((p, k) => [
        p.name,
        { shape: p.shape, data: new Float32Array(size(p.shape)).fill(k) },
      ]),
    );
    const file = orThrow(writeSafetensors(tensors, { format: "pt" }));
    const back = orThrow(checkUnet2DCheckpoint(small, orThrow(readSafetensors(file)).tensors));
    expect([...back.keys()]).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      const u = back.get(name)!;
      expect(u.shape).toEqual(t.shape);
      expect(u.data.every((v, i) => v === t.data[i])).toBe(true);
    }
  });
});
