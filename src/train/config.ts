/**
 * The configuration of a training run as one validated record: how long (steps), on what (batch size), how
 * (Adam or AdamW, a warm-up learning-rate schedule, optional gradient clipping), what is averaged (EMA by a fixed
 * decay or by a half-life), from what seed, and how often to checkpoint and log. Plain data, so that it is saved
 * verbatim in a checkpoint's `state.json` ({@link trainConfigToJson}) and read back through the same constructor
 * ({@link trainConfigFromJson}).
 *
 * Defaults follow the papers a researcher would reach for: DDPM's optimizer recipe (Ho et al. 2020, Appendix B:
 * Adam at 2·10⁻⁴ after a 5000-step linear warm-up, batch 128, gradient norm clipped at 1) and EDM's EMA
 * (Karras et al. 2022, `training/training_loop.py`: half-life 500 000 samples with ramp-up ratio 0.05), chosen
 * over DDPM's fixed decay 0.9999 because the ramp-up keeps the average meaningful for runs of any length.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { isRecord } from "../core/guards.js";
import { checkAll, isNonNegativeInteger, isPositive, isPositiveInteger } from "../core/validate.js";
import { type AdamConfig, adamConfig, adamWConfig } from "../nets/optim/adam.js";
import {
  type EdmEmaOptions,
  type EmaDecayOptions,
  edmEmaDecay,
  edmEmaOptions,
  emaDecay,
  emaDecayOptions,
} from "../nets/optim/ema.js";
import {
  type LearningRateSchedule,
  warmupConstantSchedule,
  warmupCosineSchedule,
} from "../nets/optim/schedule.js";

/**
 * A JSON value: what `JSON.parse` returns and `JSON.stringify` writes back unchanged.
 *
 * @category Training
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/**
 * How the EMA decay of each update is chosen: diffusers' `EMAModel` rule (a fixed decay, optionally warmed up)
 * or EDM's half-life in training samples.
 *
 * @category Training
 */
export type EmaSchedule =
  | {
      /** A decay β per update, `emaDecay(options, t)` for update t = 1, 2, …. */
      readonly kind: "decay";
      /** The decay and its warm-up. */
      readonly options: EmaDecayOptions;
    }
  | {
      /** β = 0.5^(B / H') with the half-life H' in samples, `edmEmaDecay(options, B, samples seen)`. */
      readonly kind: "halfLife";
      /** The half-life and its ramp-up. */
      readonly options: EdmEmaOptions;
    };

/**
 * A training run's configuration.
 *
 * @category Training
 */
export interface TrainConfig {
  /** Total optimizer steps of the run, an integer ≥ 1; default 10 000. */
  readonly steps: number;
  /** Examples per minibatch B, an integer ≥ 1; default 128 (DDPM, CIFAR-10). */
  readonly batchSize: number;
  /** Adam or AdamW; default Adam with lr = 2·10⁻⁴ (DDPM) and PyTorch's other defaults. */
  readonly optimizer: AdamConfig;
  /**
   * The learning rate per step; its peak `baseLr` equals `optimizer.lr`. Default: linear warm-up over
   * min(5000, ⌊steps/10⌋) steps (DDPM's 5000, shortened for short runs), then constant.
   */
  readonly schedule: LearningRateSchedule;
  /** Clip the gradients' global 2-norm to this value (> 0), or `undefined` for no clipping; default 1 (DDPM). */
  readonly gradClipNorm: number | undefined;
  /** The EMA decay rule; default EDM's half-life of 500 000 samples with ramp-up ratio 0.05. */
  readonly ema: EmaSchedule;
  /** The seed of every random draw of the run (initialization, data order, noise), an integer ≥ 0; default 0. */
  readonly seed: number;
  /** Save a checkpoint every this many steps (and at the end), an integer ≥ 1; default 1000. */
  readonly checkpointEvery: number;
  /** Log metrics every this many steps, an integer ≥ 1; default 100. */
  readonly logEvery: number;
}

const CONTEXT = "train config";

const KINDS: Readonly<Record<string, string>> = {
  "optimizer.decoupled": "must be true (AdamW) or false (Adam)",
  "schedule.kind": 'must be "warmupConstant" or "warmupCosine"',
  "ema.kind": 'must be "decay" or "halfLife"',
  "ema.options.useWarmup": "must be true or false",
};

