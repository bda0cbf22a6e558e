/**
 * The playground page: the forward process of a chosen SDE on a 2-D toy (left), a sampler family running live
 * from noise to data with the score field of the model (right), a network trained in the tab, and the compute
 * backend's report. State lives in a few variables of this module; everything computed comes from the library
 * and the pure modules beside this one.
 *
 * @module
 */

import shipped from "virtual:shipped-model";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import {
  asyncModelSteps,
  type BackendRequest,
  createBackend,
  type DdpmSchedule,
  type DiffusionModel,
  disposeBackend,
  disposeNetKernels,
  foldIn,
  isSoftwareRenderer,
  type LinearSde,
  type ModelDescription,
  type NetBackend,
  type NetKernels,
  netKernels,
  noiseLevel,
  type Parameters,
  predictAs,
  rngKey,
  SAMPLER_FAMILIES,
  type SamplerClock,
  type SamplerFamily,
  type ScoreModel,
  type SolverStep,
  samplerFamilyInfo,
  samplerFamilySteps,
  sdeByName,
  type Tensor,
  TOY_NAMES,
  TOYS,
  type ToyName,
  tensorBatchSpace,
  trainSteps,
  trainStepsWebgpu,
  vpSde,
  type WebgpuNetKernels,
  webgpuNetKernels,
} from "scoreflow";
import { canServe, createBridge, serve } from "./bridge.js";
import { type Displayed, displayed } from "./display.js";
import { arrowGrid, COLORS, drawArrows, drawPoints, drawTrails, prepare, VIEW_RADIUS } from "./draw.js";
import {
  exactModel,
  type GpuNetworkSampler,
  gpuNetworkSampler,
  type LoadedNetwork,
  networkFromFiles,
  networkSampler,
  samplingInputs,
  trainingRun,
  vpChain,
} from "./models.js";
import type { PlaygroundProbe } from "./probe.js";
import type { SamplingMessage, SamplingRequest } from "./sampling-worker.js";
import {
  DEFAULT_BETA,
  isSdeChoice,
  SDE_CHOICES,
  type SdeChoice,
  SLIDER_STEPS,
  sdeOf,
  timeOfSlider,
} from "./sdes.js";

// ---------------------------------------------------------------------------------------------------------
// Elements

const element = <T extends HTMLElement>(id: string, type: { new (): T; prototype: T }): T => {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page lacks #${id}`);
  return found;
};

const ui = {
  backendStatus: element("backend-status", HTMLParagraphElement),
  toy: element("toy", HTMLSelectElement),
  sde: element("sde", HTMLSelectElement),
  beta: element("beta", HTMLInputElement),
  betaError: element("beta-error", HTMLParagraphElement),
  t: element("t", HTMLInputElement),
  tReadout: element("t-readout", HTMLOutputElement),
  forwardCanvas: element("forward-canvas", HTMLCanvasElement),
  model: element("model", HTMLSelectElement),
  modelInfo: element("model-info", HTMLParagraphElement),
  family: element("family", HTMLSelectElement),
  steps: element("steps", HTMLInputElement),
  stepsHelp: element("steps-help", HTMLParagraphElement),
  particles: element("particles", HTMLInputElement),
  seed: element("seed", HTMLInputElement),
  showField: element("show-field", HTMLInputElement),
  showTrails: element("show-trails", HTMLInputElement),
  sample: element("sample", HTMLButtonElement),
  stop: element("stop", HTMLButtonElement),
  samplingCanvas: element("sampling-canvas", HTMLCanvasElement),
  replay: element("replay", HTMLInputElement),
  readStep: element("read-step", HTMLElement),
  readT: element("read-t", HTMLElement),
  readSigma: element("read-sigma", HTMLElement),
  readNfe: element("read-nfe", HTMLElement),
  readWall: element("read-wall", HTMLElement),
  samplingStatus: element("sampling-status", HTMLParagraphElement),
  trainSteps: element("train-steps", HTMLInputElement),
  train: element("train", HTMLButtonElement),
  trainStop: element("train-stop", HTMLButtonElement),
  trainProgress: element("train-progress", HTMLProgressElement),
  trainStatus: element("train-status", HTMLParagraphElement),
  backend: element("backend", HTMLSelectElement),
  backendReport: element("backend-report", HTMLPreElement),
};

const probe: PlaygroundProbe = {
  ready: false,
  backend: "",
  gpu: undefined,
  pretrained: shipped === undefined ? "missing" : "loading",
  sampling: {
    status: "idle",
    family: "",
    steps: 0,
    n: 0,
    seed: 0,
    sde: "",
    model: "",
    nfe: 0,
    step: 0,
    final: undefined,
    message: "",
    route: "page",
  },
  training: { status: "idle", step: 0, steps: 0, loss: Number.NaN, message: "" },
};
window.playground = probe;

const space = tensorBatchSpace<Float32Array>();
const vp = E.getOrElseW(() => undefined)(vpSde());
const chain = E.getOrElseW(() => undefined)(vpChain());

