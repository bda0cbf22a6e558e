/**
 * The diffusers `UNet2DModel` configuration (`config.json`): parsed and validated into a typed record with
 * diffusers' defaults, and the list of parameter names and shapes the configuration implies, under diffusers'
 * state-dict names, which is what a checkpoint must match.
 *
 * Supported: positional or Gaussian-Fourier time embeddings, `DownBlock2D` / `AttnDownBlock2D` down blocks,
 * `UpBlock2D` / `AttnUpBlock2D` up blocks, the `UNetMidBlock2D` mid block (attention optional), SiLU,
 * "default" time-embedding injection (added after conv1), strided-conv down- and nearest+conv up-sampling, no
 * class conditioning. Everything else is refused by name.
 *
 * Source: huggingface/diffusers src/diffusers/models/unets/unet_2d.py (`UNet2DModel.__init__`),
 * unets/unet_2d_blocks.py (`get_down_block`, `get_up_block`, `DownBlock2D`, `AttnDownBlock2D`, `UNetMidBlock2D`,
 * `UpBlock2D`, `AttnUpBlock2D`), resnet.py (`ResnetBlock2D`), downsampling.py / upsampling.py (`Downsample2D`,
 * `Upsample2D`), attention_processor.py (`Attention`), embeddings.py (`TimestepEmbedding`,
 * `GaussianFourierProjection`), modeling_utils.py (`_convert_deprecated_attention_blocks`).
 *
 * @module
 */
import { sequenceS } from "fp-ts/lib/Apply.js";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../../core/errors.js";
import { isRecord } from "../../core/guards.js";
import type { Tensor } from "../../core/tensor.js";

/**
 * A supported down block: residual blocks only, or residual blocks each followed by self-attention.
 *
 * @category Networks
 */
export type Unet2DDownBlockType = "DownBlock2D" | "AttnDownBlock2D";

/**
 * A supported up block: residual blocks only, or residual blocks each followed by self-attention.
 *
 * @category Networks
 */
export type Unet2DUpBlockType = "UpBlock2D" | "AttnUpBlock2D";

/**
 * A validated `UNet2DModel` configuration. Each member names its `config.json` key; defaults are those of
 * `UNet2DModel.__init__`. With L = |blockOutChannels| levels, C₀ = blockOutChannels[0]: the time embedding has
 * T = timeEmbeddingDim channels; level i has blockOutChannels[i] channels; every level but the last halves the
 * resolution.
 *
 * @category Networks
 */
