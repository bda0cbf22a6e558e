/**
 * A network's forward pass on the GPU through GPU.js's webgpu backend: the same `Network.apply` as on the CPU,
 * interpreted by {@link NetOps} over device buffers (see `device.ts`). Every op compiles (once per geometry) a
 * GPU.js kernel in pipeline mode, whose result stays on the device and feeds the next op; the pass reads back one
 * buffer, the output. The parameters of the last call stay resident on the device. Samplers use it through
 * `samplerModelWebgpu` and `asyncModelSteps`.
 *
 * Source: gpu.js 2.24 README, "WebGPU" (`pipeline: true` buffer handles, `toArray()`), "Pipelining".
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../../core/errors.js";
import { size, type Tensor } from "../../core/tensor.js";
import type { AttentionOptions } from "../attention-shape.js";
import type { Conv2dOptions } from "../conv2d-shape.js";
import { fourierFeatures } from "../embedding.js";
import type { GroupNormOptions } from "../group-norm-shape.js";
import { conv2dForwardKernel } from "../kernels/conv2d-gpujs.js";
import { linearForwardKernel } from "../kernels/linear-gpujs.js";
import type { Network, Parameters } from "../network.js";
import type { AttentionParameters, NetOps } from "../ops.js";
import { must, runOnTape } from "../tape.js";
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
  addKernel,
  attendKernel,
  attentionOutKernel,
  channelBiasKernel,
  concatKernel,
  groupNormKernel,
  groupStatsKernel,
  padBottomRightKernel,
  projectKernel,
  scaleRowsKernel,
  siluKernel,
  upsampleKernel,
} from "./kernels.js";

/**
 * The geometry of a convolution of x [N, Cin, H, W] by w [Cout, Cin, kh, kw] (the constants of the conv2d
 * kernels) and its output shape.
 *
 * @category Networks
 */
export const convGeometry = (x: DeviceValue, w: DeviceValue, options: Conv2dOptions) => {
  const [n, cin, h, wd] = x.shape;
  const [cout, , kh, kw] = w.shape;
  const { stride, padding } = options;
  const hout = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const wout = Math.floor((wd + 2 * padding - kw) / stride) + 1;
  return {
    constants: { n, cin, h, w: wd, cout, kh, kw, stride, padding, hout, wout },
    shape: [n, cout, hout, wout],
  };
};

/**
 * The constants of the group-norm kernels for x [N, C, …]: batch, channels, spatial size, channels per group.
 *
 * @category Networks
 */
export const groupGeometry = (x: DeviceValue, options: GroupNormOptions) => {
  const [n, c] = x.shape;
  return { n, c, s: size(x.shape) / (n * c), perGroup: c / options.groups };
};

/**
 * Group normalization on the device: the statistics (μ, 1/σ per sample and group) and the output.
 *
 * @category Networks
 */
export const groupNormOnDevice = (
  runner: DeviceRunner,
  x: DeviceValue,
  gamma: DeviceValue,
  beta: DeviceValue,
  options: GroupNormOptions,
): { readonly y: DeviceValue; readonly stats: DeviceValue } => {
  const g = groupGeometry(x, options);
  const m = g.perGroup * g.s;
  const stats = runner.op(
    "group stats",
    groupStatsKernel,
    { m, eps: options.eps },
    [g.n * options.groups * 2],
    [x],
  );
  const y = runner.op("group norm", groupNormKernel, g, x.shape, [x, stats, gamma, beta]);
  return { y, stats };
};

/**
 * The constants of the attention kernels for x [N, C, H, W]: batch, channels, tokens, head size, 1/√d, 1/f.
 *
 * @category Networks
 */
export const attentionGeometry = (x: DeviceValue, options: AttentionOptions) => {
  const [n, c, h, w] = x.shape;
  const d = options.headDim;
  return { n, c, t: h * w, d, scale: 1 / Math.sqrt(d), invF: 1 / options.rescaleOutputFactor };
};

/**
 * Self-attention on the device: the projections [q; k; v] [3, N, T, C], the heads' output o [N, T, C] and y.
 *
 * @category Networks
 */
export const attentionOnDevice = (
  runner: DeviceRunner,
  x: DeviceValue,
  weights: AttentionParameters<DeviceValue>,
  residual: DeviceValue,
  options: AttentionOptions,
): { readonly y: DeviceValue; readonly qkv: DeviceValue; readonly o: DeviceValue } => {
  const g = attentionGeometry(x, options);
  const [wq, bq] = weights.toQ;
  const [wk, bk] = weights.toK;
  const [wv, bv] = weights.toV;
  const [wo, bo] = weights.toOut;
  const qkv = runner.op("project", projectKernel, g, [3 * g.n * g.t * g.c], [x, wq, bq, wk, bk, wv, bv]);
  const o = runner.op("attend", attendKernel, g, [g.n * g.t * g.c], [qkv]);
  const y = runner.op("attention out", attentionOutKernel, g, x.shape, [o, wo, bo, residual]);
  return { y, qkv, o };
};