/** A whole number from an input, clamped to its min and max; the input shows the value used. */
const integerOf = (input: HTMLInputElement, fallback: number): number => {
  const [min, max] = [Number(input.min), Number(input.max)];
  const parsed = Math.round(Number(input.value));
  const value = Number.isFinite(parsed) ? Math.min(max, Math.max(min, parsed)) : fallback;
  input.value = String(value);
  return value;
};

const format = (x: number, digits = 3): string =>
  !Number.isFinite(x)
    ? String(x)
    : Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3)
      ? x.toExponential(2)
      : x.toFixed(digits);

const setStatus = (target: HTMLElement, text: string, failed = false): void => {
  target.textContent = text;
  target.classList.toggle("failed", failed);
};

// ---------------------------------------------------------------------------------------------------------
// The compute backend

/** The GPU that samples networks through WebGPU: its backend, the forward kernels and the adapter's name. */
interface GpuSampling {
  readonly backend: NetBackend;
  readonly kernels: WebgpuNetKernels;
  readonly adapter: string;
}

/**
 * The backend the networks run on, with the kernels of its ops (training, the score field, and sampling unless
 * `gpu` samples them).
 */
interface Compute {
  readonly backend: NetBackend;
  readonly kernels: NetKernels;
  readonly mode: string;
  readonly gpu: GpuSampling | undefined;
}

let compute: Compute | undefined;

/**
 * The GPU for sampling networks: on a webgpu request, any adapter; on auto, a hardware one (a software adapter,
 * e.g. SwiftShader, is slower than the CPU path and is passed over, saying so).
 */
const startGpuSampling = async (
  request: BackendRequest,
  lines: string[],
): Promise<GpuSampling | undefined> => {
  if (request !== "webgpu" && request !== "auto") return undefined;
  const backend = await createBackend("webgpu");
  if (E.isLeft(backend)) {
    lines.push(`sampling on webgpu: ${backend.left.message}`);
    return undefined;
  }
  const adapter = backend.right.report.renderer ?? "an unnamed adapter";
  const kernels = webgpuNetKernels(backend.right);
  if (E.isLeft(kernels) || (request === "auto" && isSoftwareRenderer(adapter))) {
    lines.push(
      `sampling on webgpu: passed over, ${E.isLeft(kernels) ? kernels.left.message : `its adapter is software (${adapter})`}`,
    );
    await disposeBackend(backend.right);
    return undefined;
  }
  lines.push(`networks sample and train on webgpu (${adapter}): each pass on the GPU, one readback`);
  return { backend: backend.right, kernels: kernels.right, adapter };
};

/** Frees the GPU's resident parameters and kernels, and its backend. */
const disposeGpuSampling = async (gpu: GpuSampling): Promise<void> => {
  await gpu.kernels.dispose();
  await disposeBackend(gpu.backend);
};

/**
 * Starts a backend for `request` and compiles the network kernels on it. When the request is unavailable or
 * the chosen mode has no synchronous kernels (webgpu, whose kernels answer with Promises), says why and falls
 * back to auto's choice, then webasm, then cpu; networks still sample on webgpu when `startGpuSampling` finds
 * a GPU.
 */
const startCompute = async (
  request: BackendRequest,
): Promise<{ readonly result: E.Either<string, Compute>; readonly lines: readonly string[] }> => {
  const lines: string[] = [];
  const unused: NetBackend[] = [];
  const release = async () => {
    for (const b of unused) await disposeBackend(b);
  };
  const gpu = await startGpuSampling(request, lines);
  const attempts: BackendRequest[] = [
    ...new Set<BackendRequest>([request === "webgpu" ? "auto" : request, "webasm", "cpu"]),
  ];
  for (const attempt of attempts) {
    const backend = await createBackend(attempt);
    if (E.isLeft(backend)) {
      lines.push(`createBackend("${attempt}"): ${backend.left.message}`);
      continue;
    }
    const { report } = backend.right;
    lines.push(
      `createBackend("${attempt}") chose ${report.chosen}${report.renderer === undefined ? "" : ` on ${report.renderer}`}`,
    );
    for (const skipped of report.fallbacks) lines.push(`  skipped ${skipped}`);
    const kernels = netKernels(backend.right);
    if (E.isLeft(kernels)) {
      lines.push(`  network kernels on ${report.chosen}: ${kernels.left.message}; trying the next backend`);
      unused.push(backend.right);
      continue;
    }
    lines.push(
      `network ops run on ${report.chosen}${gpu === undefined ? "" : " (training and the score field)"}:`,
    );
    lines.push(`  linear: ${kernels.right.linear.implementation} (${kernels.right.linear.reason})`);
    lines.push(`  conv2d: ${kernels.right.conv2d.implementation} (${kernels.right.conv2d.reason})`);
    await release();
    return {
      result: E.right({ backend: backend.right, kernels: kernels.right, mode: report.chosen, gpu }),
      lines,
    };
  }
  await release();
  if (gpu !== undefined) await disposeGpuSampling(gpu);
  return { result: E.left("no backend could run the network ops"), lines };
};