export interface Unet2DConfig {
  /** `sample_size` (default null): the [height, width] the model was trained on, each a multiple of 2^(L−1); an integer s means [s, s]. */
  readonly sampleSize: readonly [height: number, width: number] | null;
  /** `in_channels` (default 3): channels of the input sample, ≥ 1. */
  readonly inChannels: number;
  /** `out_channels` (default 3): channels of the output, ≥ 1. */
  readonly outChannels: number;
  /** `center_input_sample` (default false): when true the input x is replaced by 2x − 1. */
  readonly centerInputSample: boolean;
  /**
   * `time_embedding_type` (default "positional"): sinusoidal embedding of the timestep with C₀ channels, or
   * Gaussian Fourier features [sin 2πw·log t, cos 2πw·log t] with 2·C₀ channels (w a stored parameter of C₀
   * frequencies) after which the output is divided by t.
   */
  readonly timeEmbeddingType: "positional" | "fourier";
  /** `time_embedding_dim` (default null): T, the width of the time MLP; null means T = 4·C₀ (the value here is resolved). */
  readonly timeEmbeddingDim: number;
  /** `freq_shift` (default 0): the shift s in the positional frequencies exp(−ln(10⁴)·k/(C₀/2 − s)). */
  readonly freqShift: number;
  /** `flip_sin_to_cos` (default true): positional embedding ordered [cos, sin] rather than [sin, cos] (unused by "fourier"). */
  readonly flipSinToCos: boolean;
  /** `down_block_types` (default DownBlock2D, AttnDownBlock2D × 3): one per level. */
  readonly downBlockTypes: readonly Unet2DDownBlockType[];
  /** `mid_block_type` (default "UNetMidBlock2D"): resnet, optional attention, resnet at the lowest resolution. */
  readonly midBlockType: "UNetMidBlock2D";
  /** `up_block_types` (default AttnUpBlock2D × 3, UpBlock2D): one per level, deepest first. */
  readonly upBlockTypes: readonly Unet2DUpBlockType[];
  /** `block_out_channels` (default [224, 448, 672, 896]): channels per level, each ≥ 1. */
  readonly blockOutChannels: readonly number[];
  /** `layers_per_block` (default 2): residual blocks per down level (up levels have one more), ≥ 1. */
  readonly layersPerBlock: number;
  /** `mid_block_scale_factor` (default 1): the mid block's resnets and attention divide their output by it, > 0. */
  readonly midBlockScaleFactor: number;
  /** `downsample_padding` (default 1): padding of the stride-2 3×3 down-sampling conv; 0 pads right/bottom by 1 instead. */
  readonly downsamplePadding: number;
  /** `downsample_type` (default "conv"): a stride-2 3×3 convolution. */
  readonly downsampleType: "conv";
  /** `upsample_type` (default "conv"): nearest-neighbour ×2 then a 3×3 convolution. */
  readonly upsampleType: "conv";
  /** `dropout` (default 0): dropout probability in the resnets during training, in [0, 1]; no parameters. */
  readonly dropout: number;
  /** `act_fn` (default "silu"; "swish" is the same function): SiLU(x) = x·σ(x). */
  readonly actFn: "silu";
  /** `attention_head_dim` (default 8): channels per attention head, dividing every attention's channels; null means one head. */
  readonly attentionHeadDim: number | null;
  /** `norm_num_groups` (default 32): groups of every GroupNorm; divides every normalized channel count. */
  readonly normNumGroups: number;
  /** `attn_norm_num_groups` (default null): groups of the mid-block attention's GroupNorm; null means normNumGroups. */
  readonly attnNormNumGroups: number | null;
  /** `norm_eps` (default 1e-5): ε of every GroupNorm, > 0. */
  readonly normEps: number;
  /** `resnet_time_scale_shift` (default "default"): the time embedding is added after the first conv of each resnet. */
  readonly resnetTimeScaleShift: "default";
  /** `add_attention` (default true): whether the mid block has its attention layer. */
  readonly addAttention: boolean;
  /** `class_embed_type` (default null): no class embedding (the only supported value). */
  readonly classEmbedType: null;
  /** `num_class_embeds` (default null): no class embedding table (the only supported value). */
  readonly numClassEmbeds: null;
  /** `num_train_timesteps` (default null): recorded only (it sizes the unsupported "learned" embedding), integer ≥ 1 or null. */
  readonly numTrainTimesteps: number | null;
}

/**
 * One parameter of the model: its diffusers state-dict name and its shape (Conv2d [out, in, kh, kw], Linear
 * [out, in], GroupNorm and biases [C]).
 *
 * @category Networks
 */
export interface Unet2DParameter {
  /** State-dict name, e.g. `down_blocks.0.resnets.0.conv1.weight`. */
  readonly name: string;
  /** Shape, outermost first. */
  readonly shape: readonly number[];
}

const CONTEXT = "UNet2DModel config";
type Read<A> = E.Either<ScoreflowError, A>;
type Json = Readonly<Record<string, unknown>>;

const bad = (field: string, value: unknown, rule: string): E.Either<ScoreflowError, never> =>
  E.left(scoreflowError(CONTEXT, field, value, rule));

const isInt = (v: unknown, min: number): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= min;

/** Reads `key` from `json`, or `fallback` when absent. */
const field = <A>(
  json: Json,
  key: string,
  fallback: A,
  parse: (v: unknown) => A | undefined,
  rule: string,
): Read<A> => {
  if (!(key in json)) return E.right(fallback);
  const parsed = parse(json[key]);
  return parsed === undefined ? bad(key, json[key], rule) : E.right(parsed);
};

