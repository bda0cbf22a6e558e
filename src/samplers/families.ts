/**
 * Every sampler family by name, with one budget knob: a trained model, its linear SDE and the discrete chain of
 * that SDE, standard-normal noise z and a step count give samples and their NFE. This is the table the command
 * line, the demo, the guides and the playground share; each entry is one sampler of this folder with the settings
 * its paper recommends, and all of them start from the same z (x_T = σ_p·z for the continuous samplers, σ₀·z for
 * EDM's scaled state, z for the discrete chain, whose prior is N(0, I)).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { foldIn, type RngKey } from "../core/rng.js";
import type { DdpmSchedule } from "../discrete/schedule.js";
import { ddpmTimesteps } from "../discrete/spacing.js";
import { noiseLevel } from "../sde/marginals.js";
import type { LinearSde } from "../sde/types.js";
import { odeDopri5 } from "../solvers/dopri5.js";
import { gridKarras, gridUniform } from "../solvers/grid.js";
import { odeHeun } from "../solvers/heun.js";
import {
  collectSolution,
  type Solution,
  type SolveError,
  type SolverStep,
  type SolverSteps,
} from "../solvers/solution.js";
import type { BatchSpace } from "./batch-space.js";
import { ddimSteps } from "./ddim.js";
import { ddpmAncestralSteps } from "./ddpm.js";
import { dpmpp2mSteps, gridLogSnr } from "./dpm-solver.js";
import { edmSteps } from "./edm.js";
import type { DiffusionModel } from "./model.js";
import { predictorCorrectorSteps } from "./predictor-corrector.js";
import { probabilityFlowSteps } from "./probability-flow.js";
import { reverseSdeSteps } from "./reverse-sde.js";

/**
 * The sampler families by command-line name.
 *
 * @category Samplers
 */
export type SamplerFamily =
  | "ddpm"
  | "ddim"
  | "reverse-sde"
  | "pc"
  | "pf-heun"
  | "pf-rk45"
  | "edm"
  | "dpmpp-2m";

/**
 * Every family, in the order of the demo's gallery.
 *
 * @category Samplers
 */
export const SAMPLER_FAMILIES: readonly SamplerFamily[] = [
  "ddpm",
  "ddim",
  "reverse-sde",
  "pc",
  "pf-heun",
  "pf-rk45",
  "edm",
  "dpmpp-2m",
];

/**
 * A family's title, what `steps` means for it and its default step count.
 *
 * @category Samplers
 */
export interface SamplerFamilyInfo {
  /** Title for reports, e.g. "EDM Heun (Karras et al. 2022)". */
  readonly title: string;
  /** A short label for plots (at most 11 characters), e.g. "EDM Heun". */
  readonly label: string;
  /** What one step is. */
  readonly steps: string;
  /** The default number of steps. */
  readonly defaultSteps: number;
}

/**
 * Titles and defaults of the families.
 *
 * @category Samplers
 */
export const samplerFamilyInfo: Readonly<Record<SamplerFamily, SamplerFamilyInfo>> = {
  ddpm: {
    title: "DDPM ancestral (Ho et al. 2020)",
    label: "DDPM",
    steps: "chain steps, trailing spacing",
    defaultSteps: 250,
  },
  ddim: {
    title: "DDIM, η = 0 (Song et al. 2021)",
    label: "DDIM",
    steps: "chain steps, trailing spacing",
    defaultSteps: 50,
  },
  "reverse-sde": {
    title: "Reverse SDE, Euler–Maruyama",
    label: "Reverse SDE",
    steps: "uniform steps in t",
    defaultSteps: 250,
  },
  pc: {
    title: "Predictor–corrector (EM + Langevin)",
    label: "PC",
    steps: "uniform steps in t, one corrector each",
    defaultSteps: 125,
  },
  "pf-heun": {
    title: "Probability flow, Heun",
    label: "PF Heun",
    steps: "uniform steps in t",
    defaultSteps: 50,
  },
  "pf-rk45": {
    title: "Probability flow, RK45",
    label: "PF RK45",
    steps: "ignored (adaptive, rtol = atol = 1e-4)",
    defaultSteps: 0,
  },
  edm: {
    title: "EDM Heun (Karras et al. 2022)",
    label: "EDM Heun",
    steps: "Karras σ steps (ρ = 7)",
    defaultSteps: 18,
  },
  "dpmpp-2m": {
    title: "DPM-Solver++(2M) (Lu et al. 2022)",
    label: "DPM++(2M)",
    steps: "steps uniform in log-SNR",
    defaultSteps: 20,
  },
};

/**
 * What a family needs: the model, its SDE and discrete chain, the noise z [N, …] ~ N(0, I), a key for the
 * stochastic families, and the step count.
 *
 * @category Samplers
 */
export interface SamplerSetup<V> {
  /** The tensor space of the batch. */
  readonly space: BatchSpace<V>;
  /** The continuous-time model (any parameterization or a denoiser). */
  readonly model: DiffusionModel<V>;
  /** The model's linear SDE. */
  readonly sde: LinearSde;
  /** The discrete chain for DDPM and DDIM (e.g. `vpDdpmSchedule` of the VP SDE). */
  readonly schedule: DdpmSchedule;
  /** The model DDPM and DDIM call with integer timesteps of `schedule`; default `model` (right for a denoiser). */
  readonly discreteModel?: DiffusionModel<V>;
  /** Standard-normal noise, the batch shape. */
  readonly noise: V;
  /** Key of the stochastic families (DDPM, reverse SDE, PC). */
  readonly key: RngKey;
  /** Steps; see {@link samplerFamilyInfo} for each family's meaning. */
  readonly steps: number;
}