const switchBackend = async (request: BackendRequest): Promise<void> => {
  ui.backend.disabled = true;
  ui.backendStatus.textContent = `Starting the ${request} backend…`;
  if (compute !== undefined) {
    disposeNetKernels(compute.kernels);
    await disposeBackend(compute.backend);
    if (compute.gpu !== undefined) await disposeGpuSampling(compute.gpu);
    compute = undefined;
  }
  const { result, lines } = await startCompute(request);
  ui.backendReport.textContent = lines.join("\n");
  if (E.isLeft(result)) {
    setStatus(ui.backendStatus, `No backend: ${result.left}. The exact-score model still works.`, true);
    probe.backend = "none";
    probe.gpu = undefined;
  } else {
    compute = result.right;
    probe.backend = compute.mode;
    probe.gpu = compute.gpu?.adapter;
    const sampling =
      compute.gpu === undefined ? "" : `; they sample and train on webgpu (${compute.gpu.adapter})`;
    setStatus(
      ui.backendStatus,
      `Networks run on the ${compute.mode} backend${sampling} (requested: ${request}).`,
    );
  }
  ui.backend.disabled = false;
  updateControls();
};

// ---------------------------------------------------------------------------------------------------------
// Models

const exactModels = new Map<ToyName, ReturnType<typeof exactModel>>();

/** The exact model of a toy's stand-in mixture, fitted once per toy. */
const exactOf = (toy: ToyName): ReturnType<typeof exactModel> => {
  const cached = exactModels.get(toy);
  if (cached !== undefined) return cached;
  const fitted = exactModel(toy);
  exactModels.set(toy, fitted);
  return fitted;
};

/** A network the page can sample. */
interface NetworkEntry {
  readonly description: ModelDescription;
  readonly model: ScoreModel;
  readonly parameters: Parameters;
  readonly info: string;
}

let pretrained: NetworkEntry | undefined;
let trained: NetworkEntry | undefined;

const hex = (bytes: ArrayBuffer): string =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

const loadPretrained = async (): Promise<void> => {
  if (shipped === undefined) {
    const option = ui.model.querySelector<HTMLOptionElement>('option[value="pretrained"]');
    if (option !== null) option.textContent = "Pretrained network (not in this build)";
    return;
  }
  try {
    const [manifest, weights] = await Promise.all([
      fetch(shipped.manifest).then((r) =>
        r.ok ? r.text() : Promise.reject(new Error(`model.json: HTTP ${r.status}`)),
      ),
      fetch(shipped.weights).then((r) =>
        r.ok ? r.arrayBuffer() : Promise.reject(new Error(`weights.safetensors: HTTP ${r.status}`)),
      ),
    ]);
    // WebCrypto exists only in secure contexts (https, localhost); elsewhere the hash is not checked.
    const sha256 =
      globalThis.crypto?.subtle === undefined
        ? undefined
        : hex(await crypto.subtle.digest("SHA-256", weights));
    const loaded = networkFromFiles(manifest, new Uint8Array(weights), sha256);
    if (E.isLeft(loaded)) throw new Error(loaded.left);
    pretrained = { ...loaded.right, info: describeNetwork(loaded.right, sha256 === undefined) };
    probe.pretrained = "loaded";
    const option = ui.model.querySelector<HTMLOptionElement>('option[value="pretrained"]');
    if (option !== null) option.disabled = false;
    if (ui.model.value === "exact" && probe.sampling.status === "idle") ui.model.value = "pretrained";
  } catch (e) {
    probe.pretrained = "failed";
    setStatus(
      ui.modelInfo,
      `The shipped model did not load: ${e instanceof Error ? e.message : String(e)}`,
      true,
    );
  }
  updateControls();
};

const describeNetwork = (loaded: LoadedNetwork, unhashed: boolean): string => {
  const p = loaded.provenance;
  const step =
    typeof p === "object" && p !== null && !Array.isArray(p) && "step" in p ? ` after ${p.step} steps` : "";
  const count = Array.from(loaded.parameters.values()).reduce((a, t) => a + t.data.length, 0);
  return `${loaded.model.network.name} with ${count.toLocaleString("en")} parameters, trained on ${
    loaded.description.data.kind === "toy" ? loaded.description.data.name : loaded.description.data.kind
  }${step}; checked: ${loaded.verified.join(", ")}${unhashed ? " (no SHA-256 outside a secure context)" : ""}.`;
};

/** The toy a model's samples should look like. */
const targetToy = (): ToyName => {
  const entry =
    ui.model.value === "pretrained" ? pretrained : ui.model.value === "trained" ? trained : undefined;
  const data = entry?.description.data;
  return data?.kind === "toy" && (TOY_NAMES as readonly string[]).includes(data.name)
    ? (data.name as ToyName)
    : (ui.toy.value as ToyName);
};

/** What a sampling run needs of the chosen model. */
interface ChosenModel {
  /** The model on the CPU side: it samples unless `gpu` does, and draws the score field. */
  readonly model: DiffusionModel<Tensor>;
  /** The network on the GPU, when networks sample there. */
  readonly gpu: GpuNetworkSampler | undefined;
  /** What the sampling worker needs to rebuild the run around the GPU's answers (networks only). */
  readonly worker: Pick<SamplingRequest, "description" | "parameterization" | "sde"> | undefined;
  readonly schedule: DdpmSchedule;
  readonly discreteModel: DiffusionModel<Tensor>;
  /** The SDE to sample under: the chosen one, or a time model's own. */
  readonly sde: LinearSde;
  readonly note: string;
}

