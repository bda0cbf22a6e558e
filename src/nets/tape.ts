/**
 * Reverse-mode differentiation over network ops: a tape. Running a network on a recording tape stores, for
 * each op, a pullback (the vector–Jacobian product ∂L/∂inputs = (∂op/∂inputs)ᵀ·∂L/∂output, with whatever the op
 * saved from its forward pass); {@link backward} seeds ∂L/∂output and runs the pullbacks in reverse order,
 * summing the gradients of values used more than once (skip connections, residuals). An inference tape
 * records nothing and keeps no activations.
 *
 * The tape is the only mutable thing in the network code, and it lives for one forward/backward pass: drop it
 * and every saved activation goes with it. Ops validate through the checked entry points of `kernels/`; a Left
 * inside a network is raised and turned back into a Left at the boundary by {@link runOnTape}.
 *
 * Source: Griewank & Walther, "Evaluating Derivatives", 2nd ed., SIAM 2008, ch. 3 (reverse mode, the adjoint
 * recurrence v̄ᵢ = Σ_{j ∈ succ(i)} v̄ⱼ·∂φⱼ/∂vᵢ).
 *
 * @module
 */
import { sequenceS } from "fp-ts/lib/Apply.js";
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import type { NetBackend } from "./backend.js";
import { type AttentionKernels, attentionKernels } from "./kernels/attention.js";
import { type Conv2dKernels, conv2dKernels } from "./kernels/conv2d.js";
import { type LinearKernels, linearKernels } from "./kernels/linear.js";
import type { KernelThreads } from "./wasm/threads.js";

/**
 * The compiled kernels a network runs on, one set per backend.
 *
 * @category Networks
 */
export interface NetKernels {
  /** Convolution kernels. */
  readonly conv2d: Conv2dKernels;
  /** Linear-layer kernels. */
  readonly linear: LinearKernels;
  /** Self-attention kernels. */
  readonly attention: AttentionKernels;
}

/**
 * The kernels of every op for a backend (a Left names the op the backend cannot run). On webasm, `threads`
 * (Node: `createKernelThreads` of `scoreflow/node`) split the matrix products of the convolutions, linear layers
 * and attention across cores, with bit-identical results.
 *
 * @category Networks
 */
export const netKernels = (
  backend: NetBackend,
  threads?: KernelThreads,
): E.Either<ScoreflowError, NetKernels> =>
  sequenceS(E.Apply)({
    conv2d: conv2dKernels(backend, threads),
    linear: linearKernels(backend, threads),
    attention: attentionKernels(backend, threads),
  });

/**
 * Releases the compiled kernels and their scratch memory.
 *
 * @category Networks
 */
export const disposeNetKernels = (kernels: NetKernels): void => {
  kernels.conv2d.dispose();
  kernels.linear.dispose();
  kernels.attention.dispose();
};

/**
 * A value on a tape: a tensor and its position. `trainable` nodes receive a gradient in {@link backward}.
 *
 * @category Networks
 */
export interface Node {
  /** Position on the tape (creation order). */
  readonly id: number;
  /** The forward value. */
  readonly value: Tensor;
  /** Whether ∂L/∂value is wanted (a parameter, or anything computed from one). */
  readonly trainable: boolean;
}

/**
 * A pullback: given ∂L/∂output, returns ∂L/∂input for each input (undefined where the input needs none).
 *
 * @category Networks
 */
export type Pullback = (dOutput: Float32Array) => readonly (Float32Array | undefined)[];

/**
 * One recorded op: its output, its inputs and its pullback.
 *
 * @category Networks
 */
export interface TapeStep {
  /** The op's output node. */
  readonly output: Node;
  /** The op's input nodes, in the pullback's order. */
  readonly inputs: readonly Node[];
  /** ∂L/∂output ↦ ∂L/∂inputs. */
  readonly pullback: Pullback;
}

/**
 * One forward (and optionally backward) pass: the kernels, whether pullbacks are recorded, and the record.
 * Create one per pass with {@link createTape}.
 *
 * @category Networks
 */
export interface Tape {
  /** The kernels the ops run on. */
  readonly kernels: NetKernels;
  /** Whether ops record pullbacks (training) or not (inference). */
  readonly recording: boolean;
  /** Recorded ops in forward order (empty when not recording). */
  readonly steps: TapeStep[];
  /** Parameter nodes by name. */
  readonly parameters: Map<string, Node>;
  /** The next node id. */
  next: number;
}

/**
 * A fresh tape; `recording: false` runs inference without saving anything for a backward pass.
 *
 * @category Networks
 */
export const createTape = (kernels: NetKernels, recording: boolean): Tape => ({
  kernels,
  recording,
  steps: [],
  parameters: new Map(),
  next: 0,
});

