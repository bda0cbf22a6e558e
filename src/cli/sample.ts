/**
 * `scoreflow sample`: draws from a trained model with any sampler family and writes a PNG — a grid of images for
 * image models, a scatter plot for 2-D models.
 *
 * @module
 */
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { foldIn, rngKey } from "../core/rng.js";
import type { Tensor } from "../core/tensor.js";
import { samplerModel } from "../nets/score-model.js";
import { samplerModelWebgpu } from "../nets/webgpu/sampler-model.js";
import { writePng } from "../node/datasets.js";
import { imageGrid } from "../plot/grid.js";
import { scatterPlot, symmetricRange } from "../plot/scatter.js";
import { runWithAsyncModel } from "../samplers/async-model.js";
import { tensorBatchSpace } from "../samplers/batch-space.js";
import {
  SAMPLER_FAMILIES,
  type SamplerFamily,
  samplerFamilyInfo,
  samplerFamilySteps,
} from "../samplers/families.js";
import type { DiffusionModel } from "../samplers/model.js";
import { collectSolution } from "../solvers/solution.js";
import { discreteChain, sdeByName } from "../train/description.js";
import { cliFailure, orFail } from "./failure.js";
import { exists, loadModel, startCompute } from "./models.js";

/** The flags of `scoreflow sample`. */
export interface SampleFlags {
  /** `--model`. */
  readonly model: string;
  /** `--sampler`. */
  readonly sampler: string;
  /** `--steps`. */
  readonly steps?: number;
  /** `--n`. */
  readonly n: number;
  /** `--seed`. */
  readonly seed: number;
  /** `--out`. */
  readonly out: string;
  /** `--force`. */
  readonly force: boolean;
  /** `--backend`. */
  readonly backend: string;
  /** `--threads`: threads for the webasm kernels. */
  readonly threads: number;
}

/** A picture of samples: a grid of images, or a scatter plot of 2-D points on their own range. */
const picture = (y: Tensor, title: string) => {
  // Each image upscaled to about 64 px, so small digits stay visible.
  if (y.shape.length === 4)
    return imageGrid(y, Math.ceil(Math.sqrt(y.shape[0])), 2, Math.max(1, Math.round(64 / y.shape[2])));
  return scatterPlot(y, { size: 384, range: symmetricRange(y), title });
};

/** Runs `scoreflow sample`. */
export const runSample = async (flags: SampleFlags): Promise<void> => {
  if (!(SAMPLER_FAMILIES as readonly string[]).includes(flags.sampler))
    throw cliFailure(`--sampler must be one of ${SAMPLER_FAMILIES.join(", ")}, got "${flags.sampler}"`);
  const family = flags.sampler as SamplerFamily;
  if ((await exists(flags.out)) && !flags.force)
    throw cliFailure(`${flags.out} already exists; add --force to replace it`);
  const loaded = await loadModel(flags.model);
  const { kernels, gpu, label } = await startCompute(flags.backend, flags.threads, true);
  const space = tensorBatchSpace<Float32Array>();
  const key = orFail(rngKey(flags.seed));
  const shape = [flags.n, ...loaded.model.network.sampleShape];
  const noise = space.normalLike(foldIn(key, 0), {
    shape,
    data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
  });
  const info = samplerFamilyInfo[family];
  const steps = flags.steps ?? info.defaultSteps;
  const sde = orFail(sdeByName(loaded.description.sde));
  // The family's run around a model: the chain's model (DDPM, DDIM) derives from it.
  const familyRun = (model: DiffusionModel<Tensor>) =>
    E.flatMap(discreteChain(loaded.description, model), (chain) =>
      samplerFamilySteps(family, {
        space,
        model,
        sde,
        schedule: chain.schedule,
        discreteModel: chain.model,
        noise,
        key: foldIn(key, 1),
        steps,
      }),
    );
  const t0 = performance.now();
  // On the GPU the sampler replays over the network's asynchronous forward passes (see asyncModelSteps).
  const solution =
    gpu === undefined
      ? E.flatMap(familyRun(samplerModel(kernels, loaded.model, loaded.ema)), (run) =>
          collectSolution(run.steps, run.start.t, run.start.y),
        )
      : await runWithAsyncModel(samplerModelWebgpu(gpu, loaded.model, loaded.ema), familyRun);
  if (E.isLeft(solution)) throw cliFailure(`${info.title}: ${solution.left.message}`);
  const { y, nfe } = solution.right;
  const seconds = (performance.now() - t0) / 1000;
  await mkdir(dirname(flags.out), { recursive: true });
  orFail(await writePng(flags.out, picture(y, `${info.title}, NFE ${nfe}`)));
  process.stdout.write(
    `${flags.n} samples, ${info.title}, ${family === "pf-rk45" ? "adaptive" : `${steps} steps`}, NFE ${nfe}, ${seconds.toFixed(1)} s on ${label} → ${flags.out}\n`,
  );
};
