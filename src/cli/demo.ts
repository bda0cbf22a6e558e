/**
 * `scoreflow demo`, the main job: train the MLP score model on a 2-D toy (EDM loss and preconditioning), then
 * sample it with every sampler family from the same noise and write out/demo/:
 * - `data.png` (held-out data), `forward.png` (the VP forward process q(x_t | x₀) at six times),
 * - one `sampler-<name>.png` per family and `gallery.png` with all of them side by side,
 * - `report.md` / `report.json`: steps, NFE, wall time and the sliced W₂ of each sampler's points to 50 000
 *   held-out data points (10 000 with --quick), next to the floor: the mean (and spread) of the same distance for fresh data draws of
 *   the sampler's size — what a perfect sampler scores, its points being a finite draw too,
 * - `train.jsonl` (the loss log) and `model/` (a checkpoint `scoreflow sample --model out/demo/model` reads).
 *
 * @module
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { foldIn, type RngKey, rngKey } from "../core/rng.js";
import type { Tensor, Tensor64 } from "../core/tensor.js";
import { isToyName, TOY_NAMES, toyDataset } from "../data/toys.js";
import { slicedWasserstein2 } from "../metrics/index.js";
import type { BackendRequest } from "../nets/backend.js";
import { samplerModel } from "../nets/score-model.js";
import { saveCheckpoint } from "../node/checkpoint.js";
import { writePng } from "../node/datasets.js";
import { gallery } from "../plot/grid.js";
import type { Raster } from "../plot/raster.js";
import { scatterPlot, symmetricRange } from "../plot/scatter.js";
import { tensorBatchSpace } from "../samplers/batch-space.js";
import {
  runSamplerFamily,
  SAMPLER_FAMILIES,
  type SamplerFamily,
  samplerFamilyInfo,
} from "../samplers/families.js";
import { trainConfig } from "../train/config.js";
import { buildScoreModel, discreteChain, type ModelDescription, sdeByName } from "../train/description.js";
import { trainSteps } from "../train/loop.js";
import { initTrainState } from "../train/state.js";
import { cliFailure, orFail } from "./failure.js";
import { dataRms, defaultNetwork, edmSetup, exists, startCompute } from "./models.js";
import { progress } from "./progress.js";

/** Options of the demo. */
export interface DemoOptions {
  /** Output directory (default out/demo). */
  readonly out: string;
  /** The toy (default checkerboard). */
  readonly toy: string;
  /** Seed of data, initialization, training and sampling. */
  readonly seed: number;
  /** A reduced run (CI): fewer steps, fewer samples. */
  readonly quick: boolean;
  /** Replace an existing output directory. */
  readonly force: boolean;
  /** The compute backend. */
  readonly backend: BackendRequest;
  /** `--threads`: threads for the webasm kernels. */
  readonly threads: number;
}

/** The budgets of a full and a quick run. */
const BUDGET = {
  full: { trainSteps: 4000, samples: 2000, reference: 50_000, stepsScale: 1 },
  quick: { trainSteps: 150, samples: 400, reference: 10_000, stepsScale: 0.2 },
} as const;

/** Keys of the fresh data draws that measure the floor. */
const FLOOR_KEYS = [20, 21, 22, 23, 24, 25, 26, 27];

/** Steps per family in the demo (NFE ≈ 1–2 per step), scaled down in quick mode. */
const DEMO_STEPS: Readonly<Record<SamplerFamily, number>> = {
  ddpm: 100,
  ddim: 50,
  "reverse-sde": 100,
  pc: 50,
  "pf-heun": 40,
  "pf-rk45": 0,
  edm: 18,
  "dpmpp-2m": 20,
};

const to64 = (t: Tensor): Tensor64 => ({ shape: t.shape, data: Float64Array.from(t.data) });

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

/** Sliced W₂ with 256 directions from one key, so every comparison uses the same slices. */
const sw2 = (key: RngKey) => (a: Tensor, b: Tensor) => slicedWasserstein2(to64(a), to64(b), key, 256);

/** One sampler's line of the report. */
interface SamplerRow {
  readonly family: SamplerFamily;
  readonly title: string;
  readonly steps: number;
  readonly nfe: number;
  readonly seconds: number;
  readonly sw2: number;
  readonly ratio: number;
}