const chooseModel = (sde: LinearSde): E.Either<string, ChosenModel> => {
  if (ui.model.value === "exact") {
    const exact = exactOf(ui.toy.value as ToyName);
    if (E.isLeft(exact)) return E.left(exact.left.message);
    if (chain === undefined) return E.left("the VP chain did not build");
    const components = exact.right.mixture.components;
    return E.right({
      model: exact.right.model,
      gpu: undefined,
      worker: undefined,
      schedule: chain,
      discreteModel: exact.right.model,
      sde,
      note: `Exact denoiser E[x₀ | x_t] of a ${components}-component Gaussian mixture standing in for ${ui.toy.value}.`,
    });
  }
  const entry = ui.model.value === "pretrained" ? pretrained : trained;
  if (entry === undefined) return E.left("this model is not loaded");
  if (compute === undefined) return E.left("no backend runs networks");
  const built = networkSampler(compute.kernels, entry.description, entry.model, entry.parameters);
  if (E.isLeft(built)) return E.left(built.left.message);
  const onGpu =
    compute.gpu === undefined
      ? E.right(undefined)
      : gpuNetworkSampler(compute.gpu.kernels, entry.description, entry.model, entry.parameters);
  if (E.isLeft(onGpu)) return E.left(onGpu.left.message);
  const gpu = onGpu.right;
  const parameterization = entry.model.kind === "denoiser" ? "denoiser" : entry.model.parameterization;
  const choice = ui.sde.value;
  const pageSde = isSdeChoice(choice) ? { choice, beta: ui.beta.value } : { name: "vp" };
  // A time model means its prediction at its own SDE's t; a denoiser is meaningful under every SDE.
  if (entry.model.kind === "time") {
    const own = sdeByName(entry.description.sde);
    if (E.isLeft(own)) return E.left(own.left.message);
    return E.right({
      ...built.right,
      gpu,
      worker: { description: entry.description, parameterization, sde: { name: entry.description.sde } },
      sde: own.right,
      note: `${entry.info} A time model: sampled under its own ${own.right.name} SDE.`,
    });
  }
  return E.right({
    ...built.right,
    gpu,
    worker: { description: entry.description, parameterization, sde: pageSde },
    sde,
    note: entry.info,
  });
};

// ---------------------------------------------------------------------------------------------------------
// The forward process

const FORWARD_POINTS = 1500;
const forwardKey = E.getOrElseW(() => undefined)(rngKey(0));

const currentSde = (): E.Either<string, LinearSde> => {
  const choice = ui.sde.value;
  return isSdeChoice(choice) ? sdeOf(choice, ui.beta.value) : E.left(`unknown SDE ${choice}`);
};

const drawForward = (): void => {
  const view = prepare(ui.forwardCanvas);
  if (view === undefined || forwardKey === undefined) return;
  const toy = ui.toy.value as ToyName;
  const x0 = TOYS[toy](foldIn(forwardKey, 10), FORWARD_POINTS);
  const sde = currentSde();
  if (E.isLeft(sde)) {
    drawPoints(view, x0.data, COLORS.data, 1.4);
    ui.tReadout.textContent = "no SDE: fix β(t) above";
    return;
  }
  const u = Number(ui.t.value) / SLIDER_STEPS;
  const t = timeOfSlider(sde.right, u, ui.sde.value as SdeChoice);
  const [s, sigma] = [sde.right.scale(t), sde.right.std(t)];
  const eps = space.normalLike(foldIn(forwardKey, 11), x0);
  const xt = space.combine([
    [s, x0],
    [sigma, eps],
  ]);
  const outside = drawPoints(view, xt.data, COLORS.forward, 1.4);
  const share = outside / FORWARD_POINTS;
  ui.tReadout.textContent = `t = ${format(t)}: s(t) = ${format(s)}, σ(t) = ${format(sigma)}, noise level σ/s = ${format(
    sigma / s,
  )}${share > 0 ? `; ${Math.round(100 * share)}% of the points lie outside the view` : ""}`;
  ui.t.setAttribute("aria-valuetext", `t = ${format(t)}`);
  ui.forwardCanvas.setAttribute(
    "aria-label",
    `${FORWARD_POINTS} samples of ${toy} under the ${sde.right.name} SDE at t = ${format(t)}`,
  );
};

// ---------------------------------------------------------------------------------------------------------
// Sampling

/** Particles whose paths are drawn. */
const TRAILS = 60;
/** Arrows per side of the score field. */
const ARROWS = 17;
const arrowPoints = arrowGrid(ARROWS);
/** Frames an animation takes at least, when its steps allow (about 1.5 s at 60 frames a second). */
const TARGET_FRAMES = 90;
/** Milliseconds of stepping per frame at most, so that large models keep the page responsive. */
const FRAME_BUDGET_MS = 40;

/** One recorded state of a run: the sampler's record and where it is drawn. */
interface Frame {
  readonly record: SolverStep<Tensor>;
  readonly shown: Displayed<Tensor>;
}

