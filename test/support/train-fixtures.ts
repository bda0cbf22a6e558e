/**
 * Shared fixtures for the training tests: a small EDM-preconditioned MLP on 2-D checkerboard data, a short
 * configuration that exercises warm-up, clipping and the EMA, a runner, and a bit-exact comparison of parameter
 * maps. Used by the unit tests and by the child process of the kill test.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import type { Tensor } from "../../src/core/tensor.js";
import { checkerboard } from "../../src/data/toys.js";
import { createBackend } from "../../src/nets/backend.js";
import { mlpConfig, mlpNetwork } from "../../src/nets/mlp.js";
import type { Parameters } from "../../src/nets/network.js";
import { adamWConfig } from "../../src/nets/optim/adam.js";
import { warmupConstantSchedule } from "../../src/nets/optim/schedule.js";
import { edmPreconditioning } from "../../src/nets/precondition.js";
import type { ScoreModel } from "../../src/nets/score-model.js";
import { type NetKernels, netKernels } from "../../src/nets/tape.js";
import { type TrainConfig, trainConfig } from "../../src/train/config.js";
import { trainSteps } from "../../src/train/loop.js";
import { edmLoss } from "../../src/train/losses.js";
import { initTrainState, type TrainState } from "../../src/train/state.js";

/** The webasm kernels. */
export const trainKernels = async (): Promise<NetKernels> =>
  orThrow(netKernels(orThrow(await createBackend("webasm"))));

/** The MLP's description, as a caller would store it in a checkpoint. */
export const modelDescription = { mlp: { dataDim: 2, width: 16, blocks: 1 }, sigmaData: 0.5 } as const;

/** An MLP of width 16 with one block, EDM-preconditioned (σ_data = 0.5). */
export const model: ScoreModel = {
  kind: "denoiser",
  network: mlpNetwork(orThrow(mlpConfig({ dataDim: 2, width: 16, blocks: 1 }))),
  preconditioning: orThrow(edmPreconditioning(modelDescription.sigmaData)),
};

/** The EDM loss with its default P_mean, P_std. */
export const loss = orThrow(edmLoss());

/** 50 checkerboard points (so batches of 16 straddle epochs). */
export const dataset: Tensor = checkerboard(orThrow(rngKey(99)), 50);

/** 12 steps of AdamW, batch 16, warm-up over 3 steps, clipping at 1, a short EMA half-life. */
export const config: TrainConfig = orThrow(
  trainConfig({
    steps: 12,
    batchSize: 16,
    optimizer: orThrow(adamWConfig({ lr: 3e-3 })),
    schedule: orThrow(warmupConstantSchedule({ baseLr: 3e-3, warmupSteps: 3 })),
    gradClipNorm: 1,
    ema: { kind: "halfLife", options: { halfLifeSamples: 64, rampupRatio: 0.5 } },
    seed: 5,
    checkpointEvery: 1,
  }),
);

/** The state before the first step. */
export const initialState = (): TrainState => orThrow(initTrainState(model.network, config));

/** Runs from `state` until `until` steps are taken (at most `config.steps`); throws on a Left. */
export const runTo = (kernels: NetKernels, state: TrainState, until: number): TrainState => {
  let current = state;
  for (const result of trainSteps(kernels, model, loss, { ...config, steps: until }, state, dataset)) {
    if (E.isLeft(result)) throw new Error(result.left.message);
    current = result.right.state;
  }
  return current;
};

/** The raw bits of a float32 array, for bit-exact comparison (NaN payloads and −0 included). */
const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Each tensor of `p` as its shape and bits, keyed and ordered by name. */
export const bitsOf = (p: Parameters): Record<string, { shape: readonly number[]; bits: number[] }> =>
  Object.fromEntries(
    [...p.keys()].sort().map((name) => {
      const t = p.get(name) as Tensor;
      return [name, { shape: t.shape, bits: bits(t.data) }];
    }),
  );

/** Everything a resumed run must reproduce exactly, as comparable plain data. */
export const stateBits = (s: TrainState) => ({
  step: s.step,
  parameters: bitsOf(s.parameters),
  ema: bitsOf(s.ema),
  adamStep: s.optimizer.step,
  m: bitsOf(s.optimizer.m),
  v: bitsOf(s.optimizer.v),
  dataOrder: s.dataOrder,
});
