/**
 * A small image classifier trained by scoreflow's own machinery: a network on the tape whose output is K logits
 * per image, the softmax and the softmax cross-entropy loss with its gradient, and minibatch Adam training over a
 * labeled dataset. It exists to measure generated digits (see `metrics/digit-quality.ts`), the way FID and the
 * Inception score measure generated photographs with a pretrained classifier.
 *
 * The default architecture (for [1, 16, 16] MNIST digits) is a small convolutional network in the LeNet
 * tradition: 3×3 convolutions of stride 2 (padding 1) with SiLU, each halving the resolution, then a dense
 * hidden layer and a dense output layer:
 *   h₀ = x,   hₗ = SiLU(conv₃ₓ₃,stride 2(hₗ₋₁)),   l = 1 … L,
 *   z = W₂·SiLU(W₁·flatten(h_L) + b₁) + b₂ ∈ ℝᴷ.
 * With no convolutions (`channels: []`) it is an MLP on the flattened pixels.
 *
 * A classifier has the `name`, `sampleShape` and `parameters` fields of a {@link Network} and a forward pass that
 * takes no conditioning input, so it is structurally a `Network` whose pass ignores the noise input: the parameter
 * machinery of `network.ts` (initParameters, checkParameters, forwardNetwork, networkGradients) serves it as
 * is, called with a conditioning of zeros.
 *
 * Sources: LeCun et al., "Gradient-based learning applied to document recognition", Proc. IEEE 1998 (LeNet-5 and
 * MNIST); Springenberg et al., "Striving for Simplicity: The All Convolutional Net", ICLR 2015 workshop (strided
 * convolutions in place of pooling); Bishop, "Pattern Recognition and Machine Learning", 2006, §4.3.4
 * (multiclass logistic regression: softmax, cross-entropy and its gradient).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { foldIn, type RngKey } from "../core/rng.js";
import { size, type Tensor, type Tensor64 } from "../core/tensor.js";
import { checkAll, isPositiveInteger } from "../core/validate.js";
import { DATA_ORDER_START, dataOrder, gatherRows, nextBatch } from "../train/data-order.js";
import {
  forwardNetwork,
  initParameters,
  type LossAndGradient,
  layerParameterSpecs,
  networkGradients,
  type ParameterSpec,
  type Parameters,
} from "./network.js";
import type { NetOps, ParameterLookup } from "./ops.js";
import { type AdamConfig, adamInit, adamStep } from "./optim/adam.js";
import type { NetKernels } from "./tape.js";

/**
 * The architecture of a classifier of images [C, H, W] into K classes.
 *
 * @category Networks
 */
export interface ClassifierConfig {
  /** The image shape [C, H, W], each an integer ≥ 1. */
  readonly sampleShape: readonly [channels: number, height: number, width: number];
  /** The number of classes K ≥ 2. */
  readonly classes: number;
  /** Output channels of the 3×3 stride-2 convolutions, in order (each ≥ 1); empty for an MLP on the pixels. */
  readonly channels: readonly number[];
  /** Width of the dense hidden layer, ≥ 1. */
  readonly hidden: number;
}

/**
 * A classifier: its parameters and its forward pass from images to logits. Structurally a `Network` (see the
 * module notes), so `initParameters` and `checkParameters` take it directly.
 *
 * @category Networks
 */
export interface Classifier {
  /** A short name for reports and error messages, e.g. `Classifier[16, 32]→128→10`. */
  readonly name: string;
  /** The image shape [C, H, W]; inputs are [N, C, H, W]. */
  readonly sampleShape: readonly number[];
  /** The number of classes K (the logits are [N, K]). */
  readonly classes: number;
  /** The parameters, in state-dict order (PyTorch `Conv2d` / `Linear` initialization). */
  readonly parameters: readonly ParameterSpec[];
  /** The forward pass: images x [N, C, H, W] → logits z [N, K], in any ops (see {@link NetOps}). */
  readonly apply: <V>(ops: NetOps<V>, parameter: ParameterLookup<V>, x: V) => V;
}

/** Output size ⌊(n + 2·1 − 3)/2⌋ + 1 of a 3×3 convolution of stride 2 and padding 1. */
const halved = (n: number): number => Math.floor((n - 1) / 2) + 1;

const STRIDE_2 = { stride: 2, padding: 1 } as const;

/**
 * Validates a classifier architecture; defaults: K = 10 classes, convolutions of 16 and 32 channels, 128 hidden
 * units (for 16×16 inputs: 16×16 → 8×8 → 4×4, then 512 → 128 → 10; 71 754 parameters).
 *
 * @category Networks
 */