/** A sampler's steps, from a synchronous run or from `asyncModelSteps` (a network on the GPU). */
type StepResult = IteratorResult<
  SolverStep<Tensor>,
  E.Either<{ readonly message: string }, SolverStep<Tensor>>
>;

interface Animation {
  /** The next step, or the run's end. */
  readonly next: () => StepResult | Promise<StepResult>;
  /** What the records' t means. */
  readonly clock: SamplerClock;
  /** Ends the run's work elsewhere (the sampling worker), if any. */
  readonly cancel: () => void;
  readonly family: SamplerFamily;
  readonly sde: LinearSde;
  readonly model: DiffusionModel<Tensor>;
  readonly expected: number | undefined;
  readonly target: Float32Array;
  /** Every state so far, the start first. */
  readonly frames: Frame[];
  /** The score field of a frame, by index, once drawn. */
  readonly fields: Map<number, Float32Array>;
  /** The frame drawn: the latest while running, the replay slider's afterwards. */
  viewed: number;
  computeMs: number;
  stopped: boolean;
}

let animation: Animation | undefined;

/** The number of records a family yields for `steps`, when fixed. */
const expectedRecords = (family: SamplerFamily, steps: number): number | undefined => {
  switch (family) {
    case "reverse-sde":
    case "pc":
    case "pf-heun":
      return steps + 1; // and the final denoising step
    case "pf-rk45":
      return undefined;
    default:
      return steps;
  }
};

const record = (a: Animation, step: SolverStep<Tensor>): void => {
  if (vp === undefined || a.frames[a.frames.length - 1]?.record === step) return;
  a.frames.push({
    record: step,
    shown: displayed(space, a.clock, step, a.sde, { sde: vp, steps: 1000 }),
  });
  a.viewed = a.frames.length - 1;
};

/** σ(t)²·∇log p_t(x) = s(t)·x̂₀(x) − x on the arrow grid, at the frame's time (clamped into [tMin, tMax]). */
const fieldOf = (a: Animation, index: number): Float32Array => {
  const cached = a.fields.get(index);
  if (cached !== undefined) return cached;
  const { sde, t: at } = a.frames[index].shown;
  const t = Math.min(sde.tMax, Math.max(sde.tMin, at));
  const x: Tensor = { shape: [ARROWS * ARROWS, 2], data: arrowPoints };
  const x0 = predictAs(space, sde, a.model, "x0")(x, t);
  const vectors = space.combine([
    [sde.scale(t), x0],
    [-1, x],
  ]).data;
  a.fields.set(index, vectors);
  return vectors;
};

const drawSampling = (): void => {
  const view = prepare(ui.samplingCanvas);
  if (view === undefined) return;
  const a = animation;
  if (a === undefined) {
    if (forwardKey !== undefined)
      drawPoints(view, TOYS[targetToy()](foldIn(forwardKey, 12), 1000).data, COLORS.data, 1.4);
    return;
  }
  const { shown } = a.frames[a.viewed];
  drawPoints(view, a.target, COLORS.data, 1.4);
  if (ui.showField.checked)
    drawArrows(view, arrowPoints, fieldOf(a, a.viewed), (0.9 * 2 * VIEW_RADIUS) / ARROWS);
  if (ui.showTrails.checked)
    drawTrails(
      view,
      a.frames.slice(0, a.viewed + 1).map((f) => f.shown.x.data),
      TRAILS,
    );
  const outside = drawPoints(view, shown.x.data, COLORS.particle, 1.6);
  ui.samplingCanvas.setAttribute(
    "aria-label",
    `${shown.x.shape[0]} particles of ${samplerFamilyInfo[a.family].label} at t = ${format(shown.t)}${
      outside > 0 ? `, ${outside} outside the view` : ""
    }`,
  );
};

const readout = (a: Animation): void => {
  const { record: step, shown } = a.frames[a.viewed];
  const total = a.expected ?? (probe.sampling.status === "running" ? undefined : a.frames.length - 1);
  ui.readStep.textContent = total === undefined ? String(step.step) : `${step.step} / ${total}`;
  ui.readT.textContent = format(shown.t, 4);
  ui.readSigma.textContent = shown.t > 0 ? format(noiseLevel(shown.sde, shown.t)) : "0";
  ui.readNfe.textContent = String(step.nfe);
  ui.readWall.textContent = `${(a.computeMs / 1000).toFixed(2)} s`;
  ui.replay.max = String(a.frames.length - 1);
  ui.replay.value = String(a.viewed);
  ui.replay.setAttribute("aria-valuetext", `step ${step.step}, t = ${format(shown.t)}`);
  const last = a.frames[a.frames.length - 1].record;
  probe.sampling.nfe = last.nfe;
  probe.sampling.step = last.step;
};

