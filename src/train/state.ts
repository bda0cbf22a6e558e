/**
 * The state of a training run after k steps, as plain data: the parameters θ_k, their exponential moving
 * average, Adam's state (its step count and moments m, v) and the position in the minibatch order. Together
 * with the {@link TrainConfig} (seed included) it determines the rest of the run exactly, which is what a
 * checkpoint saves.
 *
 * Every random draw of a run comes from the seed's root key through a purpose tag ({@link TRAIN_KEY_TAGS}):
 * initialization from foldIn(root, 0), the data order from foldIn(root, 1), and step k's times and noise from
 * foldIn(foldIn(root, 2), k) ({@link stepKey}), so each is a function of (seed, purpose, step) alone and a
 * resumed run draws what an uninterrupted one would.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { foldIn, type RngKey, rngKey } from "../core/rng.js";
import { checkParameters, initParameters, type Network, type Parameters } from "../nets/network.js";
import { type AdamState, adamInit } from "../nets/optim/adam.js";
import type { TrainConfig } from "./config.js";
import { DATA_ORDER_START, type DataOrderState } from "./data-order.js";

/**
 * The purpose tags folded into the seed's root key: `init` (parameter initialization), `dataOrder` (the
 * epochs' permutations) and `step` (then folded with the step index: each step's times and noise).
 *
 * @category Training
 */
export const TRAIN_KEY_TAGS = {
  /** Tag of the key of the initial parameters. */
  init: 0,
  /** Tag of the key of the minibatch order. */
  dataOrder: 1,
  /** Tag of the keys of the steps. */
  step: 2,
} as const;

/**
 * The root key of a run's seed (an integer ≥ 0, as in {@link TrainConfig}).
 *
 * @category Training
 */
export const seedKey = (config: TrainConfig): E.Either<ScoreflowError, RngKey> => rngKey(config.seed);

/**
 * The key of step k (k ≥ 0, the steps taken before it): foldIn(foldIn(root, TRAIN_KEY_TAGS.step), k).
 *
 * @category Training
 */
export const stepKey = (root: RngKey, step: number): RngKey =>
  foldIn(foldIn(root, TRAIN_KEY_TAGS.step), step);

/**
 * A training run after `step` steps.
 *
 * @category Training
 */
export interface TrainState {
  /** k, the optimizer steps taken so far, an integer ≥ 0. */
  readonly step: number;
  /** θ_k, every parameter of the network (trainable or not). */
  readonly parameters: Parameters;
  /** The exponential moving average of θ, same names and shapes as `parameters`. */
  readonly ema: Parameters;
  /** Adam's step count and moments. */
  readonly optimizer: AdamState;
  /** Where the next minibatch starts. */
  readonly dataOrder: DataOrderState;
}

/**
 * The state before the first step: θ₀ from `initParameters(network, foldIn(root, TRAIN_KEY_TAGS.init))`, the
 * EMA equal to θ₀ (as EDM's `copy.deepcopy(net)`), Adam's zero moments, and the start of the data order.
 *
 * @category Training
 */
export const initTrainState = (network: Network, config: TrainConfig): E.Either<ScoreflowError, TrainState> =>
  E.map((root: RngKey) => {
    const parameters = initParameters(network, foldIn(root, TRAIN_KEY_TAGS.init));
    return {
      step: 0,
      parameters,
      ema: parameters,
      optimizer: adamInit(parameters),
      dataOrder: DATA_ORDER_START,
    };
  })(seedKey(config));

/** Checks that every moment names a parameter of the network with its shape (a missing moment counts as 0). */
const checkMoments = (
  network: Network,
  moments: Parameters,
  which: string,
): E.Either<ScoreflowError, Parameters> => {
  const shapes = new Map(network.parameters.map((s) => [s.name, s.shape]));
  for (const [name, t] of moments) {
    const shape = shapes.get(name);
    if (shape === undefined)
      return E.left(
        scoreflowError(`${network.name} Adam ${which}`, name, name, "is not a parameter of this network"),
      );
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      return E.left(
        scoreflowError(
          `${network.name} Adam ${which}`,
          `${name}.shape`,
          t.shape,
          `must be [${shape.join(", ")}]`,
        ),
      );
  }
  return E.right(moments);
};

/**
 * Checks a state read from outside (a checkpoint) against the network it will train: parameters and EMA as in
 * `checkParameters` (every parameter, exact shapes, finite values, no unknown names), Adam's moments named after
 * parameters with their shapes. The Left names the first offending tensor.
 *
 * @category Training
 */
export const checkTrainState = (
  network: Network,
  state: TrainState,
): E.Either<ScoreflowError, TrainState> => {
  for (const result of [
    checkParameters(network, state.parameters),
    checkParameters({ ...network, name: `${network.name} EMA` }, state.ema),
    checkMoments(network, state.optimizer.m, "m"),
    checkMoments(network, state.optimizer.v, "v"),
  ])
    if (E.isLeft(result)) return result;
  return E.right(state);
};