export const classifierConfig = (
  config: Pick<ClassifierConfig, "sampleShape"> & Partial<ClassifierConfig>,
): E.Either<ScoreflowError, ClassifierConfig> => {
  const c: ClassifierConfig = { classes: 10, channels: [16, 32], hidden: 128, ...config };
  const context = "classifier config";
  if (c.sampleShape.length !== 3)
    return E.left(scoreflowError(context, "sampleShape", c.sampleShape, "must be [C, H, W]"));
  if (c.classes < 2 || !Number.isSafeInteger(c.classes))
    return E.left(scoreflowError(context, "classes", c.classes, "must be an integer ≥ 2"));
  return E.map(() => c)(
    checkAll(context, [
      ["sampleShape[0]", c.sampleShape[0], isPositiveInteger],
      ["sampleShape[1]", c.sampleShape[1], isPositiveInteger],
      ["sampleShape[2]", c.sampleShape[2], isPositiveInteger],
      ...c.channels.map((ch, i) => [`channels[${i}]`, ch, isPositiveInteger] as const),
      ["hidden", c.hidden, isPositiveInteger],
    ]),
  );
};

/** Features after the convolutions: C_L·H_L·W_L. */
const flatFeatures = (c: ClassifierConfig): number => {
  const [c0, h0, w0] = c.sampleShape;
  const h = c.channels.reduce(halved, h0);
  const w = c.channels.reduce(halved, w0);
  return (c.channels.at(-1) ?? c0) * h * w;
};

/**
 * The classifier of a validated architecture (see the module notes), with parameters `conv.{l}.weight` [Cₗ,
 * Cₗ₋₁, 3, 3] and `conv.{l}.bias`, `hidden.weight`/`.bias` and `output.weight`/`.bias`.
 *
 * @category Networks
 */
export const classifier = (config: ClassifierConfig): Classifier => {
  const { channels, hidden, classes } = config;
  const inputs = [config.sampleShape[0], ...channels];
  return {
    name: `Classifier[${channels.join(", ")}]→${hidden}→${classes}`,
    sampleShape: [...config.sampleShape],
    classes,
    parameters: [
      ...channels.flatMap((out, l) => layerParameterSpecs(`conv.${l}`, [out, inputs[l], 3, 3])),
      ...layerParameterSpecs("hidden", [hidden, flatFeatures(config)]),
      ...layerParameterSpecs("output", [classes, hidden]),
    ],
    apply: (ops, p, x) => {
      const h = channels.reduce(
        (acc, _, l) => ops.silu(ops.conv2d(acc, p(`conv.${l}.weight`), p(`conv.${l}.bias`), STRIDE_2)),
        x,
      );
      const u = ops.silu(ops.linear(ops.flatten(h), p("hidden.weight"), p("hidden.bias")));
      return ops.linear(u, p("output.weight"), p("output.bias"));
    },
  };
};

/** The log-normalizer ln Σⱼ exp zₙⱼ = mₙ + ln Σⱼ exp(zₙⱼ − mₙ), mₙ = maxⱼ zₙⱼ, of every row of z [N, K]. */
const logNormalizers = (logits: Tensor<Float32Array | Float64Array>): Float64Array => {
  const [n, k] = logits.shape;
  const z = logits.data;
  const lse = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = r * k; j < (r + 1) * k; j++) m = Math.max(m, z[j]);
    let sum = 0;
    for (let j = r * k; j < (r + 1) * k; j++) sum += Math.exp(z[j] - m);
    lse[r] = m + Math.log(sum);
  }
  return lse;
};

/**
 * The softmax of every row of logits z [N, K], in float64 through the log-normalizer shifted by the row maximum
 * (so that no exp overflows):
 *   pₙₖ = exp(zₙₖ − ln Σⱼ exp zₙⱼ),   ln Σⱼ exp zₙⱼ = mₙ + ln Σⱼ exp(zₙⱼ − mₙ),   mₙ = maxⱼ zₙⱼ.
 * Each row lies in the simplex (pₙₖ ∈ [0, 1], Σₖ pₙₖ = 1 up to rounding) and is invariant to adding a
 * constant to the row. Logits must be finite.
 *
 * Source: Bishop 2006, eq. 4.104 (the softmax); Goodfellow, Bengio & Courville, "Deep Learning", MIT Press
 * 2016, §4.1 (the max shift).
 *
 * @category Networks
 */
export const softmax = (logits: Tensor<Float32Array | Float64Array>): Tensor64 => {
  const [n, k] = logits.shape;
  const lse = logNormalizers(logits);
  const p = new Float64Array(n * k);
  for (let j = 0; j < n * k; j++) p[j] = Math.exp(logits.data[j] - lse[Math.floor(j / k)]);
  return { shape: [n, k], data: p };
};