const finish = (a: Animation, outcome: E.Either<{ readonly message: string }, SolverStep<Tensor>>): void => {
  if (E.isLeft(outcome)) {
    probe.sampling.status = "failed";
    probe.sampling.message = outcome.left.message;
    setStatus(ui.samplingStatus, `Stopped: ${outcome.left.message}`, true);
  } else {
    record(a, outcome.right);
    probe.sampling.final = Array.from(outcome.right.y.data);
    probe.sampling.status = "done";
    const info = samplerFamilyInfo[a.family];
    setStatus(
      ui.samplingStatus,
      `Done: ${outcome.right.y.shape[0]} samples by ${info.title}, ${outcome.right.nfe} model evaluations in ${(
        a.computeMs / 1000
      ).toFixed(2)} s.`,
    );
  }
  animation = a;
  readout(a);
  drawSampling();
  updateControls();
};

const frame = async (): Promise<void> => {
  const a = animation;
  if (a === undefined || probe.sampling.status !== "running") return;
  if (a.stopped) {
    a.cancel();
    probe.sampling.status = "stopped";
    setStatus(ui.samplingStatus, `Stopped at step ${a.frames[a.frames.length - 1].record.step}.`);
    updateControls();
    return;
  }
  const perFrame = a.expected === undefined ? 1 : Math.max(1, Math.ceil(a.expected / TARGET_FRAMES));
  const start = performance.now();
  for (let k = 0; k < perFrame && performance.now() - start < FRAME_BUDGET_MS; k++) {
    const next = await a.next();
    if (next.done === true) {
      a.computeMs += performance.now() - start;
      finish(a, next.value);
      return;
    }
    record(a, next.value);
  }
  a.computeMs += performance.now() - start;
  readout(a);
  drawSampling();
  requestAnimationFrame(() => void frame());
};

/**
 * A run in the sampling worker (see `bridge.ts`): its steps as they arrive, and `cancel`, which ends the worker
 * and the serving of its requests. The worker's requests are answered by the network on the GPU.
 */
const sampleInWorker = (
  gpu: GpuNetworkSampler,
  request: Omit<SamplingRequest, "buffer">,
): { readonly next: () => Promise<StepResult>; readonly cancel: () => void } => {
  const bridge = createBridge(2 * request.n);
  const worker = new Worker(new URL("./sampling-worker.ts", import.meta.url), { type: "module" });
  const queue: StepResult[] = [];
  let wake: (() => void) | undefined;
  let running = true;
  let last: SolverStep<Tensor> | undefined;
  const push = (r: StepResult) => {
    queue.push(r);
    wake?.();
  };
  const end = (error: string | undefined) => {
    running = false;
    worker.terminate();
    push({
      done: true,
      value:
        error === undefined && last !== undefined
          ? E.right(last)
          : E.left({ message: error ?? "the sampling worker posted no step" }),
    });
  };
  worker.onmessage = (event: MessageEvent<SamplingMessage>) => {
    const m = event.data;
    if (m.kind === "end") return end(m.error);
    last = { step: m.step, t: m.t, nfe: m.nfe, y: { shape: [request.n, 2], data: m.y } };
    push({ done: false, value: last });
  };
  worker.onerror = (event) => end(`the sampling worker failed: ${event.message}`);
  const shape = [request.n, 2];
  serve(
    bridge,
    async (x, p) =>
      (gpu.model.parameterization === "denoiser"
        ? await gpu.model.denoise({ shape, data: x }, p)
        : await gpu.model.predict({ shape, data: x }, p)
      ).data,
    () => running,
  ).catch((e: unknown) => end(`the GPU failed: ${e instanceof Error ? e.message : String(e)}`));
  worker.postMessage({ ...request, buffer: bridge.buffer } satisfies SamplingRequest);
  return {
    next: async () => {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return queue.shift()!;
    },
    cancel: () => {
      running = false;
      worker.terminate();
    },
  };
};

