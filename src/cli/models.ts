/**
 * What the commands share about data and models: loading a dataset by name (a 2-D toy, MNIST or a directory of
 * PNG images), the default network for its shape, and loading a checkpoint back into a sampler-ready model.
 *
 * @module
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import { foldIn, type RngKey } from "../core/rng.js";
import type { Tensor } from "../core/tensor.js";
import { isToyName, TOY_NAMES, toyDataset } from "../data/toys.js";
import { type BackendRequest, createBackend, isSoftwareRenderer, type NetBackend } from "../nets/backend.js";
import { checkParameters, type Parameters } from "../nets/network.js";
import type { ScoreModel } from "../nets/score-model.js";
import { type NetKernels, netKernels } from "../nets/tape.js";
import { type WebgpuNetKernels, webgpuNetKernels } from "../nets/webgpu/device.js";
import { type Checkpoint, loadCheckpoint } from "../node/checkpoint.js";
import { loadMnist, loadPngDirectory } from "../node/datasets.js";
import { createKernelThreads } from "../node/kernel-threads.js";
import { loadModelFile } from "../node/model-file.js";
import { installDawn } from "../node/webgpu.js";
import {
  buildScoreModel,
  type DataDescription,
  type ModelDescription,
  type NetworkDescription,
} from "../train/description.js";
import { edmLossForData, type TrainingLoss } from "../train/losses.js";
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

/** The EDM setup for data of RMS σ_data: the preconditioned denoiser and its loss (`edmLossForData`). */
export const edmSetup = (
  sigmaData: number,
): { readonly loss: TrainingLoss; readonly output: ModelDescription["output"] } => ({
  loss: orFail(edmLossForData(sigmaData)),
  output: { kind: "denoiser", preconditioning: { kind: "edm", sigmaData } },
});

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

/** A trained model with its rebuilt network and checked weights, from a checkpoint or an exported model. */
export interface LoadedModel {
  /** The checkpoint, when `--model` is one (resuming needs it); absent for an exported model. */
  readonly checkpoint: Checkpoint | undefined;
  /** Its description. */
  readonly description: ModelDescription;
  /** The network with its meaning. */
  readonly model: ScoreModel;
  /** The weights to sample with (a checkpoint's EMA weights), checked against the network. */
  readonly ema: Parameters;
  /** Where the weights came from: the training step and run settings. */
  readonly provenance: Provenance;
}

/** Where a model's weights came from. */
export interface Provenance {
  /** Steps trained. */
  readonly step: number;
  /** Steps of the run. */
  readonly steps: number;
  /** Minibatch size. */
  readonly batchSize: number;
  /** Seed of the run. */
  readonly seed: number;
  /** The command that trained it, when recorded. */
  readonly command?: string;
}

/** The directory of the MNIST model shipped with the package. */
export const SHIPPED_MNIST = fileURLToPath(new URL("../../models/mnist", import.meta.url));

/** The checkpoint, or the exported model, in a directory (whichever it holds). */
const readModelDirectory = async (
  path: string,
): Promise<
  E.Either<
    { readonly message: string },
    Omit<LoadedModel, "model" | "ema"> & { readonly weights: Parameters }
  >
> => {
  if (await exists(join(path, "state.json"))) {
    const c = await loadCheckpoint(path);
    if (E.isLeft(c)) return c;
    const { config, state } = c.right;
    return E.right({
      checkpoint: c.right,
      description: c.right.model as unknown as ModelDescription,
      weights: state.ema,
      provenance: { step: state.step, steps: config.steps, batchSize: config.batchSize, seed: config.seed },
    });
  }
  const m = await loadModelFile(path);
  if (E.isLeft(m))
    return E.left({ message: `${m.left.message} (and there is no ${join(path, "state.json")})` });
  return E.right({
    checkpoint: undefined,
    description: m.right.model as unknown as ModelDescription,
    weights: m.right.weights,
    provenance: m.right.provenance as unknown as Provenance,
  });
};

