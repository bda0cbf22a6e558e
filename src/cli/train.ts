/**
 * `scoreflow train`: a training run with checkpoints (every `checkpointEvery` steps and at the end), a JSON-lines
 * log and a progress bar; `--resume` continues the run in `--out` exactly where its last checkpoint left it.
 *
 * @module
 */
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { rngKey } from "../core/rng.js";
import type { Tensor } from "../core/tensor.js";
import { saveCheckpoint } from "../node/checkpoint.js";
import type { Parameterization } from "../sde/parameterization.js";
import { type TrainConfig, trainConfig, trainConfigFromJson } from "../train/config.js";
import {
  buildScoreModel,
  type ModelDescription,
  SDE_NAMES,
  type SdeName,
  sdeByName,
} from "../train/description.js";
import { trainSteps, trainStepsWebgpu } from "../train/loop.js";
import { denoisingLoss, type LossWeighting, type TrainingLoss } from "../train/losses.js";
import { initTrainState, type TrainState } from "../train/state.js";
import { cliFailure, orFail } from "./failure.js";
import { dataRms, defaultNetwork, edmSetup, exists, loadData, loadModel, startCompute } from "./models.js";
import { progress } from "./progress.js";

/** The flags of `scoreflow train`. */
export interface TrainFlags {
  /** `--data`. */
  readonly data: string;
  /** `--model`. */
  readonly model?: string;
  /** `--sde`. */
  readonly sde: string;
  /** `--loss`. */
  readonly loss: string;
  /** `--parameterization`. */
  readonly parameterization: string;
  /** `--steps`. */
  readonly steps: number;
  /** `--batch`. */
  readonly batch?: number;
  /** `--lr`. */
  readonly lr?: number;
  /** `--seed`. */
  readonly seed: number;
  /** `--checkpoint-every`. */
  readonly checkpointEvery?: number;
  /** `--config`. */
  readonly config?: string;
  /** `--out`. */
  readonly out: string;
  /** `--resume`. */
  readonly resume: boolean;
  /** `--force`. */
  readonly force: boolean;
  /** `--backend`. */
  readonly backend: string;
  /** `--threads`: threads for the webasm kernels. */
  readonly threads: number;
}

const LOSSES = ["edm", "simple", "sigma2", "likelihood"] as const;
const PARAMETERIZATIONS: readonly Parameterization[] = ["eps", "x0", "v", "score"];

/** The run's settings: `--config` JSON first, flags over it. */
const settings = async (flags: TrainFlags, image: boolean): Promise<TrainConfig> => {
  let base: Partial<TrainConfig> = {};
  if (flags.config !== undefined) {
    const text = await readFile(flags.config, "utf8").catch(() => undefined);
    if (text === undefined) throw cliFailure(`--config ${flags.config} is not a readable file`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw cliFailure(`--config ${flags.config} is not valid JSON`);
    }
    base = orFail(trainConfigFromJson({ ...(await defaults(flags, image)), ...(json as object) }));
  }
  const lr = flags.lr ?? base.optimizer?.lr ?? (image ? 2e-4 : 2e-3);
  const steps = flags.steps;
  return orFail(
    trainConfig({
      ...base,
      steps,
      batchSize: flags.batch ?? base.batchSize ?? (image ? 32 : 256),
      optimizer: {
        lr,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: 0,
        decoupled: false,
        ...base.optimizer,
      },
      schedule: base.schedule ?? {
        kind: "warmupCosine",
        baseLr: lr,
        warmupSteps: Math.min(100, Math.floor(steps / 10)),
        totalSteps: steps,
        minLr: lr / 20,
      },
      seed: flags.seed,
      checkpointEvery: flags.checkpointEvery ?? base.checkpointEvery ?? 1000,
      logEvery: base.logEvery ?? 10,
    }),
  );
};

/** The JSON form of the defaults, completed by a partial `--config` file. */
const defaults = async (flags: TrainFlags, image: boolean) =>
  JSON.parse(JSON.stringify(orFail(trainConfig({ steps: flags.steps, batchSize: image ? 32 : 256 }))));

/** The loss and the model's meaning for `--loss` and `--parameterization`. */
const lossAndOutput = (
  flags: TrainFlags,
  sdeName: SdeName,
  sigmaData: number,
  image: boolean,
): { readonly loss: TrainingLoss; readonly output: ModelDescription["output"] } => {
  if (!(LOSSES as readonly string[]).includes(flags.loss))
    throw cliFailure(`--loss must be one of ${LOSSES.join(", ")}, got "${flags.loss}"`);
  if (flags.loss === "edm") return edmSetup(sigmaData);
  const parameterization = flags.parameterization as Parameterization;
  if (!PARAMETERIZATIONS.includes(parameterization))
    throw cliFailure(
      `--parameterization must be one of ${PARAMETERIZATIONS.join(", ")}, got "${flags.parameterization}"`,
    );
  const sde = orFail(sdeByName(sdeName));
  return {
    loss: orFail(denoisingLoss(sde, flags.loss as LossWeighting)),
    // UNet2DModel's positional embedding expects DDPM-like timesteps (0 … 1000); the MLP's Fourier features t itself.
    output: { kind: "time", parameterization, timeScale: image ? 1000 : 1 },
  };
};

