/**
 * What the commands share about data and models: loading a dataset by name (a 2-D toy, MNIST or a directory of
 * PNG images), the default network for its shape, and loading a checkpoint back into a sampler-ready model.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import { foldIn, type RngKey } from "../core/rng.js";
import type { Tensor } from "../core/tensor.js";
import { isToyName, TOY_NAMES, toyDataset } from "../data/toys.js";
import { checkParameters, type Parameters } from "../nets/network.js";
import type { ScoreModel } from "../nets/score-model.js";
import { type Checkpoint, loadCheckpoint } from "../node/checkpoint.js";
import { loadMnist, loadPngDirectory } from "../node/datasets.js";
import {
  buildScoreModel,
  type DataDescription,
  type ModelDescription,
  type NetworkDescription,
} from "./description.js";
import { cliFailure, orFail } from "./failure.js";

/** A loaded training set and how to describe it. */
export interface LoadedData {
  /** The examples, [M, ...sampleShape]. */
  readonly data: Tensor;
  /** Where they came from. */
  readonly description: DataDescription;
}

/** Training points drawn for a toy. */
const TOY_TRAINING_POINTS = 50_000;

/** The MNIST variants of `--data`: 28×28 padded to 32×32, or 2×2-averaged to 14×14 and padded to 16×16. */
const MNIST = {
  mnist: { pad: 2, downsample: 1 },
  mnist16: { pad: 1, downsample: 2 },
} as const;

/**
 * Loads `--data`: a toy name (50 000 points from `key`), `mnist` (60 000 digits padded to 32×32), `mnist16` (the
 * same, 14×14 padded to 16×16), or a directory of PNG images.
 */
export const loadData = async (name: string, key: RngKey): Promise<LoadedData> => {
  if (isToyName(name))
    return {
      data: orFail(toyDataset(name, foldIn(key, 1), TOY_TRAINING_POINTS)),
      description: { kind: "toy", name },
    };
  if (name === "mnist" || name === "mnist16") {
    const options = MNIST[name];
    const mnist = orFail(await loadMnist("train", options));
    return { data: mnist.images, description: { kind: "mnist", ...options } };
  }
  const dir = await loadPngDirectory(name);
  if (E.isLeft(dir))
    throw cliFailure(
      `--data must be a toy (${TOY_NAMES.join(", ")}), mnist, mnist16 or a directory of PNG images: ${dir.left.message}`,
    );
  return { data: dir.right.images, description: { kind: "png", directory: name } };
};

/** The root-mean-square of the data, σ_data of EDM's preconditioning. */
export const dataRms = (data: Tensor): number =>
  Math.sqrt(data.data.reduce((a, v) => a + v * v, 0) / data.data.length);

/**
 * The default network for a sample shape: an MLP for vectors [D]; for images [C, H, W] a small UNet2DModel
 * (block_out_channels [32, 64], one ResNet per level, GroupNorm of 8 groups, attention at the lower resolution
 * when it has at least 16×16 tokens — below that a 3×3 conv already sees most of the image).
 */
export const defaultNetwork = (
  sampleShape: readonly number[],
  kind: string | undefined,
): NetworkDescription => {
  const image = sampleShape.length === 3;
  const chosen = kind ?? (image ? "unet" : "mlp");
  if (chosen === "mlp") {
    if (image) throw cliFailure("--model mlp needs vector data (a 2-D toy); use --model unet for images");
    return {
      kind: "mlp",
      config: { dataDim: sampleShape[0], width: 128, blocks: 3, frequencies: 16, fourierScale: 1 },
    };
  }
  if (chosen !== "unet") throw cliFailure(`--model must be mlp or unet, got "${chosen}"`);
  if (!image) throw cliFailure("--model unet needs images [C, H, W]; use --model mlp for 2-D toys");
  const [c, h, w] = sampleShape;
  const attention = h >= 32 && w >= 32;
  return {
    kind: "unet",
    sampleSize: [h, w],
    config: {
      in_channels: c,
      out_channels: c,
      block_out_channels: [32, 64],
      layers_per_block: 1,
      down_block_types: ["DownBlock2D", attention ? "AttnDownBlock2D" : "DownBlock2D"],
      up_block_types: [attention ? "AttnUpBlock2D" : "UpBlock2D", "UpBlock2D"],
      norm_num_groups: 8,
      attention_head_dim: 8,
    },
  };
};

/** A checkpoint with its rebuilt model and checked weights. */
export interface LoadedModel {
  /** The checkpoint as stored. */
  readonly checkpoint: Checkpoint;
  /** Its description. */
  readonly description: ModelDescription;
  /** The network with its meaning. */
  readonly model: ScoreModel;
  /** The EMA weights, checked against the network. */
  readonly ema: Parameters;
}

/** The directory of the MNIST model shipped with the package. */
export const SHIPPED_MNIST = fileURLToPath(new URL("../../models/mnist", import.meta.url));

/** Loads `--model`: a checkpoint directory, or `mnist` for the shipped model. */
export const loadModel = async (dir: string): Promise<LoadedModel> => {
  const path = dir === "mnist" ? SHIPPED_MNIST : dir;
  const checkpoint = await loadCheckpoint(path);
  if (E.isLeft(checkpoint)) throw cliFailure(`--model ${dir}: ${checkpoint.left.message}`);
  const description = checkpoint.right.model as unknown as ModelDescription;
  const model = buildScoreModel(description);
  if (E.isLeft(model))
    throw cliFailure(
      `--model ${dir}: ${join(path, "state.json")} describes no model this version builds (${model.left.message})`,
    );
  const ema = orFail(checkParameters(model.right.network, checkpoint.right.state.ema));
  return { checkpoint: checkpoint.right, description, model: model.right, ema };
};