const int = (min: number) => (v: unknown) => (isInt(v, min) ? v : undefined);
const nullableInt = (min: number) => (v: unknown) => (v === null ? null : isInt(v, min) ? v : undefined);
const bool = (v: unknown) => (typeof v === "boolean" ? v : undefined);
const numberWhere = (ok: (x: number) => boolean) => (v: unknown) =>
  typeof v === "number" && Number.isFinite(v) && ok(v) ? v : undefined;
const finite = numberWhere(() => true);
const positive = numberWhere((x) => x > 0);
const probability = numberWhere((x) => x >= 0 && x <= 1);
const oneOf =
  <A extends string | null>(values: readonly A[]) =>
  (v: unknown): A | undefined =>
    values.find((a) => a === v);
const show = (values: readonly (string | null)[]): string => values.map((v) => JSON.stringify(v)).join(", ");

const DOWN: readonly Unet2DDownBlockType[] = ["DownBlock2D", "AttnDownBlock2D"];
const UP: readonly Unet2DUpBlockType[] = ["UpBlock2D", "AttnUpBlock2D"];

/** Every `config.json` key this module understands; any other key not starting with "_" is refused. */
const KEYS = [
  "sample_size",
  "in_channels",
  "out_channels",
  "center_input_sample",
  "time_embedding_type",
  "time_embedding_dim",
  "freq_shift",
  "flip_sin_to_cos",
  "down_block_types",
  "mid_block_type",
  "up_block_types",
  "block_out_channels",
  "layers_per_block",
  "mid_block_scale_factor",
  "downsample_padding",
  "downsample_type",
  "upsample_type",
  "dropout",
  "act_fn",
  "attention_head_dim",
  "norm_num_groups",
  "attn_norm_num_groups",
  "norm_eps",
  "resnet_time_scale_shift",
  "add_attention",
  "class_embed_type",
  "num_class_embeds",
  "num_train_timesteps",
] as const;

const listOf =
  <A>(item: (v: unknown) => A | undefined) =>
  (v: unknown): readonly A[] | undefined => {
    if (!Array.isArray(v) || v.length === 0) return undefined;
    const out = v.map(item);
    return out.every((a) => a !== undefined) ? (out as A[]) : undefined;
  };

const INT0 = "must be an integer ≥ 0";
const INT1 = "must be an integer ≥ 1";
const BOOL = "must be true or false";
const NULL_OR_INT1 = "must be null or an integer ≥ 1";
const sampleSize = (v: unknown): readonly [number, number] | null | undefined => {
  if (v === null) return null;
  if (isInt(v, 1)) return [v, v];
  return Array.isArray(v) && v.length === 2 && isInt(v[0], 1) && isInt(v[1], 1) ? [v[0], v[1]] : undefined;
};
const downBlocks: readonly Unet2DDownBlockType[] = [
  "DownBlock2D",
  "AttnDownBlock2D",
  "AttnDownBlock2D",
  "AttnDownBlock2D",
];
const upBlocks: readonly Unet2DUpBlockType[] = [
  "AttnUpBlock2D",
  "AttnUpBlock2D",
  "AttnUpBlock2D",
  "UpBlock2D",
];

