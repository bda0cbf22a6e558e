/**
 * A network's training pass on the GPU: the forward pass of `forward.ts` on a device tape that keeps each op's
 * pullback, the loss on the host from the output read back, and the reverse sweep on the device, summing the
 * gradients of values used more than once; the parameters' gradients are read back at the end. The same adjoints
 * as the CPU tape (`tape.ts`, `layers.ts`), as GPU.js kernels (`backward-kernels.ts`).
 *
 * Source: Griewank & Walther, "Evaluating Derivatives", 2nd ed., SIAM 2008, ch. 3 (reverse mode).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../../core/errors.js";
import { size, type Tensor } from "../../core/tensor.js";
import {
  conv2dBiasGradientKernel,
  conv2dInputGradientKernel,
  conv2dWeightGradientKernel,
} from "../kernels/conv2d-gpujs.js";
import {
  linearBiasGradientKernel,
  linearInputGradientKernel,
  linearWeightGradientKernel,
} from "../kernels/linear-gpujs.js";
import type { LossAndGradient, Network, NetworkGradients, Parameters } from "../network.js";
import type { NetOps } from "../ops.js";
import { must, runOnTape } from "../tape.js";
import {
  attentionInputGradKernel,
  attentionOutParamGradKernel,
  attentionOutputGradKernel,
  attentionProjectionGradKernel,
  attentionQkvGradKernel,
  attentionRowDotKernel,
  attentionRowStatsKernel,
  concatSliceKernel,
  cropKernel,
  groupGradSumsKernel,
  groupNormInputGradKernel,
  groupNormParamGradKernel,
  siluBackwardKernel,
  sliceKernel,
  spatialSumKernel,
  upsampleBackwardKernel,
} from "./backward-kernels.js";
import {
  type DeviceBuffer,
  type DeviceRunner,
  type DeviceValue,
  deviceRunner,
  passInputs,
  readBack,
  release,
  type WebgpuNetKernels,
} from "./device.js";
import {
  attentionGeometry,
  attentionOnDevice,
  convGeometry,
  groupGeometry,
  groupNormOnDevice,
  webgpuOps,
} from "./forward.js";
import { addKernel, scaleRowsKernel } from "./kernels.js";

/**
 * A value on the device tape: a device value, its position, and whether ∂L/∂value is wanted.
 *
 * @category Networks
 */
export interface DeviceNode extends DeviceValue {
  /** Position on the tape. */
  readonly id: number;
  /** Whether a gradient flows to it (a trainable parameter, or anything computed from one). */
  readonly trainable: boolean;
}

/** One recorded op: its output, its inputs and its pullback ∂L/∂output ↦ ∂L/∂inputs. */
interface DeviceStep {
  readonly output: DeviceNode;
  readonly inputs: readonly DeviceNode[];
  readonly pullback: (dy: DeviceValue) => readonly (DeviceValue | undefined)[];
}

/** The record of one pass. */
interface DeviceTape {
  readonly steps: DeviceStep[];
  readonly parameters: Map<string, DeviceNode>;
  next: number;
}