/**
 * The mean softmax cross-entropy of logits z [N, K] against labels yₙ ∈ {0, …, K − 1}, and its gradient:
 *   L = −(1/N) Σₙ ln softmax(zₙ)_{yₙ} = (1/N) Σₙ (ln Σⱼ exp zₙⱼ − zₙ,yₙ),
 *   ∂L/∂zₙₖ = (softmax(zₙ)ₖ − [k = yₙ]) / N.
 * L ≥ 0, and L = ln K for equal logits. The log-sum-exp is shifted by the row maximum (finite for any finite
 * logits, even a confident wrong answer); the gradient is rounded once to float32. Rules (not checked): N ≥ 1,
 * one label per row, each an integer in [0, K).
 *
 * Source: Bishop 2006, eqs. 4.108–4.109 (the cross-entropy of the softmax and its gradient (yₙₖ − tₙₖ));
 * PyTorch `torch.nn.CrossEntropyLoss` with `reduction="mean"`.
 *
 * @category Networks
 */
export const softmaxCrossEntropy = (
  logits: Tensor<Float32Array | Float64Array>,
  labels: ArrayLike<number>,
): LossAndGradient => {
  const [n, k] = logits.shape;
  const z = logits.data;
  const lse = logNormalizers(logits);
  const dOutput = new Float32Array(n * k);
  let loss = 0;
  for (let r = 0; r < n; r++) {
    const y = r * k + labels[r];
    loss += lse[r] - z[y];
    for (let j = r * k; j < (r + 1) * k; j++) dOutput[j] = (Math.exp(z[j] - lse[r]) - (j === y ? 1 : 0)) / n;
  }
  return { loss: loss / n, dOutput };
};

/**
 * Images and their class labels.
 *
 * @category Networks
 */
export interface LabeledImages {
  /** Images [M, C, H, W]. */
  readonly images: Tensor;
  /** The M labels, each an integer in [0, K). */
  readonly labels: ArrayLike<number>;
}

/** Checks images [M, ...sampleShape] with M ≥ 1. */
const checkImages = (context: string, c: Classifier, x: Tensor): E.Either<ScoreflowError, Tensor> => {
  const s = c.sampleShape;
  return x.shape.length === s.length + 1 && x.shape[0] >= 1 && s.every((d, i) => x.shape[i + 1] === d)
    ? E.right(x)
    : E.left(scoreflowError(context, "images.shape", x.shape, `must be [M, ${s.join(", ")}] with M ≥ 1`));
};

/**
 * The logits z [N, K] of images x [N, C, H, W], computed `batchSize` images at a time (inference tape: the
 * memory of one batch's activations). Rules: x of the classifier's sample shape with N ≥ 1, finite;
 * `parameters` as `checkParameters` requires (not checked here); batchSize an integer ≥ 1.
 *
 * @category Networks
 */
export const classifierLogits = (
  kernels: NetKernels,
  c: Classifier,
  parameters: Parameters,
  x: Tensor,
  batchSize = 500,
): E.Either<ScoreflowError, Tensor> => {
  const context = `${c.name} logits`;
  const ok = pipe(
    checkImages(context, c, x),
    E.tap(() => checkAll(context, [["batchSize", batchSize, isPositiveInteger]])),
  );
  if (E.isLeft(ok)) return ok;
  const n = x.shape[0];
  const width = size(c.sampleShape);
  const logits = new Float32Array(n * c.classes);
  for (let start = 0; start < n; start += batchSize) {
    const rows = Math.min(batchSize, n - start);
    const batch = {
      shape: [rows, ...c.sampleShape],
      data: x.data.subarray(start * width, (start + rows) * width),
    };
    const z = forwardNetwork(kernels, c, parameters, batch, new Float64Array(rows));
    if (E.isLeft(z)) return z;
    logits.set(z.right.data, start * c.classes);
  }
  return E.right({ shape: [n, c.classes], data: logits });
};

/**
 * The class probabilities softmax(z) [N, K] of images x (see {@link classifierLogits} and {@link softmax}).
 *
 * @category Networks
 */
export const classifierProbabilities = (
  kernels: NetKernels,
  c: Classifier,
  parameters: Parameters,
  x: Tensor,
  batchSize = 500,
): E.Either<ScoreflowError, Tensor64> =>
  E.map(softmax)(classifierLogits(kernels, c, parameters, x, batchSize));

/**
 * How {@link trainClassifier} trains.
 *
 * @category Training
 */