/**
 * The ops over device values; every buffer a kernel creates is pushed to `created`.
 *
 * @category Networks
 */
export const webgpuOps = (
  kernels: WebgpuNetKernels,
  created: Promise<DeviceBuffer>[],
): NetOps<DeviceValue> => {
  const runner = deviceRunner(kernels, created);
  const { op, constant } = runner;
  const nchw = (x: DeviceValue) => {
    const [n, c, h, w] = x.shape;
    return { n, c, h, w };
  };
  const concat2 = (a: DeviceValue, b: DeviceValue): DeviceValue => {
    const [n, ca, ...spatial] = a.shape;
    const cb = b.shape[1];
    const s = size(spatial);
    return op("concat", concatKernel, { ca, cb, s }, [n, ca + cb, ...spatial], [a, b]);
  };
  return {
    shape: (x) => x.shape,
    constant,
    conv2d: (x, w, b, options) => {
      const { constants, shape } = convGeometry(x, w, options);
      return op("conv2d", conv2dForwardKernel, constants, shape, [x, w, b]);
    },
    linear: (x, w, b) => {
      const [nout, nin] = w.shape;
      const rows = size(x.shape) / nin;
      return op(
        "linear",
        linearForwardKernel,
        { rows, nin, nout },
        [...x.shape.slice(0, -1), nout],
        [x, w, b],
      );
    },
    groupNorm: (x, gamma, beta, options) => groupNormOnDevice(runner, x, gamma, beta, options).y,
    silu: (x) => op("silu", siluKernel, {}, x.shape, [x]),
    add: (a, b) => op("add", addKernel, {}, a.shape, [a, b]),
    concat: (xs) => xs.slice(1).reduce(concat2, xs[0]),
    upsample: (x) => {
      const g = nchw(x);
      return op("upsample", upsampleKernel, g, [g.n, g.c, 2 * g.h, 2 * g.w], [x]);
    },
    padBottomRight: (x) => {
      const g = nchw(x);
      return op("pad", padBottomRightKernel, g, [g.n, g.c, g.h + 1, g.w + 1], [x]);
    },
    flatten: (x) => ({ shape: [x.shape[0], size(x.shape) / x.shape[0]], buffer: x.buffer }),
    attention: (x, weights, residual, options) => attentionOnDevice(runner, x, weights, residual, options).y,
    addChannelBias: (x, e) => {
      const s = size(x.shape) / (x.shape[0] * x.shape[1]);
      return op("channel bias", channelBiasKernel, { s }, x.shape, [x, e]);
    },
    scaleRows: (x, c) =>
      op("scale rows", scaleRowsKernel, { width: size(x.shape) / c.length }, x.shape, [
        x,
        Float32Array.from(c),
      ]),
    fourierFeatures: (t, w, options) => {
      if (w.host === undefined)
        return must(
          E.left(
            scoreflowError(
              "webgpu network",
              "fourierFeatures.w",
              w.shape,
              "must be a parameter (host values)",
            ),
          ),
        );
      return constant(must(fourierFeatures(t, w.host, options)));
    },
  };
};

/**
 * The forward pass y = network(x, noise) on the GPU (see the module notes): the input and the parameters are
 * checked at this boundary (shapes, finiteness: the rules of `forwardNetwork` and `checkParameters`), the
 * parameters stay resident until a call with another parameter map, and a non-finite output is a Left.
 *
 * @category Networks
 */
export const forwardNetworkWebgpu = async (
  kernels: WebgpuNetKernels,
  network: Network,
  parameters: Parameters,
  x: Tensor,
  noise: ArrayLike<number>,
): Promise<E.Either<ScoreflowError, Tensor>> => {
  const context = `${network.name} forward (webgpu)`;
  const inputs = passInputs(kernels, network, parameters, x, noise, context);
  if (E.isLeft(inputs)) return inputs;
  const created: Promise<DeviceBuffer>[] = [];
  const ops = webgpuOps(kernels, created);
  const parameter = (name: string): DeviceValue => {
    const host = parameters.get(name)!;
    return { shape: host.shape, host, buffer: inputs.right.buffers.get(name)! };
  };
  const pass = runOnTape(() => network.apply(ops, parameter, ops.constant(x), inputs.right.noise));
  try {
    if (E.isLeft(pass)) return pass;
    return await readBack(pass.right, context, "output");
  } catch (e) {
    return E.left(scoreflowError(context, "gpu", "webgpu", `failed: ${(e as Error).message}`));
  } finally {
    await release(created);
  }
};