/** Loads `--model`: a checkpoint directory, an exported model directory, or `mnist` for the shipped model. */
export const loadModel = async (dir: string): Promise<LoadedModel> => {
  const path = dir === "mnist" ? SHIPPED_MNIST : dir;
  const read = await readModelDirectory(path);
  if (E.isLeft(read)) throw cliFailure(`--model ${dir}: ${read.left.message}`);
  const { description, weights } = read.right;
  const model = buildScoreModel(description);
  if (E.isLeft(model))
    throw cliFailure(`--model ${dir} describes no model this version builds (${model.left.message})`);
  const ema = orFail(checkParameters(model.right.network, weights));
  return { ...read.right, model: model.right, ema };
};

/** Whether a path exists. */
export const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** A command's compute: the backend, the kernels of its ops, the GPU's when it runs the passes, and their names. */
export interface Compute {
  /** The backend of the synchronous ops. */
  readonly backend: NetBackend;
  /** The ops' kernels. */
  readonly kernels: NetKernels;
  /** The GPU's kernels, when they run the networks' passes of `sample` and `train`. */
  readonly gpu: WebgpuNetKernels | undefined;
  /** Why the GPU does not run them, when it was considered and does not. */
  readonly gpuPassedOver: string | undefined;
  /** «webasm, 2 threads», «cpu», «webgpu (nvidia …) for the network's passes, webasm, 2 threads for the rest». */
  readonly label: string;
}

/** The GPU for the networks' passes: Dawn's adapter, or why there is none to use. */
const startGpu = async (
  request: string,
): Promise<E.Either<string, { readonly kernels: WebgpuNetKernels; readonly adapter: string }>> => {
  const adapter = await installDawn();
  if (E.isLeft(adapter)) return E.left(adapter.left.message);
  if (request === "auto" && isSoftwareRenderer(adapter.right))
    return E.left(
      `its adapter is software (${adapter.right}), slower than WebAssembly SIMD on the same cores`,
    );
  return E.right({
    kernels: orFail(webgpuNetKernels(orFail(await createBackend("webgpu")))),
    adapter: adapter.right,
  });
};

/**
 * Starts the backend of `--backend` and its kernels; on webasm, `--threads` > 1 splits the convolutions' and
 * linear layers' products over that many threads (results are bit-identical to one thread). The helper threads
 * do not keep the process alive. For the commands whose network passes can run on the GPU (`gpuPasses`:
 * sample, train, info), `--backend webgpu` installs Dawn (`installDawn`) and runs them there, and `auto` does
 * so when a hardware adapter answers (saying why not otherwise); the synchronous ops take auto's choice. For
 * the others, or where no adapter answers, webgpu is a usage error that says why.
 */
export const startCompute = async (request: string, threads: number, gpuPasses = false): Promise<Compute> => {
  if (request === "webgpu" && !gpuPasses)
    throw cliFailure(
      "--backend webgpu serves sample, train and info; demo and likelihood need the synchronous ops of webasm or cpu",
    );
  const gpu = gpuPasses && (request === "webgpu" || request === "auto") ? await startGpu(request) : undefined;
  if (request === "webgpu" && gpu !== undefined && E.isLeft(gpu))
    throw cliFailure(`--backend webgpu: ${gpu.left}`);
  const backend = orFail(await createBackend((request === "webgpu" ? "auto" : request) as BackendRequest));
  const helpers =
    backend.mode === "webasm" && threads > 1 ? orFail(createKernelThreads(threads - 1)) : undefined;
  const kernels = orFail(netKernels(backend, helpers));
  const cpu = `${backend.mode}${helpers === undefined ? "" : `, ${threads} threads`}`;
  return gpu !== undefined && E.isRight(gpu)
    ? {
        backend,
        kernels,
        gpu: gpu.right.kernels,
        gpuPassedOver: undefined,
        label: `webgpu (${gpu.right.adapter}) for the network's passes, ${cpu} for the rest`,
      }
    : {
        backend,
        kernels,
        gpu: undefined,
        gpuPassedOver: gpu === undefined ? undefined : gpu.left,
        label: cpu,
      };
};