/** Reads every field with its diffusers default; the first bad field, in `__init__` argument order, is the error. */
const readFields = (json: Json): Read<Unet2DConfig> => {
  const unknown = Object.keys(json).find(
    (k) => !k.startsWith("_") && !(KEYS as readonly string[]).includes(k),
  );
  if (unknown !== undefined) {
    return bad(
      unknown,
      json[unknown],
      `is not a UNet2DModel field this library supports (supported: ${KEYS.join(", ")})`,
    );
  }
  const blockList = <A extends string>(key: string, fallback: readonly A[], values: readonly A[]) =>
    field(
      json,
      key,
      fallback,
      listOf(oneOf(values)),
      `must be a non-empty list of ${show(values)} (supported)`,
    );
  const only = <A extends string | null>(key: string, value: A, why: string) =>
    field(json, key, value, oneOf([value]), `must be ${JSON.stringify(value)} (${why})`);
  const fields = sequenceS(E.Apply)({
    sampleSize: field(
      json,
      "sample_size",
      null,
      sampleSize,
      "must be null, an integer ≥ 1 or [height, width] of integers ≥ 1",
    ),
    inChannels: field(json, "in_channels", 3, int(1), INT1),
    outChannels: field(json, "out_channels", 3, int(1), INT1),
    centerInputSample: field(json, "center_input_sample", false, bool, BOOL),
    timeEmbeddingType: field(
      json,
      "time_embedding_type",
      "positional",
      oneOf(["positional", "fourier"] as const),
      `must be one of ${show(["positional", "fourier"])} (supported)`,
    ),
    timeEmbeddingDim: field(json, "time_embedding_dim", null, nullableInt(1), NULL_OR_INT1),
    freqShift: field(json, "freq_shift", 0, finite, "must be a finite number"),
    flipSinToCos: field(json, "flip_sin_to_cos", true, bool, BOOL),
    downBlockTypes: blockList("down_block_types", downBlocks, DOWN),
    midBlockType: only("mid_block_type", "UNetMidBlock2D" as const, "the only supported mid block"),
    upBlockTypes: blockList("up_block_types", upBlocks, UP),
    blockOutChannels: field(
      json,
      "block_out_channels",
      [224, 448, 672, 896],
      listOf(int(1)),
      "must be a non-empty list of integers ≥ 1",
    ),
    layersPerBlock: field(json, "layers_per_block", 2, int(1), INT1),
    midBlockScaleFactor: field(json, "mid_block_scale_factor", 1, positive, "must be a finite number > 0"),
    downsamplePadding: field(json, "downsample_padding", 1, int(0), INT0),
    downsampleType: only("downsample_type", "conv" as const, "supported"),
    upsampleType: only("upsample_type", "conv" as const, "supported"),
    dropout: field(json, "dropout", 0, probability, "must be a number in [0, 1]"),
    actFn: field(
      json,
      "act_fn",
      "silu" as const,
      (v) => (v === "silu" || v === "swish" ? ("silu" as const) : undefined),
      `must be one of ${show(["silu", "swish"])} (supported; both are SiLU)`,
    ),
    attentionHeadDim: field(json, "attention_head_dim", 8, nullableInt(1), NULL_OR_INT1),
    normNumGroups: field(json, "norm_num_groups", 32, int(1), INT1),
    attnNormNumGroups: field(json, "attn_norm_num_groups", null, nullableInt(1), NULL_OR_INT1),
    normEps: field(json, "norm_eps", 1e-5, positive, "must be a finite number > 0"),
    resnetTimeScaleShift: only("resnet_time_scale_shift", "default" as const, "supported"),
    addAttention: field(json, "add_attention", true, bool, BOOL),
    classEmbedType: only("class_embed_type", null, "class conditioning is not supported"),
    numClassEmbeds: only("num_class_embeds", null, "class conditioning is not supported"),
    numTrainTimesteps: field(json, "num_train_timesteps", null, nullableInt(1), NULL_OR_INT1),
  });
  return pipe(
    fields,
    E.map((c) => ({ ...c, timeEmbeddingDim: c.timeEmbeddingDim ?? 4 * c.blockOutChannels[0] })),
  );
};

/** A GroupNorm of the model: where it is, its channels, its group count and the config key that sets it. */
interface NormUse {
  readonly name: string;
  readonly channels: number;
  readonly groups: number;
  readonly groupsKey: string;
}

/** An attention layer of the model: its module path and its channels. */
interface AttentionUse {
  readonly name: string;
  readonly channels: number;
}

/** Everything the configuration implies: parameters in state-dict order, GroupNorms and attention layers. */
interface Layout {
  readonly parameters: readonly Unet2DParameter[];
  readonly norms: readonly NormUse[];
  readonly attentions: readonly AttentionUse[];
}