/** Runs the demo; failures end it with one sentence (see `failure.ts`). */
export const runDemo = async (options: DemoOptions): Promise<void> => {
  const { out, seed, quick } = options;
  if (!isToyName(options.toy))
    throw cliFailure(`--toy must be one of ${TOY_NAMES.join(", ")}, got "${options.toy}"`);
  if (await exists(out)) {
    if (!options.force) throw cliFailure(`${out} already exists; add --force to replace it`);
    await rm(out, { recursive: true, force: true });
  }
  await mkdir(out, { recursive: true });
  const budget = quick ? BUDGET.quick : BUDGET.full;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const key = orFail(rngKey(seed));
  const { kernels, label } = await startCompute(options.backend, options.threads);
  log(`scoreflow demo: ${options.toy}, backend ${label}${quick ? " (quick)" : ""}`);

  // Data: a training set; a large held-out reference; eight fresh draws of the samplers' size for the floor.
  const train = orFail(toyDataset(options.toy, foldIn(key, 1), 50_000));
  const reference = orFail(toyDataset(options.toy, foldIn(key, 2), budget.reference));
  const held = { shape: [budget.samples, 2], data: reference.data.subarray(0, 2 * budget.samples) };
  const draws = FLOOR_KEYS.map((k) => orFail(toyDataset(options.toy, foldIn(key, k), budget.samples)));
  const sigmaData = dataRms(train);
  const range = symmetricRange(held);
  const scatter = (points: Tensor, title?: string): Raster =>
    scatterPlot(points, { size: 256, range, title });
  await save(join(out, "data.png"), scatter(held, `${options.toy}: held-out data`));

  // The forward process under the VP SDE: x_t = s(t)·x₀ + σ(t)·ε.
  const vp = orFail(sdeByName("vp"));
  const space = tensorBatchSpace<Float32Array>();
  const eps = space.normalLike(foldIn(key, 4), held);
  const forward = [0, 0.1, 0.2, 0.35, 0.5, 1].map((t) => ({
    title: `t = ${t}, s(t) = ${vp.scale(t).toFixed(2)}`,
    raster: scatter(
      space.combine([
        [vp.scale(t), held],
        [vp.std(t), eps],
      ]),
    ),
  }));
  await save(join(out, "forward.png"), gallery(forward, 3));

  // Train the MLP as an EDM-preconditioned denoiser with σ_data the data RMS (see `edmSetup`).
  const { loss, output } = edmSetup(sigmaData);
  const description: ModelDescription = {
    network: defaultNetwork([2], "mlp"),
    output,
    sde: "vp",
    data: { kind: "toy", name: options.toy },
  };
  const model = orFail(buildScoreModel(description));
  const lr = 3e-3;
  const config = orFail(
    trainConfig({
      steps: budget.trainSteps,
      batchSize: 128,
      optimizer: { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false },
      schedule: {
        kind: "warmupCosine",
        baseLr: lr,
        warmupSteps: 100,
        totalSteps: budget.trainSteps,
        minLr: lr / 20,
      },
      ema: { kind: "halfLife", options: { halfLifeSamples: 20_000, rampupRatio: 0.05 } },
      seed,
      logEvery: 10,
      checkpointEvery: budget.trainSteps,
    }),
  );
  let state = orFail(initTrainState(model.network, config));
  const bar = progress({
    total: config.steps,
    start: 0,
    batchSize: config.batchSize,
    logEvery: config.logEvery,
    logPath: join(out, "train.jsonl"),
    label: "training",
  });
  const t0 = performance.now();
  for (const step of trainSteps(kernels, model, loss, config, state, train)) {
    const result = orFail(step);
    state = result.state;
    bar.update(result.metrics);
  }
  bar.stop();
  const trainSeconds = seconds(t0);
  log(`trained ${config.steps} steps in ${trainSeconds.toFixed(1)} s`);
  orFail(await saveCheckpoint(join(out, "model"), { config, state, model: description as never }));

  // Sample every family from the same noise with the EMA weights.
  const sampler = samplerModel(kernels, model, state.ema);
  const chain = orFail(discreteChain(description, sampler));
  const noise = space.normalLike(foldIn(key, 5), held);
  const distance = sw2(foldIn(key, 6));
  // The floor: SW₂ from fresh data draws of the samplers' size to the reference, mean and standard deviation.
  const floors = draws.map((d) => distance(d, reference));
  const floor = floors.reduce((a, b) => a + b, 0) / floors.length;
  const floorSd = Math.sqrt(floors.reduce((a, b) => a + (b - floor) ** 2, 0) / (floors.length - 1));
  const rows: SamplerRow[] = [];
  const panels = [{ title: "held-out data", raster: scatter(held) }];
  for (const family of SAMPLER_FAMILIES) {
    const info = samplerFamilyInfo[family];
    const steps = family === "pf-rk45" ? 0 : Math.max(10, Math.round(DEMO_STEPS[family] * budget.stepsScale));
    const t1 = performance.now();
    const solution = runSamplerFamily(family, {
      space,
      model: sampler,
      sde: vp,
      schedule: chain.schedule,
      discreteModel: chain.model,
      noise,
      key: foldIn(key, 7),
      steps,
    });
    if (E.isLeft(solution)) throw cliFailure(`${info.title}: ${solution.left.message}`);
    const { y, nfe } = solution.right;
    const row = {
      family,
      title: info.title,
      steps,
      nfe,
      seconds: seconds(t1),
      sw2: distance(y, reference),
      ratio: 0,
    };
    rows.push({ ...row, ratio: row.sw2 / floor });
    panels.push({ title: `${info.label}, NFE ${nfe}`, raster: scatter(y) });
    await save(join(out, `sampler-${family}.png`), scatter(y, `${info.label}, NFE ${nfe}`));
    log(
      `${info.title.padEnd(38)} NFE ${String(nfe).padStart(4)}  ${row.seconds.toFixed(1).padStart(5)} s  SW2 ${row.sw2.toFixed(4)} (${(row.sw2 / floor).toFixed(2)}× the data floor)`,
    );
  }
  await save(join(out, "gallery.png"), gallery(panels, 3));
  const report = {
    toy: options.toy,
    quick,
    seed,
    sigmaData,
    trainSteps: config.steps,
    trainSeconds,
    samples: budget.samples,
    reference: budget.reference,
    dataFloorSw2: floor,
    dataFloorSd: floorSd,
    samplers: rows,
  };
  await writeFile(join(out, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(out, "report.md"), reportMarkdown(report));
  log(
    `the floor, SW2 of fresh data draws of ${budget.samples} points to the held-out data: ${floor.toFixed(4)} ± ${floorSd.toFixed(4)} (mean ± sd of ${floors.length})`,
  );
  log(`wrote ${out}/: gallery.png, forward.png, data.png, sampler-*.png, report.md, train.jsonl, model/`);
};

const save = async (path: string, raster: Raster): Promise<void> => {
  orFail(await writePng(path, raster));
};

/** The report as Markdown. */
const reportMarkdown = (r: {
  readonly toy: string;
  readonly quick: boolean;
  readonly sigmaData: number;
  readonly trainSteps: number;
  readonly trainSeconds: number;
  readonly samples: number;
  readonly reference: number;
  readonly dataFloorSw2: number;
  readonly dataFloorSd: number;
  readonly samplers: readonly SamplerRow[];
}): string =>
  [
    `# scoreflow demo: ${r.toy}${r.quick ? " (quick run)" : ""}`,
    "",
    `An MLP denoiser (EDM preconditioning, σ_data = ${r.sigmaData.toFixed(3)}) trained for ${r.trainSteps} steps in ${r.trainSeconds.toFixed(1)} s, then sampled by every family from the same ${r.samples} noise draws.`,
    `SW₂ is the sliced Wasserstein-2 distance (256 directions) from each sampler's points to ${r.reference} held-out data points. The floor is the same distance for fresh data draws of ${r.samples} points, ${r.dataFloorSw2.toFixed(4)} ± ${r.dataFloorSd.toFixed(4)} (mean ± standard deviation over ${FLOOR_KEYS.length} draws): what a perfect sampler scores, its points being a finite draw too. One sampler's figure carries that spread.`,
    "",
    "| sampler | steps | NFE | time (s) | SW₂ | × floor |",
    "|---|---:|---:|---:|---:|---:|",
    ...r.samplers.map(
      (s) =>
        `| ${s.title} | ${s.steps || "adaptive"} | ${s.nfe} | ${s.seconds.toFixed(1)} | ${s.sw2.toFixed(4)} | ${s.ratio.toFixed(2)} |`,
    ),
    `| fresh data draws (floor, mean ± sd) | | | | ${r.dataFloorSw2.toFixed(4)} ± ${r.dataFloorSd.toFixed(4)} | 1.00 |`,
    "",
    "Pictures: `gallery.png` (all samplers), `forward.png` (the VP forward process), `sampler-*.png`.",
    "",
  ].join("\n");
