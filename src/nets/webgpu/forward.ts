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
import { fourierFeatures } from "../embedding.js";
import { conv2dForwardKernel } from "../kernels/conv2d-gpujs.js";
import { linearForwardKernel } from "../kernels/linear-gpujs.js";
import type { Network, Parameters } from "../network.js";
import type { NetOps } from "../ops.js";
import { must, runOnTape } from "../tape.js";
import {
  type DeviceBuffer,
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
 * The ops over device values; every buffer a kernel creates is pushed to `created`.
 *
 * @category Networks
 */
export const webgpuOps = (
  kernels: WebgpuNetKernels,
  created: Promise<DeviceBuffer>[],
): NetOps<DeviceValue> => {
  const { op, constant } = deviceRunner(kernels, created);
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
      const [n, cin, h, wd] = x.shape;
      const [cout, , kh, kw] = w.shape;
      const { stride, padding } = options;
      const hout = Math.floor((h + 2 * padding - kh) / stride) + 1;
      const wout = Math.floor((wd + 2 * padding - kw) / stride) + 1;
      const g = { n, cin, h, w: wd, cout, kh, kw, stride, padding, hout, wout };
      return op("conv2d", conv2dForwardKernel, g, [n, cout, hout, wout], [x, w, b]);
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
    groupNorm: (x, gamma, beta, options) => {
      const [n, c] = x.shape;
      const s = size(x.shape) / (n * c);
      const perGroup = c / options.groups;
      const stats = op(
        "group stats",
        groupStatsKernel,
        { m: perGroup * s, eps: options.eps },
        [n * options.groups * 2],
        [x],
      );
      return op("group norm", groupNormKernel, { c, s, perGroup }, x.shape, [x, stats, gamma, beta]);
    },
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
    attention: (x, weights, residual, options) => {
      const [n, c, h, w] = x.shape;
      const t = h * w;
      const d = options.headDim;
      const g = { n, c, t, d, scale: 1 / Math.sqrt(d) };
      const [wq, bq] = weights.toQ;
      const [wk, bk] = weights.toK;
      const [wv, bv] = weights.toV;
      const [wo, bo] = weights.toOut;
      const qkv = op("project", projectKernel, g, [3 * n * t * c], [x, wq, bq, wk, bk, wv, bv]);
      const o = op("attend", attendKernel, g, [n * t * c], [qkv]);
      const invF = 1 / options.rescaleOutputFactor;
      return op("attention out", attentionOutKernel, { ...g, invF }, x.shape, [o, wo, bo, residual]);
    },
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
