/**
 * A network as data: its parameter list (names, shapes, initializers) and its forward pass on a {@link Tape}.
 * Parameters live outside it, in a name → tensor map, so the same network record serves training (new
 * parameters every step), EMA weights and loaded checkpoints. Every network maps a batch x [N, …] and one
 * noise-conditioning scalar per sample (a timestep, or EDM's c_noise(σ)) to an output: of x's shape for a score
 * network, logits [N, K] for a classifier (which ignores the conditioning).
 *
 * Initialization follows PyTorch's defaults for the same layers, so freshly initialized scoreflow and PyTorch
 * models have the same distribution: Conv2d and Linear weights and biases ~ U(−1/√fan_in, 1/√fan_in)
 * (kaiming_uniform with a = √5 gives exactly this bound for the weight), GroupNorm γ = 1, β = 0.
 *
 * Source: PyTorch `torch/nn/modules/conv.py` and `linear.py`, `reset_parameters`; He et al., "Delving Deep into
 * Rectifiers", ICCV 2015 (the kaiming family).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { fillNormal, fillUniform, foldIn, type RngKey } from "../core/rng.js";
import { size, type Tensor } from "../core/tensor.js";
import { type NetOps, type ParameterLookup, tapeOps } from "./ops.js";
import {
  backward,
  constantNode,
  createTape,
  type Gradients,
  type NetKernels,
  parameterNode,
  runOnTape,
  type Tape,
} from "./tape.js";

/**
 * How a parameter is initialized: U(−bound, bound), a constant, or N(0, std²).
 *
 * @category Networks
 */
export type ParameterInit =
  | {
      /** Uniform on [−bound, bound] (PyTorch Conv2d/Linear: bound = 1/√fan_in). */
      readonly kind: "uniform";
      /** Half-width, > 0. */
      readonly bound: number;
    }
  | {
      /** Every entry equal to `value` (GroupNorm γ = 1, β = 0). */
      readonly kind: "constant";
      /** The value. */
      readonly value: number;
    }
  | {
      /** Normal N(0, std²) (Gaussian Fourier frequencies: std = scale). */
      readonly kind: "normal";
      /** Standard deviation, > 0. */
      readonly std: number;
    };

/**
 * One parameter of a network: state-dict name, shape, initializer, and whether training updates it.
 *
 * @category Networks
 */
export interface ParameterSpec {
  /** State-dict name, e.g. `conv_in.weight`. */
  readonly name: string;
  /** Shape, outermost first. */
  readonly shape: readonly number[];
  /** Initializer. */
  readonly init: ParameterInit;
  /** False for buffers stored with the weights but never trained (e.g. Fourier frequencies). */
  readonly trainable: boolean;
}

/**
 * Named parameter values (a state dict).
 *
 * @category Networks
 */
export type Parameters = ReadonlyMap<string, Tensor>;

/**
 * A network: what it is, what it takes, its parameters and its forward pass.
 *
 * @category Networks
 */
export interface Network {
  /** A short name for reports, e.g. `UNet2DModel` or `MLP`. */
  readonly name: string;
  /** The shape of one sample, e.g. [1, 32, 32] or [2]; inputs are [N, ...sampleShape]. */
  readonly sampleShape: readonly number[];
  /** The parameters, in state-dict order. */
  readonly parameters: readonly ParameterSpec[];
  /**
   * The forward pass: x [N, ...sampleShape] and one conditioning scalar per sample → output [N, …] (x's shape for
   * score networks, which samplers and losses rely on), written once in the ops of {@link NetOps} and run by any
   * of their implementations (a tape: {@link forwardNetwork}, {@link networkGradients}; the GPU:
   * `forwardNetworkWebgpu`). Runs under {@link runOnTape}; shapes are the caller's invariant.
   */
  readonly apply: <V>(ops: NetOps<V>, parameter: ParameterLookup<V>, x: V, noise: Float64Array) => V;
}

/**
 * The PyTorch initializer of a Conv2d / Linear weight or bias whose weight has fan_in = shape[1]·kh·kw inputs:
 * U(−1/√fan_in, 1/√fan_in).
 *
 * Source: PyTorch `_ConvNd.reset_parameters`, `Linear.reset_parameters` (kaiming_uniform_(a=√5) for the weight,
 * bound 1/√fan_in for the bias).
 *
 * @category Networks
 */
export const pytorchUniform = (fanIn: number): ParameterInit => ({
  kind: "uniform",
  bound: 1 / Math.sqrt(fanIn),
});

/**
 * The weight and bias specs of a Conv2d or Linear layer named `name` with weight shape [out, in, …]: both
 * initialized as PyTorch does, U(−1/√fan_in, 1/√fan_in) with fan_in = in·kh·kw (see {@link pytorchUniform}).
 *
 * @category Networks
 */
