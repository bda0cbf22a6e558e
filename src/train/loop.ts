/**
 * The training loop as a pure step, (state_k, dataset) → state_{k+1}:
 *
 *   indices, order' = nextBatch(order, state.dataOrder);  x₀ = dataset[indices]
 *   L, g = lossGradients(model, loss, θ_k, x₀, key_k)       key_k = foldIn(foldIn(root, 2), k) (on the CPU ops,
 *                                                           or on the GPU: trainStepWebgpu)
 *   g, ‖g‖ = clipGradNorm(g, c)                             (c = ∞ when clipping is off: ‖g‖ is still reported)
 *   η_k = learningRate(schedule, k);  θ_{k+1}, adam' = adamStep(optimizer, adam, θ_k, g, η_k)
 *   ema' = emaUpdate(ema, θ_{k+1}, β_k)                     β_k = emaDecayAt(config, k)
 *
 * Nothing else is read, so a run resumed from a saved state (and the same config, dataset, model and loss)
 * computes exactly the floats of an uninterrupted one. {@link trainSteps} runs the step to the end of the run as
 * a generator, yielding after every step for progress bars and logs.
 *
 * Sources: Ho et al. 2020, Algorithm 1 (the training loop) and Appendix B; Karras et al. 2022,
 * `training/training_loop.py` (the order: gradients, optimizer step, EMA update).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { foldIn, type RngKey } from "../core/rng.js";
import type { Tensor } from "../core/tensor.js";
import { type NetworkGradients, networkGradients } from "../nets/network.js";
import { adamStep } from "../nets/optim/adam.js";
import { clipGradNorm } from "../nets/optim/clip.js";
import { emaUpdate } from "../nets/optim/ema.js";
import { learningRate } from "../nets/optim/schedule.js";
import type { ScoreModel } from "../nets/score-model.js";
import type { NetKernels } from "../nets/tape.js";
import { networkGradientsWebgpu } from "../nets/webgpu/backward.js";
import type { WebgpuNetKernels } from "../nets/webgpu/device.js";
import { emaDecayAt, type TrainConfig } from "./config.js";
import { type Batch, dataOrder, dataOrderState, gatherRows, nextBatch } from "./data-order.js";
import { type LossPass, lossPass, type TrainingLoss } from "./losses.js";
import { seedKey, stepKey, TRAIN_KEY_TAGS, type TrainState } from "./state.js";

/**
 * What one step reports.
 *
 * @category Training
 */
export interface TrainMetrics {
  /** The steps taken, this one included (1 after the first step). */
  readonly step: number;
  /** The minibatch loss L(θ_k) of this step. */
  readonly loss: number;
  /** The learning rate η_k this step used. */
  readonly lr: number;
  /** ‖g‖₂, the global gradient norm before clipping. */
  readonly gradNorm: number;
  /** The EMA decay β_k of this step's update. */
  readonly emaDecay: number;
}

/**
 * A step's result: the next state and the step's metrics.
 *
 * @category Training
 */
export interface TrainStepResult {
  /** The state after the step. */
  readonly state: TrainState;
  /** What the step measured. */
  readonly metrics: TrainMetrics;
}

/** An error of step k, its origin kept in the context. */
const atStep = (step: number, error: ScoreflowError): ScoreflowError =>
  scoreflowError(`training step ${step} (${error.context})`, error.field, error.value, error.rule);

/** The minibatch of step k = state.step and its loss pass, before any network runs. */
const prepare = (
  model: ScoreModel,
  loss: TrainingLoss,
  config: TrainConfig,
  state: TrainState,
  dataset: Tensor,
  root: RngKey,
): E.Either<ScoreflowError, { readonly batch: Batch; readonly pass: LossPass }> =>
  pipe(
    dataOrder(foldIn(root, TRAIN_KEY_TAGS.dataOrder), dataset.shape[0], config.batchSize),
    E.tap((order) => dataOrderState(order, state.dataOrder)),
    E.map((order) => nextBatch(order, state.dataOrder)),
    E.bindTo("batch"),
    E.bind("pass", ({ batch }) =>
      lossPass(model, loss, gatherRows(dataset, batch.indices), stepKey(root, state.step)),
    ),
  );

/** The rest of step k once its gradients are known: clipping, the learning rate, Adam(W) and the EMA. */
const update = (
  config: TrainConfig,
  state: TrainState,
  batch: Batch,
  pass: NetworkGradients,
): TrainStepResult => {
  const k = state.step;
  const clipped = clipGradNorm(pass.gradients, config.gradClipNorm ?? Number.POSITIVE_INFINITY);
  const lr = learningRate(config.schedule, k);
  const updated = adamStep(config.optimizer, state.optimizer, state.parameters, clipped.gradients, lr);
  const decay = emaDecayAt(config, k);
  return {
    state: {
      step: k + 1,
      parameters: updated.params,
      ema: emaUpdate(state.ema, updated.params, decay),
      optimizer: updated.state,
      dataOrder: batch.state,
    },
    metrics: { step: k + 1, loss: pass.loss, lr, gradNorm: clipped.norm, emaDecay: decay },
  };
};