/**
 * Walks `UNet2DModel.__init__` for a configuration, module by module in registration order (so the
 * parameters come out in PyTorch state-dict order: within a block, attentions before resnets, as the
 * blocks register them).
 */
const layout = (c: Unet2DConfig): Layout => {
  const parameters: Unet2DParameter[] = [];
  const norms: NormUse[] = [];
  const attentions: AttentionUse[] = [];
  const T = c.timeEmbeddingDim;
  const param = (name: string, ...shape: number[]) => parameters.push({ name, shape });
  const linear = (name: string, out: number, inp: number) => {
    param(`${name}.weight`, out, inp);
    param(`${name}.bias`, out);
  };
  const conv = (name: string, out: number, inp: number, k: number) => {
    param(`${name}.weight`, out, inp, k, k);
    param(`${name}.bias`, out);
  };
  const groupNorm = (
    name: string,
    channels: number,
    groups = c.normNumGroups,
    groupsKey = "norm_num_groups",
  ) => {
    norms.push({ name, channels, groups, groupsKey });
    param(`${name}.weight`, channels);
    param(`${name}.bias`, channels);
  };
  // ResnetBlock2D: norm1, conv1, time_emb_proj, norm2, conv2, and a 1×1 conv_shortcut when cin ≠ cout.
  const resnet = (name: string, cin: number, cout: number) => {
    groupNorm(`${name}.norm1`, cin);
    conv(`${name}.conv1`, cout, cin, 3);
    linear(`${name}.time_emb_proj`, cout, T);
    groupNorm(`${name}.norm2`, cout);
    conv(`${name}.conv2`, cout, cout, 3);
    if (cin !== cout) conv(`${name}.conv_shortcut`, cout, cin, 1);
  };
  // Attention(_from_deprecated_attn_block=True, bias=True): group_norm, to_q, to_k, to_v, to_out.0.
  const attention = (name: string, channels: number, groups?: number, groupsKey?: string) => {
    attentions.push({ name, channels });
    groupNorm(`${name}.group_norm`, channels, groups, groupsKey);
    for (const proj of ["to_q", "to_k", "to_v", "to_out.0"]) linear(`${name}.${proj}`, channels, channels);
  };

  const C = c.blockOutChannels;
  const L = C.length;
  conv("conv_in", C[0], c.inChannels, 3);
  if (c.timeEmbeddingType === "fourier") param("time_proj.weight", C[0]);
  linear("time_embedding.linear_1", T, c.timeEmbeddingType === "fourier" ? 2 * C[0] : C[0]);
  linear("time_embedding.linear_2", T, T);

  for (let i = 0; i < L; i++) {
    const block = `down_blocks.${i}`;
    const cout = C[i];
    if (c.downBlockTypes[i] === "AttnDownBlock2D") {
      for (let j = 0; j < c.layersPerBlock; j++) attention(`${block}.attentions.${j}`, cout);
    }
    for (let j = 0; j < c.layersPerBlock; j++)
      resnet(`${block}.resnets.${j}`, j === 0 ? C[Math.max(i - 1, 0)] : cout, cout);
    if (i < L - 1) conv(`${block}.downsamplers.0.conv`, cout, cout, 3);
  }

  const deepest = C[L - 1];
  if (c.addAttention) {
    const groups = c.attnNormNumGroups ?? c.normNumGroups;
    attention(
      "mid_block.attentions.0",
      deepest,
      groups,
      c.attnNormNumGroups === null ? "norm_num_groups" : "attn_norm_num_groups",
    );
  }
  resnet("mid_block.resnets.0", deepest, deepest);
  resnet("mid_block.resnets.1", deepest, deepest);

  const R = [...C].reverse();
  for (let i = 0; i < L; i++) {
    const block = `up_blocks.${i}`;
    const prev = R[Math.max(i - 1, 0)];
    const cout = R[i];
    const skipIn = R[Math.min(i + 1, L - 1)];
    const layers = c.layersPerBlock + 1;
    if (c.upBlockTypes[i] === "AttnUpBlock2D") {
      for (let j = 0; j < layers; j++) attention(`${block}.attentions.${j}`, cout);
    }
    for (let j = 0; j < layers; j++) {
      const skip = j === layers - 1 ? skipIn : cout;
      resnet(`${block}.resnets.${j}`, (j === 0 ? prev : cout) + skip, cout);
    }
    if (i < L - 1) conv(`${block}.upsamplers.0.conv`, cout, cout, 3);
  }

  groupNorm("conv_norm_out", C[0]);
  conv("conv_out", c.outChannels, C[0], 3);
  return { parameters, norms, attentions };
};

