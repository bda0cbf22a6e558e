import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { adamConfig, adamWConfig } from "../../src/nets/optim/adam.js";
import { warmupCosineSchedule } from "../../src/nets/optim/schedule.js";
import {
  emaDecayAt,
  type TrainConfig,
  trainConfig,
  trainConfigFromJson,
  trainConfigToJson,
} from "../../src/train/config.js";

const message = <A>(r: E.Either<{ readonly message: string }, A>): string =>
  E.isLeft(r) ? r.left.message : "Right";

/** diffusers' EMAModel defaults, as a full options record. */
const emaDefaults = {
  decay: 0.9999,
  minDecay: 0,
  updateAfterStep: 0,
  useWarmup: false,
  invGamma: 1,
  power: 2 / 3,
};

describe("trainConfig", () => {
  it("has the documented defaults (DDPM's optimizer recipe, EDM's EMA)", () => {
    expect(orThrow(trainConfig())).toEqual({
      steps: 10_000,
      batchSize: 128,
      optimizer: orThrow(adamConfig({ lr: 2e-4 })),
      schedule: { kind: "warmupConstant", baseLr: 2e-4, warmupSteps: 1000 },
      gradClipNorm: 1,
      ema: { kind: "halfLife", options: { halfLifeSamples: 500_000, rampupRatio: 0.05 } },
      seed: 0,
      checkpointEvery: 1000,
      logEvery: 100,
    });
    expect(orThrow(trainConfig({ steps: 800_000 })).schedule).toMatchObject({ warmupSteps: 5000 });
  });

  it("takes the learning rate from the optimizer or the schedule, and refuses two different ones", () => {
    const fromOptimizer = orThrow(trainConfig({ optimizer: orThrow(adamWConfig({ lr: 1e-3 })) }));
    expect(fromOptimizer.schedule.baseLr).toBe(1e-3);
    const cosine = orThrow(warmupCosineSchedule({ baseLr: 5e-4, warmupSteps: 10, totalSteps: 100 }));
    expect(orThrow(trainConfig({ schedule: cosine })).optimizer.lr).toBe(5e-4);
    expect(message(trainConfig({ schedule: cosine, optimizer: orThrow(adamConfig()) }))).toBe(
      "train config: schedule.baseLr must equal optimizer.lr (the schedule's peak is the optimizer's rate), got schedule.baseLr=0.0005, optimizer.lr=0.001",
    );
  });

  it("turns clipping off only when asked explicitly", () => {
    expect(orThrow(trainConfig({ gradClipNorm: undefined })).gradClipNorm).toBeUndefined();
    expect(message(trainConfig({ gradClipNorm: 0 }))).toMatch(/gradClipNorm must be a finite number > 0/);
  });

  it("names the offending field, including those of the nested records", () => {
    expect(message(trainConfig({ steps: 0 }))).toBe(
      "train config: steps must be an integer ≥ 1, got steps=0",
    );
    expect(message(trainConfig({ batchSize: 1.5 }))).toMatch(/batchSize must be an integer ≥ 1/);
    expect(message(trainConfig({ seed: -1 }))).toMatch(/seed must be an integer ≥ 0/);
    expect(message(trainConfig({ logEvery: 0 }))).toMatch(/logEvery/);
    const optimizer = { ...orThrow(adamConfig()), beta2: 1 };
    expect(message(trainConfig({ optimizer }))).toMatch(/^Adam: beta2 must lie in the half-open interval/);
    const ema = { kind: "decay", options: { decay: 2 } } as unknown as TrainConfig["ema"];
    expect(message(trainConfig({ ema }))).toMatch(/^EMA decay: decay must lie in the closed interval/);
    const odd = { kind: "polyak", options: {} } as unknown as TrainConfig["ema"];
    expect(message(trainConfig({ ema: odd }))).toMatch(/ema.kind must be "decay" or "halfLife"/);
  });
});

describe("emaDecayAt", () => {
  it("follows diffusers' rule for a fixed decay (update t = step + 1) and EDM's for a half-life", () => {
    const fixed = orThrow(
      trainConfig({ ema: { kind: "decay", options: { ...emaDefaults, decay: 0.99, updateAfterStep: 2 } } }),
    );
    expect([0, 1, 2, 3, 4].map((k) => emaDecayAt(fixed, k))).toEqual([0, 0, 0, 0.99, 0.99]);
    const half = orThrow(
      trainConfig({
        batchSize: 10,
        ema: { kind: "halfLife", options: { halfLifeSamples: 100, rampupRatio: 0.5 } },
      }),
    );
    expect(emaDecayAt(half, 0)).toBe(0);
    expect(emaDecayAt(half, 4)).toBeCloseTo(0.5 ** (10 / 20), 15);
    expect(emaDecayAt(half, 1000)).toBeCloseTo(0.5 ** (10 / 100), 15);
  });
});

describe("trainConfigToJson / trainConfigFromJson", () => {
  it("round-trip through JSON text, undefined fields included", () => {
    const configs = [
      orThrow(trainConfig()),
      orThrow(
        trainConfig({
          gradClipNorm: undefined,
          optimizer: orThrow(adamWConfig({ lr: 3e-4, weightDecay: 0.1 })),
          schedule: orThrow(
            warmupCosineSchedule({ baseLr: 3e-4, warmupSteps: 5, totalSteps: 50, minLr: 1e-6 }),
          ),
          ema: { kind: "halfLife", options: { halfLifeSamples: 1000, rampupRatio: undefined } },
          seed: 2 ** 40,
        }),
      ),
      orThrow(trainConfig({ ema: { kind: "decay", options: { ...emaDefaults, useWarmup: true } } })),
    ];
    for (const c of configs)
      expect(orThrow(trainConfigFromJson(JSON.parse(JSON.stringify(trainConfigToJson(c)))))).toEqual(c);
  });

  it("validates what it reads and names the field", () => {
    const json = trainConfigToJson(orThrow(trainConfig())) as Record<string, unknown>;
    expect(message(trainConfigFromJson([]))).toMatch(/config must be an object/);
    expect(message(trainConfigFromJson({ ...json, optimizer: 3 }))).toMatch(/optimizer must be an object/);
    expect(message(trainConfigFromJson({ ...json, steps: "10" }))).toMatch(/steps must be an integer ≥ 1/);
    expect(message(trainConfigFromJson({ ...json, ema: { kind: "halfLife" } }))).toMatch(
      /ema.options must be an object/,
    );
    const badWarmup = { ...json, ema: { kind: "decay", options: { ...emaDefaults, useWarmup: "yes" } } };
    expect(message(trainConfigFromJson(badWarmup))).toMatch(/ema.options.useWarmup must be true or false/);
    const badDecoupled = { ...json, optimizer: { ...(json.optimizer as object), decoupled: 1 } };
    expect(message(trainConfigFromJson(badDecoupled))).toMatch(/optimizer.decoupled must be true/);
    expect(orThrow(trainConfigFromJson({}))).toEqual(orThrow(trainConfig()));
  });
});