/** One step once the root key is known. */
const step = (
  kernels: NetKernels,
  model: ScoreModel,
  loss: TrainingLoss,
  config: TrainConfig,
  state: TrainState,
  dataset: Tensor,
  root: RngKey,
): E.Either<ScoreflowError, TrainStepResult> =>
  pipe(
    prepare(model, loss, config, state, dataset, root),
    E.flatMap(({ batch, pass }) =>
      E.map((g: NetworkGradients) => update(config, state, batch, g))(
        networkGradients(kernels, pass.network, state.parameters, pass.x, pass.noise, pass.loss),
      ),
    ),
    E.mapLeft((error) => atStep(state.step, error)),
  );

/**
 * One training step from `state` (k = state.step), as laid out in the module notes: the next minibatch of
 * `dataset` [M, ...sampleShape] in the seeded order, the loss and its gradients under step k's key, clipping,
 * the scheduled learning rate, Adam(W), and the EMA update. Pure: the inputs are not modified, and the result
 * depends on (config, state, dataset, model, loss) only. A Left names step k: a data-order position that does
 * not fit the dataset, a model/loss mismatch or a batch of the wrong shape (from `lossGradients`), or a
 * non-finite loss or gradient (the run has diverged).
 *
 * @category Training
 */
export const trainStep = (
  kernels: NetKernels,
  model: ScoreModel,
  loss: TrainingLoss,
  config: TrainConfig,
  state: TrainState,
  dataset: Tensor,
): E.Either<ScoreflowError, TrainStepResult> =>
  E.flatMap((root: RngKey) => step(kernels, model, loss, config, state, dataset, root))(seedKey(config));

/**
 * The rest of a run: {@link trainStep} from `state` until `config.steps` steps are taken, yielding each step's
 * result as it comes (for a progress bar, a JSON-lines log, checkpoints every `config.checkpointEvery` steps).
 * Stops after yielding the first Left. Yields nothing when `state.step ≥ config.steps`.
 *
 * @category Training
 */
export function* trainSteps(
  kernels: NetKernels,
  model: ScoreModel,
  loss: TrainingLoss,
  config: TrainConfig,
  state: TrainState,
  dataset: Tensor,
): Generator<E.Either<ScoreflowError, TrainStepResult>, void, undefined> {
  let current = state;
  while (current.step < config.steps) {
    const result = trainStep(kernels, model, loss, config, current, dataset);
    yield result;
    if (E.isLeft(result)) return;
    current = result.right.state;
  }
}

/**
 * {@link trainStep} with the training pass on the GPU (`networkGradientsWebgpu`): the same minibatch, keys,
 * clipping, Adam(W) and EMA; the gradients differ from the CPU's by float32 rounding only.
 *
 * @category Training
 */
export const trainStepWebgpu = async (
  kernels: WebgpuNetKernels,
  model: ScoreModel,
  loss: TrainingLoss,
  config: TrainConfig,
  state: TrainState,
  dataset: Tensor,
): Promise<E.Either<ScoreflowError, TrainStepResult>> => {
  const prepared = E.flatMap(seedKey(config), (root: RngKey) =>
    prepare(model, loss, config, state, dataset, root),
  );
  if (E.isLeft(prepared)) return E.left(atStep(state.step, prepared.left));
  const { batch, pass } = prepared.right;
  const g = await networkGradientsWebgpu(
    kernels,
    pass.network,
    state.parameters,
    pass.x,
    pass.noise,
    pass.loss,
  );
  return E.isLeft(g) ? E.left(atStep(state.step, g.left)) : E.right(update(config, state, batch, g.right));
};

/**
 * {@link trainSteps} on the GPU: {@link trainStepWebgpu} until `config.steps`, yielding each step's result; stops
 * after the first Left.
 *
 * @category Training
 */
export async function* trainStepsWebgpu(
  kernels: WebgpuNetKernels,
  model: ScoreModel,
  loss: TrainingLoss,
  config: TrainConfig,
  state: TrainState,
  dataset: Tensor,
): AsyncGenerator<E.Either<ScoreflowError, TrainStepResult>, void, undefined> {
  let current = state;
  while (current.step < config.steps) {
    const result = await trainStepWebgpu(kernels, model, loss, config, current, dataset);
    yield result;
    if (E.isLeft(result)) return;
    current = result.right.state;
  }
}