const node = (tape: Tape, value: Tensor, trainable: boolean): Node => ({
  id: tape.next++,
  value,
  trainable,
});

/**
 * A constant input (data, embeddings of t): no gradient is computed for it.
 *
 * @category Networks
 */
export const constantNode = (tape: Tape, value: Tensor): Node => node(tape, value, false);

/**
 * A named parameter: its gradient is returned under `name` by {@link backward}.
 *
 * @category Networks
 */
export const parameterNode = (tape: Tape, name: string, value: Tensor): Node => {
  const p = node(tape, value, tape.recording);
  if (tape.recording) tape.parameters.set(name, p);
  return p;
};

/**
 * Records an op's output. The pullback is kept only when recording and some input is trainable; the output is
 * trainable exactly then.
 *
 * @category Networks
 */
export const recordOp = (tape: Tape, value: Tensor, inputs: readonly Node[], pullback: Pullback): Node => {
  const trainable = tape.recording && inputs.some((x) => x.trainable);
  const output = node(tape, value, trainable);
  if (trainable) tape.steps.push({ output, inputs, pullback });
  return output;
};

/**
 * A failure inside a network pass: an op's Left, carried to {@link runOnTape}.
 */
interface TapeFailure {
  readonly tapeFailure: ScoreflowError;
}

const isTapeFailure = (e: unknown): e is TapeFailure =>
  typeof e === "object" && e !== null && "tapeFailure" in e;

/**
 * Unwraps an op's result inside a network pass; a Left ends the pass and becomes the Left of
 * {@link runOnTape}. Only for code that runs under {@link runOnTape}.
 *
 * @category Networks
 */
export const must = <A>(result: E.Either<ScoreflowError, A>): A => {
  if (E.isLeft(result)) throw { tapeFailure: result.left } satisfies TapeFailure;
  return result.right;
};

/**
 * Runs a network pass; the first op that fails (a Left from {@link must}) makes the whole result that Left.
 *
 * @category Networks
 */
export const runOnTape = <A>(pass: () => A): E.Either<ScoreflowError, A> => {
  try {
    return E.right(pass());
  } catch (e) {
    if (isTapeFailure(e)) return E.left(e.tapeFailure);
    throw e;
  }
};

/**
 * Gradients by parameter name.
 *
 * @category Networks
 */
export type Gradients = ReadonlyMap<string, Tensor>;

const accumulate = (grads: Map<number, Float32Array>, id: number, g: Float32Array): void => {
  const prev = grads.get(id);
  if (prev === undefined) {
    grads.set(id, g);
    return;
  }
  // Fresh buffer: a pullback may return its argument (identity ops), which must not be written into.
  const sum = new Float32Array(g.length);
  for (let i = 0; i < g.length; i++) sum[i] = prev[i] + g[i];
  grads.set(id, sum);
};

/**
 * The reverse sweep: seeds ∂L/∂output = `dOutput`, runs every recorded pullback in reverse order, summing
 * gradients where a value has several consumers, and returns ∂L/∂θ for every parameter of the tape (zeros for a
 * parameter the output does not depend on). Rules: the tape recorded, `dOutput` has the output's size and is
 * finite.
 *
 * Source: Griewank & Walther 2008, §3.1, the reverse (adjoint) recurrence.
 *
 * @category Networks
 */
export const backward = (
  tape: Tape,
  output: Node,
  dOutput: Float32Array,
): E.Either<ScoreflowError, Gradients> => {
  if (!tape.recording)
    return E.left(scoreflowError("backward", "tape.recording", false, "must be true (an inference tape)"));
  if (dOutput.length !== output.value.data.length)
    return E.left(
      scoreflowError(
        "backward",
        "dOutput.length",
        dOutput.length,
        `must equal the output size ${output.value.data.length}`,
      ),
    );
  if (!dOutput.every(Number.isFinite))
    return E.left(scoreflowError("backward", "dOutput", dOutput, "must be finite"));
  const grads = new Map<number, Float32Array>([[output.id, dOutput]]);
  for (let k = tape.steps.length - 1; k >= 0; k--) {
    const step = tape.steps[k];
    const g = grads.get(step.output.id);
    if (g === undefined) continue;
    grads.delete(step.output.id);
    const dInputs = step.pullback(g);
    step.inputs.forEach((x, i) => {
      const d = dInputs[i];
      if (x.trainable && d !== undefined) accumulate(grads, x.id, d);
    });
  }
  const out = new Map<string, Tensor>();
  for (const [name, p] of tape.parameters) {
    out.set(name, {
      shape: [...p.value.shape],
      data: grads.get(p.id) ?? new Float32Array(p.value.data.length),
    });
  }
  return E.right(out);
};