/**
 * What a family's step records count in: the SDE's time t, EDM's noise level σ (with the state x̂ = x/s(t(σ))),
 * or a timestep of the discrete chain (−1 after the last step).
 *
 * @category Samplers
 */
export type SamplerClock = "time" | "noise-level" | "timestep";

/**
 * A family ready to step: its iterator, the record of the state before the first step, and what the records'
 * `t` means.
 *
 * @category Samplers
 */
export interface SamplerFamilyRun<V> {
  /** Yields the state after every step; returns the last record or the error that stopped it. */
  readonly steps: SolverSteps<V>;
  /** The starting state (step 0, NFE 0). */
  readonly start: SolverStep<V>;
  /** The clock of `t` in the records. */
  readonly clock: SamplerClock;
}

const familyRun = <V>(steps: SolverSteps<V>, t: number, y: V, clock: SamplerClock): SamplerFamilyRun<V> => ({
  steps,
  start: { step: 0, t, y, nfe: 0 },
  clock,
});

/**
 * One family in iterator form, for progress and animation: the `…Steps` generator of its sampler with the
 * settings of the table, and its starting record. A step count < 1 (for any family but pf-rk45) is a Left naming
 * `steps`. Every sampler takes the standard-normal `noise` itself and starts where its docs say (σ_p·noise at T
 * for the continuous ones, σ₀·noise for EDM, noise for the chain).
 *
 * @category Samplers
 */
export const samplerFamilySteps = <V>(
  family: SamplerFamily,
  setup: SamplerSetup<V>,
): E.Either<ScoreflowError, SamplerFamilyRun<V>> => {
  const { space, model, sde, schedule, noise, key, steps } = setup;
  const discrete = setup.discreteModel ?? model;
  if (family !== "pf-rk45" && !(Number.isSafeInteger(steps) && steps >= 1))
    return E.left(scoreflowError(`sampler ${family}`, "steps", steps, "must be an integer ≥ 1"));
  const xT = space.combine([[sde.priorStd, noise]]);
  const onGrid = (run: (grid: Float64Array) => SolverSteps<V>) =>
    E.map((g: Float64Array) => familyRun(run(g), g[0], xT, "time"))(gridUniform(sde.tMax, sde.tMin, steps));
  const onChain = (run: (timesteps: Int32Array) => SolverSteps<V>) =>
    E.map((ts: Int32Array) => familyRun(run(ts), ts[0], noise, "timestep"))(
      ddpmTimesteps({
        numInferenceSteps: steps,
        numTrainTimesteps: schedule.betas.length,
        spacing: "trailing",
      }),
    );
  switch (family) {
    case "ddpm":
      return onChain((timesteps) =>
        ddpmAncestralSteps(space, schedule, discrete, noise, { timesteps, key: foldIn(key, 1) }),
      );
    case "ddim":
      return onChain((timesteps) => ddimSteps(space, schedule, discrete, noise, { timesteps }));
    case "reverse-sde":
      return onGrid((grid) => reverseSdeSteps(space, sde, model, noise, { grid, key: foldIn(key, 2) }));
    case "pc":
      return onGrid((grid) =>
        predictorCorrectorSteps(space, sde, model, noise, { grid, key: foldIn(key, 3) }),
      );
    case "pf-heun":
      return onGrid((grid) =>
        probabilityFlowSteps(space, sde, model, noise, { method: odeHeun, grid, denoiseFinal: true }),
      );
    case "pf-rk45":
      return E.right(
        familyRun(
          probabilityFlowSteps(space, sde, model, noise, {
            method: odeDopri5,
            rtol: 1e-4,
            atol: 1e-4,
            denoiseFinal: true,
          }),
          sde.tMax,
          xT,
          "time",
        ),
      );
    case "edm":
      return E.map((sigmas: Float64Array) =>
        familyRun(
          edmSteps(space, sde, model, noise, { sigmas }),
          sigmas[0],
          space.combine([[sigmas[0], noise]]),
          "noise-level",
        ),
      )(
        gridKarras({
          sigmaMin: noiseLevel(sde, sde.tMin),
          sigmaMax: noiseLevel(sde, sde.tMax),
          n: steps,
          appendZero: true,
        }),
      );
    case "dpmpp-2m":
      return E.map((g: Float64Array) =>
        familyRun(dpmpp2mSteps(space, sde, model, noise, { grid: g }), g[0], xT, "time"),
      )(gridLogSnr(sde, sde.tMax, sde.tMin, steps));
  }
};

/**
 * Runs one family to the end: {@link samplerFamilySteps} drained, the samples and the NFE.
 *
 * @category Samplers
 */
export const runSamplerFamily = <V>(
  family: SamplerFamily,
  setup: SamplerSetup<V>,
): E.Either<SolveError | ScoreflowError, Solution<V>> =>
  E.flatMap(samplerFamilySteps(family, setup), (run: SamplerFamilyRun<V>) =>
    collectSolution(run.steps, run.start.t, run.start.y),
  );