export interface ClassifierTraining {
  /** The key of the initial parameters (`foldIn(key, 0)`) and of the minibatch order (`foldIn(key, 1)`). */
  readonly key: RngKey;
  /** Optimizer steps, an integer ≥ 1. */
  readonly steps: number;
  /** Images per minibatch B, an integer ≥ 1. */
  readonly batchSize: number;
  /** The Adam configuration (from `adamConfig`, already validated). */
  readonly optimizer: AdamConfig;
}

/**
 * What one training step reports.
 *
 * @category Training
 */
export interface ClassifierStep {
  /** Steps taken, this one included (1 after the first). */
  readonly step: number;
  /** The minibatch cross-entropy before this step's update. */
  readonly loss: number;
  /** The parameters after the step. */
  readonly parameters: Parameters;
}

/** Checks a labeled dataset against a classifier and the training options. */
const checkTraining = (
  c: Classifier,
  data: LabeledImages,
  options: ClassifierTraining,
): E.Either<ScoreflowError, void> => {
  const context = `${c.name} training`;
  return pipe(
    checkImages(context, c, data.images),
    E.flatMap(() =>
      checkAll(context, [
        ["steps", options.steps, isPositiveInteger],
        ["batchSize", options.batchSize, isPositiveInteger],
      ]),
    ),
    E.flatMap(() => {
      const m = data.images.shape[0];
      if (data.labels.length !== m)
        return E.left(
          scoreflowError(
            context,
            "labels.length",
            data.labels.length,
            `must equal the number of images M = ${m}`,
          ),
        );
      for (let i = 0; i < m; i++) {
        const y = data.labels[i];
        if (!(Number.isInteger(y) && y >= 0 && y < c.classes))
          return E.left(
            scoreflowError(context, `labels[${i}]`, y, `must be an integer in [0, ${c.classes})`),
          );
      }
      return E.right(undefined);
    }),
  );
};

/**
 * Trains a classifier from fresh parameters by minibatch Adam on the mean softmax cross-entropy, as a
 * generator that yields after every step (for progress bars) and returns the trained parameters. Step k: the
 * next B indices of the seeded epoch order (`dataOrder`: every epoch visits every example once), (L, ∂L/∂θ) by
 * the tape through {@link softmaxCrossEntropy}, then θ ← adamStep(θ, ∂L/∂θ). Deterministic given the options.
 * A Left (yielded, then returned) for images not of the classifier's shape, a label count other than M, a
 * label outside [0, K), steps or batchSize not an integer ≥ 1, or a non-finite loss.
 *
 * Source: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1; Bishop 2006,
 * §4.3.4 (the loss).
 *
 * @category Training
 */
export function* classifierTrainSteps(
  kernels: NetKernels,
  c: Classifier,
  data: LabeledImages,
  options: ClassifierTraining,
): Generator<E.Either<ScoreflowError, ClassifierStep>, E.Either<ScoreflowError, Parameters>, undefined> {
  const ok = E.flatMap(checkTraining(c, data, options), () =>
    dataOrder(foldIn(options.key, 1), data.images.shape[0], options.batchSize),
  );
  if (E.isLeft(ok)) {
    yield ok;
    return ok;
  }
  const order = ok.right;
  let parameters = initParameters(c, foldIn(options.key, 0));
  let adam = adamInit(parameters);
  let position = DATA_ORDER_START;
  for (let k = 0; k < options.steps; k++) {
    const batch = nextBatch(order, position);
    position = batch.state;
    const labels = Array.from(batch.indices, (i) => data.labels[i]);
    const pass = networkGradients(
      kernels,
      c,
      parameters,
      gatherRows(data.images, batch.indices),
      new Float64Array(options.batchSize),
      (z) => softmaxCrossEntropy(z, labels),
    );
    if (E.isLeft(pass)) {
      yield pass;
      return pass;
    }
    ({ params: parameters, state: adam } = adamStep(
      options.optimizer,
      adam,
      parameters,
      pass.right.gradients,
    ));
    yield E.right({ step: k + 1, loss: pass.right.loss, parameters });
  }
  return E.right(parameters);
}

/**
 * Runs {@link classifierTrainSteps} to the end and returns the trained parameters (or its Left).
 *
 * @category Training
 */
export const trainClassifier = (
  kernels: NetKernels,
  c: Classifier,
  data: LabeledImages,
  options: ClassifierTraining,
): E.Either<ScoreflowError, Parameters> => {
  const steps = classifierTrainSteps(kernels, c, data, options);
  let next = steps.next();
  while (next.done !== true) next = steps.next();
  return next.value;
};