/** Everything a run needs, fresh or resumed. */
interface Run {
  readonly description: ModelDescription;
  readonly config: TrainConfig;
  readonly state: TrainState | undefined;
  readonly loss: TrainingLoss;
  readonly data: Tensor;
}

/** A new run in `--out` (which must not exist unless `--force`). */
const freshRun = async (flags: TrainFlags): Promise<Run> => {
  if (await exists(flags.out)) {
    if (!flags.force)
      throw cliFailure(`${flags.out} already exists; add --force to replace it or --resume to continue it`);
    await rm(flags.out, { recursive: true, force: true });
  }
  const { data, description: dataDescription } = await loadData(flags.data, orFail(rngKey(flags.seed)));
  const image = data.shape.length === 4;
  const { loss, output } = lossAndOutput(flags, flags.sde as SdeName, dataRms(data), image);
  const description: ModelDescription = {
    network: defaultNetwork(data.shape.slice(1), flags.model),
    output,
    sde: flags.sde as SdeName,
    data: dataDescription,
  };
  return { description, config: await settings(flags, image), state: undefined, loss, data };
};

/** The run in `--out`, continued from its checkpoint to `--steps` (or its own step count, if larger). */
const resumedRun = async (flags: TrainFlags): Promise<Run> => {
  const loaded = await loadModel(flags.out);
  if (loaded.checkpoint === undefined)
    throw cliFailure(`--resume needs a checkpoint in ${flags.out}, not an exported model`);
  const { description } = loaded;
  const { state } = loaded.checkpoint;
  const config = orFail(
    trainConfig({ ...loaded.checkpoint.config, steps: Math.max(flags.steps, state.step) }),
  );
  const { output } = description;
  const edm = output.kind === "denoiser" && output.preconditioning.kind === "edm";
  const sigmaData = edm ? output.preconditioning.sigmaData : 1;
  const { data } = await loadData(dataFlag(description), orFail(rngKey(config.seed)));
  const { loss } = lossAndOutput(
    { ...flags, loss: edm ? "edm" : flags.loss },
    description.sde,
    sigmaData,
    data.shape.length === 4,
  );
  return { description, config, state, loss, data };
};

/** Runs `scoreflow train`. */
export const runTrain = async (flags: TrainFlags): Promise<void> => {
  if (!(SDE_NAMES as readonly string[]).includes(flags.sde))
    throw cliFailure(`--sde must be one of ${SDE_NAMES.join(", ")}, got "${flags.sde}"`);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const run = flags.resume ? await resumedRun(flags) : await freshRun(flags);
  const { description, config, loss, data } = run;
  const model = orFail(buildScoreModel(description));
  let state = run.state ?? orFail(initTrainState(model.network, config));
  if (run.state !== undefined) log(`resuming ${flags.out} at step ${state.step} of ${config.steps}`);
  const { kernels, gpu, label } = await startCompute(flags.backend, flags.threads, true);
  const parameters = model.network.parameters.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  log(
    `training ${model.network.name} (${parameters.toLocaleString("en")} parameters) on ${data.shape[0]} examples of shape [${data.shape.slice(1).join(", ")}], backend ${label}`,
  );
  await mkdir(flags.out, { recursive: true });
  const bar = progress({
    total: config.steps,
    start: state.step,
    batchSize: config.batchSize,
    logEvery: config.logEvery,
    logPath: join(flags.out, "train.jsonl"),
    label: "training",
  });
  const save = async (s: TrainState) =>
    orFail(await saveCheckpoint(flags.out, { config, state: s, model: description as never }));
  const steps =
    gpu === undefined
      ? trainSteps(kernels, model, loss, config, state, data)
      : trainStepsWebgpu(gpu, model, loss, config, state, data);
  for await (const step of steps) {
    if (E.isLeft(step)) {
      bar.stop();
      throw cliFailure(`${step.left.message} (the last checkpoint in ${flags.out} is intact)`);
    }
    state = step.right.state;
    bar.update(step.right.metrics);
    if (state.step % config.checkpointEvery === 0) await save(state);
  }
  bar.stop();
  await save(state);
  log(`saved ${flags.out} at step ${state.step}; sample it with: npx scoreflow sample --model ${flags.out}`);
};

/** The `--data` value that reloads a checkpoint's training data. */
const dataFlag = (d: ModelDescription): string =>
  d.data.kind === "toy"
    ? d.data.name
    : d.data.kind === "mnist"
      ? d.data.downsample === 2
        ? "mnist16"
        : "mnist"
      : d.data.directory;