/** The ops over device nodes: the forward ops of `forward.ts`, each recording its pullback on `tape`. */
const deviceTapeOps = (
  runner: DeviceRunner,
  forward: NetOps<DeviceValue>,
  tape: DeviceTape,
): NetOps<DeviceNode> => {
  const { op } = runner;
  const node = (value: DeviceValue, trainable: boolean): DeviceNode => ({
    ...value,
    id: tape.next++,
    trainable,
  });
  const record = (
    value: DeviceValue,
    inputs: readonly DeviceNode[],
    pullback: DeviceStep["pullback"],
  ): DeviceNode => {
    const output = node(
      value,
      inputs.some((x) => x.trainable),
    );
    if (output.trainable) tape.steps.push({ output, inputs, pullback });
    return output;
  };
  /** `make()` when `x` wants a gradient. */
  const when = (x: DeviceNode, make: () => DeviceValue): DeviceValue | undefined =>
    x.trainable ? make() : undefined;
  /** A weight's and a bias's gradients from one buffer holding both ([w…, b…]). */
  const split = (both: DeviceValue, w: DeviceNode, b: DeviceNode) => {
    const n = size(w.shape);
    return [
      when(w, () => op("slice", sliceKernel, { offset: 0 }, w.shape, [both])),
      when(b, () => op("slice", sliceKernel, { offset: n }, b.shape, [both])),
    ];
  };
  return {
    shape: (x) => x.shape,
    constant: (t) => node(forward.constant(t), false),
    conv2d: (x, w, b, options) => {
      const { constants } = convGeometry(x, w, options);
      return record(forward.conv2d(x, w, b, options), [x, w, b], (dy) => [
        when(x, () => op("conv2d dx", conv2dInputGradientKernel, constants, x.shape, [w, dy])),
        when(w, () => op("conv2d dw", conv2dWeightGradientKernel, constants, w.shape, [x, dy])),
        when(b, () => op("conv2d db", conv2dBiasGradientKernel, constants, b.shape, [dy])),
      ]);
    },
    linear: (x, w, b) => {
      const [nout, nin] = w.shape;
      const g = { rows: size(x.shape) / nin, nin, nout };
      return record(forward.linear(x, w, b), [x, w, b], (dy) => [
        when(x, () => op("linear dx", linearInputGradientKernel, g, x.shape, [w, dy])),
        when(w, () => op("linear dw", linearWeightGradientKernel, g, w.shape, [x, dy])),
        when(b, () => op("linear db", linearBiasGradientKernel, g, b.shape, [dy])),
      ]);
    },
    groupNorm: (x, gamma, beta, options) => {
      const { y, stats } = groupNormOnDevice(runner, x, gamma, beta, options);
      const g = groupGeometry(x, options);
      return record(y, [x, gamma, beta], (dy) => [
        when(x, () => {
          const sums = op(
            "group grad sums",
            groupGradSumsKernel,
            g,
            [g.n * options.groups * 2],
            [x, dy, stats, gamma],
          );
          return op("group norm dx", groupNormInputGradKernel, g, x.shape, [x, dy, stats, gamma, sums]);
        }),
        when(gamma, () =>
          op("group norm dγ", groupNormParamGradKernel, { ...g, which: 0 }, gamma.shape, [x, dy, stats]),
        ),
        when(beta, () =>
          op("group norm dβ", groupNormParamGradKernel, { ...g, which: 1 }, beta.shape, [x, dy, stats]),
        ),
      ]);
    },
    silu: (x) =>
      record(forward.silu(x), [x], (dy) => [op("silu dx", siluBackwardKernel, {}, x.shape, [x, dy])]),
    add: (a, b) => record(forward.add(a, b), [a, b], (dy) => [dy, dy]),
    concat: (xs) => {
      const [n, ct, ...spatial] = [
        xs[0].shape[0],
        xs.reduce((c, x) => c + x.shape[1], 0),
        ...xs[0].shape.slice(2),
      ];
      const s = size(spatial);
      const starts = xs.map((_, i) => xs.slice(0, i).reduce((c, x) => c + x.shape[1], 0));
      return record(forward.concat(xs), xs, (dy) =>
        xs.map((x, i) =>
          when(x, () =>
            op(
              "concat dx",
              concatSliceKernel,
              { ct, c0: starts[i], cn: x.shape[1], s },
              [n, x.shape[1], ...spatial],
              [dy],
            ),
          ),
        ),
      );
    },
    upsample: (x) => {
      const [, , h, w] = x.shape;
      return record(forward.upsample(x), [x], (dy) => [
        op("upsample dx", upsampleBackwardKernel, { h, w }, x.shape, [dy]),
      ]);
    },
    padBottomRight: (x) => {
      const [, , h, w] = x.shape;
      return record(forward.padBottomRight(x), [x], (dy) => [
        op("crop", cropKernel, { h, w }, x.shape, [dy]),
      ]);
    },
    flatten: (x) => record(forward.flatten(x), [x], (dy) => [{ shape: x.shape, buffer: dy.buffer }]),
    attention: (x, weights, residual, options) => {
      const { y, qkv, o } = attentionOnDevice(runner, x, weights, residual, options);
      const g = attentionGeometry(x, options);
      const [[wq, bq], [wk, bk], [wv, bv], [wo, bo]] = [weights.toQ, weights.toK, weights.toV, weights.toOut];
      const heads = g.c / g.d;
      return record(y, [x, residual, wq, bq, wk, bk, wv, bv, wo, bo], (dy) => {
        const out = op("attention dWo", attentionOutParamGradKernel, g, [g.c * g.c + g.c], [dy, o]);
        const dO = op("attention do", attentionOutputGradKernel, g, [g.n * g.t * g.c], [dy, wo]);
        const stats = op("attention row stats", attentionRowStatsKernel, g, [g.n * heads * g.t * 2], [qkv]);
        const rowDot = op("attention row dot", attentionRowDotKernel, g, [g.n * heads * g.t], [dO, o]);
        const dqkv = op(
          "attention dqkv",
          attentionQkvGradKernel,
          g,
          [3 * g.n * g.t * g.c],
          [qkv, dO, stats, rowDot],
        );
        const projection = (which: number, w: DeviceNode, b: DeviceNode) =>
          w.trainable || b.trainable
            ? split(
                op(
                  "attention dW",
                  attentionProjectionGradKernel,
                  { ...g, which },
                  [g.c * g.c + g.c],
                  [dqkv, x],
                ),
                w,
                b,
              )
            : [undefined, undefined];
        return [
          when(x, () => op("attention dx", attentionInputGradKernel, g, x.shape, [dqkv, wq, wk, wv])),
          when(residual, () =>
            op("scale rows", scaleRowsKernel, { width: size(dy.shape) / g.n }, dy.shape, [
              dy,
              new Float32Array(g.n).fill(g.invF),
            ]),
          ),
          ...projection(0, wq, bq),
          ...projection(1, wk, bk),
          ...projection(2, wv, bv),
          ...split(out, wo, bo),
        ];
      });
    },
    addChannelBias: (x, e) => {
      const s = size(x.shape) / (x.shape[0] * x.shape[1]);
      return record(forward.addChannelBias(x, e), [x, e], (dy) => [
        dy,
        when(e, () => op("spatial sum", spatialSumKernel, { s }, e.shape, [dy])),
      ]);
    },
    scaleRows: (x, c) => {
      const width = size(x.shape) / c.length;
      return record(forward.scaleRows(x, c), [x], (dy) => [
        op("scale rows", scaleRowsKernel, { width }, x.shape, [dy, Float32Array.from(c)]),
      ]);
    },
    fourierFeatures: (t, w, options) => {
      if (w.trainable)
        return must(
          E.left(
            scoreflowError(
              "webgpu network",
              "fourierFeatures.w",
              w.shape,
              "must be frozen: its backward runs on the CPU ops only",
            ),
          ),
        );
      return node(forward.fourierFeatures(t, w, options), false);
    },
  };
};