/** Checks what ties fields together: equal block counts, GroupNorm and head divisibility, sample size. */
const checkStructure = (c: Unet2DConfig): Read<Unet2DConfig> => {
  const L = c.blockOutChannels.length;
  for (const [key, list] of [
    ["down_block_types", c.downBlockTypes],
    ["up_block_types", c.upBlockTypes],
  ] as const) {
    if (list.length !== L) {
      return E.left(
        scoreflowError(
          CONTEXT,
          key,
          list,
          "must have one entry per block_out_channels entry",
          `${key} has ${list.length}, block_out_channels has ${L}`,
        ),
      );
    }
  }
  const { norms, attentions } = layout(c);
  for (const n of norms) {
    if (n.channels % n.groups !== 0) {
      return E.left(
        scoreflowError(
          CONTEXT,
          n.groupsKey,
          n.groups,
          "must divide the channels of every GroupNorm",
          `${n.groupsKey}=${n.groups}, ${n.name} has ${n.channels} channels`,
        ),
      );
    }
  }
  const d = c.attentionHeadDim;
  const a = d === null ? undefined : attentions.find((x) => x.channels % d !== 0);
  if (a !== undefined) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "attention_head_dim",
        d,
        "must divide the channels of every attention layer",
        `attention_head_dim=${d}, ${a.name} has ${a.channels} channels`,
      ),
    );
  }
  const m = 2 ** (L - 1);
  if (c.sampleSize?.some((s) => s % m !== 0)) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "sample_size",
        c.sampleSize,
        `must be a multiple of 2^(levels − 1) = ${m} on both axes`,
      ),
    );
  }
  return E.right(c);
};

/**
 * Parses and validates a `UNet2DModel` configuration (the parsed `config.json` object). Absent keys take
 * `UNet2DModel.__init__`'s defaults; keys starting with "_" (`_class_name`, `_diffusers_version`, …) are
 * ignored; any other unknown key, or a value outside what is supported, is a `Left` naming the key and what is
 * supported. Beyond each field: down_block_types, up_block_types and block_out_channels have the same length;
 * norm_num_groups (attn_norm_num_groups for the mid attention) divides the channels of every GroupNorm, skip
 * concatenations included; attention_head_dim divides the channels of every attention layer; sample_size is a
 * multiple of 2^(L − 1).
 *
 * Source: diffusers unets/unet_2d.py `UNet2DModel.__init__`; unets/unet_2d_blocks.py.
 *
 * @category Networks
 */
export const unet2DConfig = (json: unknown): E.Either<ScoreflowError, Unet2DConfig> => {
  if (!isRecord(json)) return bad("config", json, "must be a JSON object");
  const fields = readFields(json);
  return E.isLeft(fields) ? fields : checkStructure(fields.right);
};

/**
 * {@link unet2DConfig} on the text of a `config.json`; invalid JSON is a `Left`.
 *
 * @category Networks
 */
export const unet2DConfigFromJson = (text: string): E.Either<ScoreflowError, Unet2DConfig> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return bad("config.json", text.slice(0, 60), `must be valid JSON (${(e as Error).message})`);
  }
  return unet2DConfig(json);
};