export const layerParameterSpecs = (name: string, weight: readonly number[]): ParameterSpec[] => {
  const init = pytorchUniform(size(weight.slice(1)));
  return [
    { name: `${name}.weight`, shape: weight, init, trainable: true },
    { name: `${name}.bias`, shape: [weight[0]], init, trainable: true },
  ];
};

/**
 * Fresh parameters, drawn from each spec's initializer with the keyed RNG: parameter i uses foldIn(key, i), so a
 * parameter's values do not depend on the others.
 *
 * @category Networks
 */
export const initParameters = (network: Network, key: RngKey): Parameters =>
  new Map(
    network.parameters.map((spec, i) => {
      const data = new Float32Array(size(spec.shape));
      const init = spec.init;
      if (init.kind === "constant") data.fill(init.value);
      else {
        const draws = new Float64Array(data.length);
        if (init.kind === "uniform") {
          fillUniform(foldIn(key, i), draws);
          for (let j = 0; j < data.length; j++) data[j] = (2 * draws[j] - 1) * init.bound;
        } else {
          fillNormal(foldIn(key, i), draws);
          for (let j = 0; j < data.length; j++) data[j] = init.std * draws[j];
        }
      }
      return [spec.name, { shape: [...spec.shape], data }];
    }),
  );

/**
 * Checks a state dict against the network: every parameter present with its exact shape and finite values,
 * and no unknown names. The Left names the first offending parameter.
 *
 * @category Networks
 */
export const checkParameters = (
  network: Network,
  parameters: Parameters,
): E.Either<ScoreflowError, Parameters> => {
  const context = `${network.name} parameters`;
  for (const spec of network.parameters) {
    const p = parameters.get(spec.name);
    if (p === undefined) return E.left(scoreflowError(context, spec.name, undefined, "is missing"));
    if (p.shape.length !== spec.shape.length || p.shape.some((d, i) => d !== spec.shape[i]))
      return E.left(
        scoreflowError(context, `${spec.name}.shape`, p.shape, `must be [${spec.shape.join(", ")}]`),
      );
    if (!p.data.every(Number.isFinite))
      return E.left(scoreflowError(context, spec.name, p.data, "must be finite"));
  }
  const known = new Set(network.parameters.map((s) => s.name));
  for (const name of parameters.keys())
    if (!known.has(name))
      return E.left(scoreflowError(context, name, name, "is not a parameter of this network"));
  return E.right(parameters);
};

/**
 * Checks a network's input at the boundary: x is [N, ...sampleShape] with N ≥ 1 and `noise` holds N finite
 * conditioning scalars; returns them as float64.
 *
 * @category Networks
 */
export const checkNetworkInput = (
  network: Network,
  x: Tensor,
  noise: ArrayLike<number>,
): E.Either<ScoreflowError, Float64Array> => {
  const context = `${network.name} forward`;
  const want = network.sampleShape;
  if (x.shape.length !== want.length + 1 || want.some((d, i) => x.shape[i + 1] !== d) || x.shape[0] < 1)
    return E.left(scoreflowError(context, "x.shape", x.shape, `must be [N, ${want.join(", ")}] with N ≥ 1`));
  if (noise.length !== x.shape[0])
    return E.left(
      scoreflowError(context, "noise.length", noise.length, `must equal the batch size N = ${x.shape[0]}`),
    );
  const c = Float64Array.from(noise);
  if (!c.every(Number.isFinite)) return E.left(scoreflowError(context, "noise", c, "must be finite"));
  return E.right(c);
};

const lookup =
  (tape: Tape, network: Network, parameters: Parameters): ParameterLookup =>
  (name) => {
    const value = parameters.get(name);
    if (value === undefined)
      throw new Error(`${network.name}: no parameter ${name} (a bug in the network record)`);
    return parameterNode(tape, name, value);
  };

/**
 * Inference: y = network(x, noise) on a tape that records nothing. Rules: x is [N, ...sampleShape], one finite
 * noise value per sample; parameters as in {@link checkParameters} (checked by the caller once, not per call).
 *
 * @category Networks
 */
export const forwardNetwork = (
  kernels: NetKernels,
  network: Network,
  parameters: Parameters,
  x: Tensor,
  noise: ArrayLike<number>,
): E.Either<ScoreflowError, Tensor> =>
  E.chain((c: Float64Array) =>
    runOnTape(() => {
      const tape = createTape(kernels, false);
      return network.apply(tapeOps(tape), lookup(tape, network, parameters), constantNode(tape, x), c).value;
    }),
  )(checkNetworkInput(network, x, noise));

/**
 * A scalar loss of the network output and its gradient ∂L/∂y.
 *
 * @category Networks
 */
export interface LossAndGradient {
  /** L(y). */
  readonly loss: number;
  /** ∂L/∂y, y's size. */
  readonly dOutput: Float32Array;
}