/**
 * A training pass on the GPU (see the module notes): y = network(x, noise) and ∂L/∂θ for every trainable
 * parameter, with (L, ∂L/∂y) = loss(y) computed on the host. Rules as for `networkGradients` (frozen parameters
 * get no gradient; a non-finite loss or gradient is a Left) and the boundary of `forwardNetworkWebgpu`.
 *
 * @category Networks
 */
export const networkGradientsWebgpu = async (
  kernels: WebgpuNetKernels,
  network: Network,
  parameters: Parameters,
  x: Tensor,
  noise: ArrayLike<number>,
  loss: (y: Tensor) => LossAndGradient,
): Promise<E.Either<ScoreflowError, NetworkGradients>> => {
  const context = `${network.name} training pass (webgpu)`;
  const inputs = passInputs(kernels, network, parameters, x, noise, context);
  if (E.isLeft(inputs)) return inputs;
  const created: Promise<DeviceBuffer>[] = [];
  const runner = deviceRunner(kernels, created);
  const tape: DeviceTape = { steps: [], parameters: new Map(), next: 0 };
  const ops = deviceTapeOps(runner, webgpuOps(kernels, created), tape);
  const trainable = new Map(network.parameters.map((p) => [p.name, p.trainable]));
  const parameter = (name: string): DeviceNode => {
    const host = parameters.get(name)!;
    const p: DeviceNode = {
      shape: host.shape,
      host,
      buffer: inputs.right.buffers.get(name)!,
      id: tape.next++,
      trainable: trainable.get(name) === true,
    };
    tape.parameters.set(name, p);
    return p;
  };
  const pass = runOnTape(() => network.apply(ops, parameter, ops.constant(x), inputs.right.noise));
  try {
    if (E.isLeft(pass)) return pass;
    const y = await readBack(pass.right, context, "output");
    if (E.isLeft(y)) return y;
    const l = loss(y.right);
    if (!Number.isFinite(l.loss)) return E.left(scoreflowError(context, "loss", l.loss, "must be finite"));
    const grads = new Map<number, DeviceValue>([
      [pass.right.id, runner.constant({ shape: y.right.shape, data: l.dOutput })],
    ]);
    for (let k = tape.steps.length - 1; k >= 0; k--) {
      const step = tape.steps[k];
      const g = grads.get(step.output.id);
      if (g === undefined) continue;
      grads.delete(step.output.id);
      const d = step.pullback(g);
      step.inputs.forEach((input, i) => {
        const di = d[i];
        if (!input.trainable || di === undefined) return;
        const sum = grads.get(input.id);
        grads.set(input.id, sum === undefined ? di : runner.op("add", addKernel, {}, input.shape, [sum, di]));
      });
    }
    // every read-back is started before any is awaited, so that their round trips overlap
    const reads = [...tape.parameters]
      .filter(([, p]) => p.trainable)
      .map(([name, p]) => {
        const g = grads.get(p.id);
        const host: Promise<E.Either<ScoreflowError, Tensor>> =
          g === undefined
            ? Promise.resolve(E.right({ shape: [...p.shape], data: new Float32Array(size(p.shape)) }))
            : readBack(g, context, `∂L/∂${name}`);
        return host.then(E.map((t: Tensor) => [name, t] as const));
      });
    return E.map((entries: readonly (readonly [string, Tensor])[]) => ({
      loss: l.loss,
      output: y.right,
      gradients: new Map(entries),
    }))(E.sequenceArray(await Promise.all(reads)));
  } catch (e) {
    return E.left(scoreflowError(context, "gpu", "webgpu", `failed: ${(e as Error).message}`));
  } finally {
    await release(created);
  }
};
