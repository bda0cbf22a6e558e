import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { foldIn, rngKey } from "../../src/core/rng.js";
import { adamConfig } from "../../src/nets/optim/adam.js";
import { clipGradNorm } from "../../src/nets/optim/clip.js";
import { warmupConstantSchedule } from "../../src/nets/optim/schedule.js";
import type { NetKernels } from "../../src/nets/tape.js";
import { trainConfig } from "../../src/train/config.js";
import { dataOrder, epochPermutation, gatherRows } from "../../src/train/data-order.js";
import { trainStep, trainSteps } from "../../src/train/loop.js";
import { lossGradients } from "../../src/train/losses.js";
import { checkTrainState, initTrainState, stepKey, TRAIN_KEY_TAGS } from "../../src/train/state.js";
import {
  bitsOf,
  config,
  dataset,
  initialState,
  loss,
  model,
  runTo,
  stateBits,
  trainKernels,
} from "../support/train-fixtures.js";

let kernels: NetKernels;
beforeAll(async () => {
  kernels = await trainKernels();
});

describe("initTrainState", () => {
  it("initializes θ from the seed's init key, the EMA equal to θ, zero moments, the start of the order", () => {
    const s = initialState();
    expect(s.step).toBe(0);
    expect(bitsOf(s.ema)).toEqual(bitsOf(s.parameters));
    expect(s.optimizer.step).toBe(0);
    expect([...s.optimizer.m.values()].every((t) => t.data.every((v) => v === 0))).toBe(true);
    expect(s.dataOrder).toEqual({ epoch: 0, offset: 0 });
    expect(E.isRight(checkTrainState(model.network, s))).toBe(true);
    const other = orThrow(initTrainState(model.network, { ...config, seed: 6 }));
    expect(bitsOf(other.parameters)).not.toEqual(bitsOf(s.parameters));
  });
});

describe("trainStep", () => {
  it("is the documented composition: batch, loss gradients under the step key, clip, lr, AdamW, EMA", () => {
    const s0 = initialState();
    const s2 = runTo(kernels, s0, 2);
    const result = orThrow(trainStep(kernels, model, loss, config, s2, dataset));
    const root = orThrow(rngKey(config.seed));
    const order = orThrow(dataOrder(foldIn(root, TRAIN_KEY_TAGS.dataOrder), 50, 16));
    // Step 2 takes positions 32 … 47 of epoch 0.
    const indices = epochPermutation(order.key, 50, 0).subarray(32, 48);
    const g = orThrow(
      lossGradients(kernels, model, loss, s2.parameters, gatherRows(dataset, indices), stepKey(root, 2)),
    );
    expect(result.metrics.loss).toBe(g.loss);
    expect(result.metrics.gradNorm).toBe(clipGradNorm(g.gradients, 1).norm);
    expect(result.metrics.lr).toBeCloseTo((3e-3 * 2) / 3, 18);
    expect(result.metrics.step).toBe(3);
    expect(result.state.step).toBe(3);
    expect(result.state.optimizer.step).toBe(3);
    expect(result.state.dataOrder).toEqual({ epoch: 0, offset: 48 });
    // EDM's ramp-up: H' = min(64, 0.5·32) = 16 samples → β = 0.5^(16/16).
    expect(result.metrics.emaDecay).toBe(0.5);
  });

  it("is pure: same inputs, same bits, inputs untouched", () => {
    const s = runTo(kernels, initialState(), 1);
    const before = stateBits(s);
    const a = orThrow(trainStep(kernels, model, loss, config, s, dataset));
    const b = orThrow(trainStep(kernels, model, loss, config, s, dataset));
    expect(stateBits(a.state)).toEqual(stateBits(b.state));
    expect(stateBits(s)).toEqual(before);
  });

  it("reports no clipping as the unclipped norm", () => {
    const s = initialState();
    const clipped = orThrow(trainStep(kernels, model, loss, config, s, dataset));
    const free = orThrow(trainStep(kernels, model, loss, { ...config, gradClipNorm: undefined }, s, dataset));
    expect(free.metrics.gradNorm).toBe(clipped.metrics.gradNorm);
  });

  it("gives a Left naming the step when the loss goes non-finite (a diverging run)", () => {
    const wild = orThrow(
      trainConfig({
        ...config,
        steps: 200,
        optimizer: orThrow(adamConfig({ lr: 1e30 })),
        schedule: orThrow(warmupConstantSchedule({ baseLr: 1e30, warmupSteps: 0 })),
        gradClipNorm: undefined,
      }),
    );
    const results = [...trainSteps(kernels, model, loss, wild, initialState(), dataset)];
    const last = results[results.length - 1];
    const k = results.length - 1;
    expect(k).toBeGreaterThan(0);
    expect(results.slice(0, -1).every(E.isRight)).toBe(true);
    expect(E.isLeft(last) && last.left.message).toMatch(
      new RegExp(`^training step ${k} \\(.*\\): .* must be finite`),
    );
  });

  it("gives a Left naming the step for a data-order position beyond the dataset", () => {
    const s = { ...initialState(), step: 4, dataOrder: { epoch: 0, offset: 60 } };
    const r = trainStep(kernels, model, loss, config, s, dataset);
    expect(E.isLeft(r) && r.left.message).toBe(
      "training step 4 (data order state): offset must be < the number of examples M = 50, got offset=60",
    );
  });
});

describe("trainSteps", () => {
  it("yields one result per remaining step and nothing once the run is done", () => {
    const results = [...trainSteps(kernels, model, loss, { ...config, steps: 4 }, initialState(), dataset)];
    expect(results.map((r) => orThrow(r).metrics.step)).toEqual([1, 2, 3, 4]);
    const done = orThrow(results[3]).state;
    expect([...trainSteps(kernels, model, loss, { ...config, steps: 4 }, done, dataset)]).toEqual([]);
  });

  it("lowers the loss of a longer run (sanity)", () => {
    const long = { ...config, steps: 150, batchSize: 50 };
    const losses = [...trainSteps(kernels, model, loss, long, initialState(), dataset)].map(
      (r) => orThrow(r).metrics.loss,
    );
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-30))).toBeLessThan(mean(losses.slice(0, 30)));
  });
});

describe("checkTrainState", () => {
  it("names the first tensor that does not fit the network", () => {
    const s = initialState();
    const ema = new Map(s.ema);
    ema.set("output.bias", { shape: [3], data: new Float32Array(3) });
    const r = checkTrainState(model.network, { ...s, ema });
    expect(E.isLeft(r) && r.left.message).toMatch(/^MLP EMA parameters: output.bias.shape must be \[2\]/);
    const m = new Map(s.optimizer.m);
    m.set("extra", { shape: [1], data: new Float32Array(1) });
    const r2 = checkTrainState(model.network, { ...s, optimizer: { ...s.optimizer, m } });
    expect(E.isLeft(r2) && r2.left.message).toMatch(/^MLP Adam m: extra is not a parameter of this network/);
  });
});