const startSampling = (): void => {
  animation?.cancel();
  const family = ui.family.value as SamplerFamily;
  const steps = family === "pf-rk45" ? 0 : integerOf(ui.steps, samplerFamilyInfo[family].defaultSteps);
  const n = integerOf(ui.particles, 500);
  const seed = integerOf(ui.seed, 0);
  const prepared = pipe(
    E.Do,
    E.bind("sde", () => E.mapLeft((m: string) => `No SDE: ${m}`)(currentSde())),
    E.bind("chosen", ({ sde }) => E.mapLeft((m: string) => `No model: ${m}`)(chooseModel(sde))),
    E.bind("inputs", () =>
      E.mapLeft((e: { readonly message: string }) => e.message)(samplingInputs(seed, n)),
    ),
    E.bind("run", ({ chosen, inputs }) =>
      E.mapLeft((e: { readonly message: string }) => e.message)(
        samplerFamilySteps(family, {
          space,
          model: chosen.model,
          sde: chosen.sde,
          schedule: chosen.schedule,
          discreteModel: chosen.discreteModel,
          noise: inputs.noise,
          key: inputs.key,
          steps,
        }),
      ),
    ),
  );
  if (E.isLeft(prepared)) {
    probe.sampling = { ...probe.sampling, status: "failed", message: prepared.left, final: undefined };
    setStatus(ui.samplingStatus, prepared.left, true);
    updateControls();
    return;
  }
  const { chosen, inputs, run } = prepared.right;
  const { model, note } = chosen;
  // On the GPU: in the sampling worker, blocking on the GPU's answers, where the page is cross-origin isolated;
  // else the same family replays over the network's asynchronous model (see asyncModelSteps).
  const gpu = chosen.gpu;
  const inWorker =
    gpu !== undefined && chosen.worker !== undefined && globalThis.crossOriginIsolated === true && canServe()
      ? sampleInWorker(gpu, { ...chosen.worker, family, steps, n, seed })
      : undefined;
  const onGpu =
    gpu === undefined || inWorker !== undefined
      ? undefined
      : asyncModelSteps(gpu.model, (m) =>
          samplerFamilySteps(family, {
            space,
            model: m,
            sde: chosen.sde,
            schedule: chosen.schedule,
            discreteModel: gpu.discrete(m),
            noise: inputs.noise,
            key: inputs.key,
            steps,
          }),
        );
  ui.modelInfo.textContent = note;
  ui.modelInfo.classList.remove("failed");
  const target = TOYS[targetToy()](foldIn(forwardKey ?? inputs.key, 12), 1000).data;
  const a: Animation = {
    next: inWorker?.next ?? (onGpu === undefined ? () => run.steps.next() : () => onGpu.next()),
    cancel: inWorker?.cancel ?? (() => {}),
    clock: run.clock,
    family,
    sde: chosen.sde,
    model,
    expected: expectedRecords(family, steps),
    target,
    frames: [],
    fields: new Map(),
    viewed: 0,
    computeMs: 0,
    stopped: false,
  };
  record(a, run.start);
  animation = a;
  probe.sampling = {
    status: "running",
    family,
    steps,
    n,
    seed,
    sde: chosen.sde.name,
    model: ui.model.value,
    nfe: 0,
    step: 0,
    final: undefined,
    message: "",
    route: inWorker !== undefined ? "worker" : onGpu !== undefined ? "replay" : "page",
  };
  setStatus(ui.samplingStatus, `Sampling ${n} particles with ${samplerFamilyInfo[family].title}…`);
  updateControls();
  readout(a);
  drawSampling();
  requestAnimationFrame(() => void frame());
};

// ---------------------------------------------------------------------------------------------------------
// Training

let stopTraining = false;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

const startTraining = async (): Promise<void> => {
  if (compute === undefined) {
    setStatus(ui.trainStatus, "No backend runs networks.", true);
    return;
  }
  const kernels = compute.kernels;
  const toy = ui.toy.value as ToyName;
  const steps = integerOf(ui.trainSteps, 1000);
  const seed = integerOf(ui.seed, 0);
  const key = rngKey(seed);
  const run = E.flatMap(key, (k) => trainingRun(toy, seed, steps, k));
  if (E.isLeft(run)) {
    setStatus(ui.trainStatus, run.left.message, true);
    return;
  }
  const { description, model, loss, config, state, data } = run.right;
  stopTraining = false;
  probe.training = { status: "running", step: 0, steps, loss: Number.NaN, message: "" };
  ui.trainProgress.max = steps;
  ui.trainProgress.value = 0;
  updateControls();
  const started = performance.now();
  let last = state;
  let lastLoss = Number.NaN;
  // On the GPU, each step's training pass runs there (the same minibatches, keys and updates).
  const gpu = compute.gpu;
  const it =
    gpu === undefined
      ? trainSteps(kernels, model, loss, config, state, data)
      : trainStepsWebgpu(gpu.kernels, model, loss, config, state, data);
  const where = gpu === undefined ? compute.mode : `webgpu (${gpu.adapter})`;
  for (;;) {
    const sliceStart = performance.now();
    let done = false;
    while (performance.now() - sliceStart < 30) {
      const next = await it.next();
      if (next.done === true) {
        done = true;
        break;
      }
      if (E.isLeft(next.value)) {
        probe.training.status = "failed";
        probe.training.message = next.value.left.message;
        setStatus(ui.trainStatus, `Training failed: ${next.value.left.message}`, true);
        updateControls();
        return;
      }
      last = next.value.right.state;
      lastLoss = next.value.right.metrics.loss;
    }
    probe.training.step = last.step;
    probe.training.loss = lastLoss;
    ui.trainProgress.value = last.step;
    const seconds = (performance.now() - started) / 1000;
    setStatus(
      ui.trainStatus,
      `Step ${last.step} of ${steps}, loss ${format(lastLoss, 4)}, ${seconds.toFixed(1)} s (${(
        (1000 * seconds) / Math.max(1, last.step)
      ).toFixed(1)} ms a step).`,
    );
    if (done || stopTraining) break;
    await yieldToEventLoop();
  }
  const seconds = (performance.now() - started) / 1000;
  if (last.step === 0) {
    probe.training.status = "stopped";
    setStatus(ui.trainStatus, "Stopped before the first step.");
    updateControls();
    return;
  }
  trained = {
    description,
    model,
    parameters: last.ema,
    info: `MLP trained here on ${toy} (on ${where}): ${last.step} steps in ${seconds.toFixed(1)} s, EMA weights, last loss ${format(
      lastLoss,
      4,
    )}.`,
  };
  probe.training.status = stopTraining ? "stopped" : "done";
  const option = ui.model.querySelector<HTMLOptionElement>('option[value="trained"]');
  if (option !== null) {
    option.disabled = false;
    option.textContent = `Network trained here (${toy}, ${last.step} steps)`;
  }
  ui.model.value = "trained";
  ui.modelInfo.textContent = trained.info;
  setStatus(
    ui.trainStatus,
    `${stopTraining ? "Stopped" : "Done"} after ${last.step} steps in ${seconds.toFixed(1)} s; "Network trained here" is selected for sampling.`,
  );
  updateControls();
  if (animation === undefined) drawSampling();
};