const badKind = (field: string, value: unknown): E.Either<ScoreflowError, never> =>
  E.left(scoreflowError(CONTEXT, field, value, KINDS[field]));

/** Re-validates an Adam(W) record through its own constructor. */
const checkOptimizer = (o: AdamConfig): E.Either<ScoreflowError, AdamConfig> =>
  o.decoupled === true
    ? adamWConfig(o)
    : o.decoupled === false
      ? adamConfig(o)
      : badKind("optimizer.decoupled", o.decoupled);

/** Re-validates a schedule record through its own constructor. */
const checkSchedule = (s: LearningRateSchedule): E.Either<ScoreflowError, LearningRateSchedule> =>
  s.kind === "warmupConstant"
    ? warmupConstantSchedule(s)
    : s.kind === "warmupCosine"
      ? warmupCosineSchedule(s)
      : badKind("schedule.kind", (s as { readonly kind: unknown }).kind);

/** Re-validates an EMA rule through the constructor of its options. */
const checkEma = (ema: EmaSchedule): E.Either<ScoreflowError, EmaSchedule> => {
  if (ema.kind === "halfLife")
    return E.map((options: EdmEmaOptions) => ({ kind: "halfLife" as const, options }))(
      edmEmaOptions(ema.options),
    );
  if (ema.kind !== "decay") return badKind("ema.kind", (ema as { readonly kind: unknown }).kind);
  const warmup: unknown = ema.options.useWarmup;
  if (warmup !== undefined && typeof warmup !== "boolean") return badKind("ema.options.useWarmup", warmup);
  return E.map((options: EmaDecayOptions) => ({ kind: "decay" as const, options }))(
    emaDecayOptions(ema.options),
  );
};

/**
 * A training configuration: the given fields over the defaults listed on {@link TrainConfig}. The optimizer,
 * schedule and EMA records are checked again by their own constructors (`adamConfig`/`adamWConfig`,
 * `warmupConstantSchedule`/`warmupCosineSchedule`, `emaDecayOptions`/`edmEmaOptions`). Rules: steps, batchSize,
 * checkpointEvery, logEvery integers ≥ 1; seed an integer ≥ 0; gradClipNorm > 0 and finite, or `undefined`
 * (pass `gradClipNorm: undefined` explicitly to turn clipping off); schedule.baseLr = optimizer.lr. The learning
 * rate given by one of `optimizer` and `schedule` is the default of the other.
 *
 * @category Training
 */
export const trainConfig = (partial: Partial<TrainConfig> = {}): E.Either<ScoreflowError, TrainConfig> => {
  const scalars = {
    steps: partial.steps ?? 10_000,
    batchSize: partial.batchSize ?? 128,
    gradClipNorm: "gradClipNorm" in partial ? partial.gradClipNorm : 1,
    seed: partial.seed ?? 0,
    checkpointEvery: partial.checkpointEvery ?? 1000,
    logEvery: partial.logEvery ?? 100,
  };
  const lr = partial.optimizer?.lr ?? partial.schedule?.baseLr ?? 2e-4;
  return pipe(
    checkAll(CONTEXT, [
      ["steps", scalars.steps, isPositiveInteger],
      ["batchSize", scalars.batchSize, isPositiveInteger],
      ["seed", scalars.seed, isNonNegativeInteger],
      ["checkpointEvery", scalars.checkpointEvery, isPositiveInteger],
      ["logEvery", scalars.logEvery, isPositiveInteger],
      ...(scalars.gradClipNorm === undefined
        ? []
        : [["gradClipNorm", scalars.gradClipNorm, isPositive] as const]),
    ]),
    E.flatMap(() =>
      partial.optimizer === undefined ? adamConfig({ lr }) : checkOptimizer(partial.optimizer),
    ),
    E.bindTo("optimizer"),
    E.bind("schedule", ({ optimizer }) =>
      pipe(
        partial.schedule === undefined
          ? warmupConstantSchedule({
              baseLr: lr,
              warmupSteps: Math.min(5000, Math.floor(scalars.steps / 10)),
            })
          : checkSchedule(partial.schedule),
        E.filterOrElse(
          (schedule) => schedule.baseLr === optimizer.lr,
          (schedule) =>
            scoreflowError(
              CONTEXT,
              "schedule.baseLr",
              schedule.baseLr,
              "must equal optimizer.lr (the schedule's peak is the optimizer's rate)",
              `schedule.baseLr=${schedule.baseLr}, optimizer.lr=${optimizer.lr}`,
            ),
        ),
      ),
    ),
    E.bind("ema", () =>
      checkEma(partial.ema ?? { kind: "halfLife", options: { halfLifeSamples: 500_000, rampupRatio: 0.05 } }),
    ),
    E.map((records) => ({ ...scalars, ...records })),
  );
};