/**
 * The result of a training pass: the loss, the output and ∂L/∂θ for every trainable parameter.
 *
 * @category Networks
 */
export interface NetworkGradients {
  /** L(network(x, noise)). */
  readonly loss: number;
  /** The network output y. */
  readonly output: Tensor;
  /** ∂L/∂θ by parameter name (trainable parameters only). */
  readonly gradients: Gradients;
}

/**
 * A training pass: y = network(x, noise) on a recording tape, (L, ∂L/∂y) = loss(y), then the reverse sweep.
 * Frozen parameters (trainable: false) get no gradient. Rules as for {@link forwardNetwork}; a non-finite loss
 * or gradient is a Left.
 *
 * @category Networks
 */
export const networkGradients = (
  kernels: NetKernels,
  network: Network,
  parameters: Parameters,
  x: Tensor,
  noise: ArrayLike<number>,
  loss: (y: Tensor) => LossAndGradient,
): E.Either<ScoreflowError, NetworkGradients> =>
  E.chain((c: Float64Array) => {
    const tape = createTape(kernels, true);
    const ran = runOnTape(() =>
      network.apply(tapeOps(tape), lookup(tape, network, parameters), constantNode(tape, x), c),
    );
    if (E.isLeft(ran)) return ran;
    const y = ran.right;
    const l = loss(y.value);
    if (!Number.isFinite(l.loss))
      return E.left(scoreflowError(`${network.name} training pass`, "loss", l.loss, "must be finite"));
    const grads = backward(tape, y, l.dOutput);
    if (E.isLeft(grads)) return grads;
    const frozen = new Set(network.parameters.filter((s) => !s.trainable).map((s) => s.name));
    const gradients = new Map([...grads.right].filter(([name]) => !frozen.has(name)));
    return E.right({ loss: l.loss, output: y.value, gradients });
  })(checkNetworkInput(network, x, noise));

/** The tape name of the input when differentiating with respect to it (no state-dict name has angle brackets). */
const INPUT = "<input>";

/**
 * The divergence ∇ₓ·y(x) = Σ_d ∂y_d/∂x_d of a network over vectors (sampleShape [D]), per sample, exactly: one
 * forward pass and D reverse sweeps, sweep d seeded with the basis vector e_d in every row (rows are independent,
 * so one sweep gives ∂y_d/∂x for all of them). The cost is that of D gradient evaluations, against 2D forward
 * passes for central differences, and without their O(h²) and rounding errors (which float32 makes large).
 * Rules as for {@link forwardNetwork}, and a network over vectors.
 *
 * Source: Griewank & Walther 2008, §3 (a Jacobian by rows from reverse sweeps); the trace used by the
 * instantaneous change of variables (Chen et al. 2018, Thm. 1).
 *
 * @category Networks
 */
export const networkDivergence = (
  kernels: NetKernels,
  network: Network,
  parameters: Parameters,
  x: Tensor,
  noise: ArrayLike<number>,
): E.Either<ScoreflowError, Float64Array> => {
  if (network.sampleShape.length !== 1)
    return E.left(
      scoreflowError(
        `${network.name} divergence`,
        "sampleShape",
        network.sampleShape,
        "must be [D] (vectors)",
      ),
    );
  return E.chain((c: Float64Array) => {
    const tape = createTape(kernels, true);
    const ran = runOnTape(() =>
      network.apply(tapeOps(tape), lookup(tape, network, parameters), parameterNode(tape, INPUT, x), c),
    );
    if (E.isLeft(ran)) return ran;
    const [n, d] = x.shape;
    const divergence = new Float64Array(n);
    for (let j = 0; j < d; j++) {
      const seed = new Float32Array(n * d);
      for (let r = 0; r < n; r++) seed[r * d + j] = 1;
      const grads = backward(tape, ran.right, seed);
      if (E.isLeft(grads)) return grads;
      const dx = grads.right.get(INPUT)?.data ?? new Float32Array(n * d);
      for (let r = 0; r < n; r++) divergence[r] += dx[r * d + j];
    }
    return E.right(divergence);
  })(checkNetworkInput(network, x, noise));
};

/**
 * {@link forwardNetwork} for a sampler's model function, with one noise value c for the whole batch: a failed call
 * (a non-finite state from a diverging sampler) answers NaN of x's shape instead of a Left, so that the sampler's
 * own finiteness check stops and reports the step and time where it happened.
 *
 * @category Networks
 */
export const forwardForSampler = (
  kernels: NetKernels,
  network: Network,
  parameters: Parameters,
  x: Tensor,
  c: number,
): Tensor => {
  const y = forwardNetwork(kernels, network, parameters, x, new Float64Array(x.shape[0]).fill(c));
  return E.isRight(y) ? y.right : { shape: x.shape, data: new Float32Array(x.data.length).fill(Number.NaN) };
};