// ---------------------------------------------------------------------------------------------------------
// Controls

const updateControls = (): void => {
  const sampling = probe.sampling.status === "running";
  const training = probe.training.status === "running";
  const custom = ui.sde.value === "custom";
  for (const el of document.querySelectorAll<HTMLElement>(".custom-only")) el.hidden = !custom;
  const sde = currentSde();
  ui.betaError.textContent = custom && E.isLeft(sde) ? sde.left : "";
  ui.beta.setAttribute("aria-invalid", String(custom && E.isLeft(sde)));
  const family = ui.family.value as SamplerFamily;
  ui.steps.disabled = family === "pf-rk45" || sampling;
  ui.sample.disabled = sampling || E.isLeft(sde) || !probe.ready;
  ui.stop.disabled = !sampling;
  ui.replay.disabled = sampling || animation === undefined;
  for (const el of [ui.model, ui.family, ui.particles, ui.seed, ui.sde, ui.toy, ui.beta])
    el.disabled = sampling;
  ui.train.disabled = training || compute === undefined || !probe.ready;
  ui.trainStop.disabled = !training;
  ui.trainSteps.disabled = training;
  ui.backend.disabled = sampling || training || !probe.ready;
  if (!sampling && ui.model.value === "exact") {
    const exact = exactOf(ui.toy.value as ToyName);
    if (E.isRight(exact))
      ui.modelInfo.textContent = `Exact denoiser E[x₀ | x_t] of a ${exact.right.mixture.components}-component Gaussian mixture standing in for ${ui.toy.value}.`;
  } else if (!sampling) {
    const entry = ui.model.value === "pretrained" ? pretrained : trained;
    if (entry !== undefined) ui.modelInfo.textContent = entry.info;
  }
};

const onFamilyChange = (): void => {
  const family = ui.family.value as SamplerFamily;
  const info = samplerFamilyInfo[family];
  ui.steps.value = String(Math.max(1, info.defaultSteps));
  ui.stepsHelp.textContent = `${info.title}: ${info.steps}${
    family === "ddpm" || family === "ddim" ? " of DDPM's 1000-step VP chain, whatever the SDE" : ""
  }.`;
  updateControls();
};

const fill = (
  select: HTMLSelectElement,
  options: ReadonlyArray<readonly [string, string]>,
  value: string,
) => {
  select.replaceChildren(
    ...options.map(([v, label]) => {
      const option = document.createElement("option");
      option.value = v;
      option.textContent = label;
      return option;
    }),
  );
  select.value = value;
};

const init = async (): Promise<void> => {
  fill(
    ui.toy,
    TOY_NAMES.map((name) => [name, name]),
    "checkerboard",
  );
  fill(ui.sde, SDE_CHOICES, "vp");
  fill(
    ui.family,
    SAMPLER_FAMILIES.map((f) => [f, samplerFamilyInfo[f].title]),
    "edm",
  );
  ui.beta.value = DEFAULT_BETA;
  onFamilyChange();

  ui.toy.addEventListener("change", () => {
    updateControls();
    drawForward();
    if (animation === undefined) drawSampling();
  });
  ui.sde.addEventListener("change", () => {
    updateControls();
    drawForward();
  });
  ui.beta.addEventListener("input", () => {
    updateControls();
    drawForward();
  });
  ui.t.addEventListener("input", drawForward);
  ui.family.addEventListener("change", onFamilyChange);
  ui.model.addEventListener("change", () => {
    updateControls();
    if (animation === undefined) drawSampling();
  });
  ui.showField.addEventListener("change", drawSampling);
  ui.replay.addEventListener("input", () => {
    const a = animation;
    if (a === undefined || probe.sampling.status === "running") return;
    a.viewed = Math.min(a.frames.length - 1, Math.max(0, Number(ui.replay.value)));
    readout(a);
    drawSampling();
  });
  ui.showTrails.addEventListener("change", drawSampling);
  ui.sample.addEventListener("click", startSampling);
  ui.stop.addEventListener("click", () => {
    if (animation !== undefined) animation.stopped = true;
  });
  ui.train.addEventListener("click", () => {
    void startTraining();
  });
  ui.trainStop.addEventListener("click", () => {
    stopTraining = true;
  });
  ui.backend.addEventListener("change", () => {
    void switchBackend(ui.backend.value as BackendRequest);
  });
  new ResizeObserver(() => {
    drawForward();
    drawSampling();
  }).observe(ui.forwardCanvas);

  updateControls();
  drawForward();
  drawSampling();
  await switchBackend("auto");
  await loadPretrained();
  probe.ready = true;
  updateControls();
  drawSampling();
};

void init();