/**
 * The EMA decay β of the update that follows optimizer step `step` (an integer ≥ 0, the steps taken before it):
 * `emaDecay(options, step + 1)` for a fixed decay, `edmEmaDecay(options, B, step·B)` for a half-life (the
 * samples seen before this step, as EDM's `cur_nimg`).
 *
 * @category Training
 */
export const emaDecayAt = (config: TrainConfig, step: number): number =>
  config.ema.kind === "decay"
    ? emaDecay(config.ema.options, step + 1)
    : edmEmaDecay(config.ema.options, config.batchSize, step * config.batchSize);

/**
 * The configuration as JSON: the record itself, with `null` for the fields that are `undefined`
 * (`gradClipNorm`, a half-life's `rampupRatio`), which JSON cannot hold.
 *
 * @category Training
 */
export const trainConfigToJson = (config: TrainConfig): JsonValue => ({
  steps: config.steps,
  batchSize: config.batchSize,
  optimizer: { ...config.optimizer },
  schedule: { ...config.schedule },
  gradClipNorm: config.gradClipNorm ?? null,
  ema:
    config.ema.kind === "decay"
      ? { kind: "decay", options: { ...config.ema.options } }
      : {
          kind: "halfLife",
          options: {
            halfLifeSamples: config.ema.options.halfLifeSamples,
            rampupRatio: config.ema.options.rampupRatio ?? null,
          },
        },
  seed: config.seed,
  checkpointEvery: config.checkpointEvery,
  logEvery: config.logEvery,
});

/** A nested object field (`undefined` when absent), or a Left naming it. */
const nested = (
  value: unknown,
  path: string,
  required: boolean,
): E.Either<ScoreflowError, Readonly<Record<string, unknown>> | undefined> =>
  isRecord(value) || (value === undefined && !required)
    ? E.right(value)
    : E.left(scoreflowError(`${CONTEXT} JSON`, path, value, "must be an object"));

/**
 * Reads a configuration written by {@link trainConfigToJson} (after `JSON.parse`): checks that the nested
 * records are objects, turns `null` back into `undefined`, and validates everything through
 * {@link trainConfig}, so a hand-edited file obeys the same rules; an absent field takes its default. Any
 * failure is a Left naming the field.
 *
 * @category Training
 */
export const trainConfigFromJson = (json: unknown): E.Either<ScoreflowError, TrainConfig> => {
  if (!isRecord(json)) return E.left(scoreflowError(`${CONTEXT} JSON`, "config", json, "must be an object"));
  return pipe(
    E.Do,
    E.bind("optimizer", () => nested(json.optimizer, "optimizer", false)),
    E.bind("schedule", () => nested(json.schedule, "schedule", false)),
    E.bind("ema", () => nested(json.ema, "ema", false)),
    E.bind("emaOptions", ({ ema }) => nested(ema?.options, "ema.options", ema !== undefined)),
    E.flatMap(({ optimizer, schedule, ema, emaOptions }) =>
      // The constructors check every number and kind; the casts only name the shapes they expect.
      trainConfig({
        ...(json as Partial<TrainConfig>),
        optimizer: optimizer as AdamConfig | undefined,
        schedule: schedule as LearningRateSchedule | undefined,
        ...("gradClipNorm" in json
          ? { gradClipNorm: (json.gradClipNorm ?? undefined) as number | undefined }
          : {}),
        ema:
          ema === undefined
            ? undefined
            : ({
                kind: ema.kind,
                options:
                  ema.kind === "halfLife" && emaOptions !== undefined && emaOptions.rampupRatio === null
                    ? { ...emaOptions, rampupRatio: undefined }
                    : emaOptions,
              } as unknown as EmaSchedule),
      }),
    ),
  );
};