/**
 * The parameters a configuration implies, with diffusers' state-dict names and PyTorch shapes, in state-dict
 * order. With T the time-embedding width and C_in, C_out a resnet's channels:
 * conv_in [C₀, in, 3, 3]; time_proj.weight [C₀] ("fourier" only); time_embedding.linear_1 [T, C₀ or 2C₀],
 * linear_2 [T, T]; each resnet norm1 [C_in], conv1 [C_out, C_in, 3, 3], time_emb_proj [C_out, T], norm2 [C_out],
 * conv2 [C_out, C_out, 3, 3], conv_shortcut [C_out, C_in, 1, 1] when C_in ≠ C_out; each attention group_norm,
 * to_q, to_k, to_v, to_out.0 over its C channels ([C, C] weights); downsamplers.0.conv / upsamplers.0.conv
 * [C, C, 3, 3] on every level but the last; up-block resnet j of level i takes C_in = (j = 0 ? previous level's
 * channels : C) + (skip: the level below's channels for the last j, C otherwise); conv_norm_out [C₀];
 * conv_out [out, C₀, 3, 3]; every weight with its bias.
 *
 * Source: diffusers unets/unet_2d.py, unets/unet_2d_blocks.py, resnet.py, attention_processor.py, embeddings.py.
 *
 * @category Networks
 */
export const unet2DParameters = (config: Unet2DConfig): readonly Unet2DParameter[] =>
  layout(config).parameters;

/** Old attention names (diffusers < 0.14 `AttentionBlock`) and their current names. */
const DEPRECATED_ATTENTION = [
  ["query", "to_q"],
  ["key", "to_k"],
  ["value", "to_v"],
  ["proj_attn", "to_out.0"],
] as const;

const listed = (label: string, names: readonly string[]): string[] =>
  names.length === 0
    ? []
    : [`${label} (${names.length}): ${names.slice(0, 5).join(", ")}${names.length > 5 ? ", …" : ""}`];

/**
 * Checks a checkpoint's tensors against the parameters a configuration implies and returns them under their
 * current names, in state-dict order. Attention weights saved under the pre-0.14 names (`query`, `key`,
 * `value`, `proj_attn`) are renamed to `to_q`, `to_k`, `to_v`, `to_out.0` first, as diffusers does on load. A
 * missing, unexpected or mis-shaped tensor is a `Left` whose message names them (up to five of each kind) and
 * whose `value` holds the complete lists `{ missing, unexpected, misshaped }`.
 *
 * Source: diffusers modeling_utils.py `_convert_deprecated_attention_blocks`, `load_state_dict` strictness.
 *
 * @category Networks
 */
export const checkUnet2DCheckpoint = (
  config: Unet2DConfig,
  tensors: ReadonlyMap<string, Tensor>,
): E.Either<ScoreflowError, ReadonlyMap<string, Tensor>> => {
  const { parameters, attentions } = layout(config);
  const named = new Map(tensors);
  for (const { name } of attentions) {
    for (const [old, current] of DEPRECATED_ATTENTION) {
      for (const suffix of ["weight", "bias"]) {
        const from = `${name}.${old}.${suffix}`;
        const to = `${name}.${current}.${suffix}`;
        const t = named.get(from);
        if (t !== undefined && !named.has(to)) {
          named.delete(from);
          named.set(to, t);
        }
      }
    }
  }
  const expected = new Set(parameters.map((p) => p.name));
  const missing = parameters.filter((p) => !named.has(p.name)).map((p) => p.name);
  const unexpected = [...named.keys()].filter((k) => !expected.has(k));
  const misshaped = parameters
    .filter((p) => {
      const t = named.get(p.name);
      return (
        t !== undefined && (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i]))
      );
    })
    .map((p) => `${p.name} [${named.get(p.name)!.shape.join(", ")}] (expected [${p.shape.join(", ")}])`);
  if (missing.length + unexpected.length + misshaped.length > 0) {
    return E.left(
      scoreflowError(
        "UNet2DModel checkpoint",
        "tensors",
        { missing, unexpected, misshaped },
        `must match the ${parameters.length} parameters the config implies`,
        [
          ...listed("missing", missing),
          ...listed("unexpected", unexpected),
          ...listed("wrong shape", misshaped),
        ].join("; "),
      ),
    );
  }
  return E.right(new Map(parameters.map((p) => [p.name, named.get(p.name)!])));
};
