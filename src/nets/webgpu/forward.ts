/**
 * A network's forward pass on the GPU through GPU.js's webgpu backend: the same `Network.apply` as on the CPU,
 * interpreted by {@link NetOps} over device buffers. Every op compiles (once per geometry) a GPU.js kernel in
 * pipeline mode, whose result stays on the device and feeds the next op; the pass reads back one buffer, the
 * output. Ops return at once with the promise of their buffer, so the network code stays synchronous and the GPU
 * queue receives the kernels in dependency order. The parameters of the last call stay resident on the device.
 *
 * Forward only: training and the samplers run on the synchronous CPU ops (GPU.js's webgpu kernels answer with
 * Promises, and the samplers call their model synchronously).
 *
 * Source: gpu.js 2.24 README, "WebGPU" (`pipeline: true` buffer handles, `toArray()`), "Pipelining".
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { GPU, IKernelRunShortcut, KernelFunction } from "gpu.js";
import { type ScoreflowError, scoreflowError } from "../../core/errors.js";
import { firstNonFinite, size, type Tensor } from "../../core/tensor.js";
import type { NetBackend } from "../backend.js";
import { fourierFeatures } from "../embedding.js";
import { type KernelCache, kernelCache } from "../kernel-cache.js";
import { conv2dForwardKernel } from "../kernels/conv2d-gpujs.js";
import { linearForwardKernel } from "../kernels/linear-gpujs.js";
import { checkNetworkInput, checkParameters, type Network, type Parameters } from "../network.js";
import type { NetOps } from "../ops.js";
import { must, runOnTape } from "../tape.js";
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
  uploadKernel,
  upsampleKernel,
} from "./kernels.js";

/**
 * A device buffer of float32 values: a GPU.js pipeline result (`WebGPUBufferResult`).
 *
 * @category Networks
 */
export interface DeviceBuffer {
  /** Reads the values back. */
  readonly toArray: () => Promise<Float32Array | number[]>;
  /** Frees the buffer. */
  readonly delete: () => void;
}

/**
 * A value of a forward pass on the GPU: its shape, the promise of its buffer, and its host tensor when it came
 * from the host (parameters, constants).
 *
 * @category Networks
 */
export interface DeviceValue {
  /** The shape (row-major). */
  readonly shape: readonly number[];
  /** The device buffer, once the kernel that writes it is queued. */
  readonly buffer: Promise<DeviceBuffer>;
  /** The host values, for parameters and constants. */
  readonly host?: Tensor;
}

/**
 * How many compiled kernels a {@link WebgpuNetKernels} keeps (op × geometry; a U-Net pass uses about 50, so this
 * holds some ten batch sizes and never evicts within a pass).
 *
 * @category Networks
 */
export const MAX_WEBGPU_KERNELS = 512;

/**
 * A parameter map and its device buffers by name.
 *
 * @category Networks
 */
export interface ResidentParameters {
  /** The host parameters (compared by identity). */
  readonly parameters: Parameters;
  /** Their device buffers. */
  readonly buffers: Map<string, Promise<DeviceBuffer>>;
}

/**
 * The compiled webgpu kernels of the network ops, cached per op and geometry, and the parameters resident on
 * the device. Create with {@link webgpuNetKernels}; release with `dispose`.
 *
 * @category Networks
 */
export interface WebgpuNetKernels {
  /** The GPU.js instance (webgpu mode) that compiles and runs the kernels. */
  readonly gpu: GPU;
  /** Compiled kernels by op and geometry, the {@link MAX_WEBGPU_KERNELS} most recently used. */
  readonly compiled: KernelCache<IKernelRunShortcut>;
  /** The parameters of the last pass, uploaded once (a mutable cache, replaced when the parameters change). */
  resident: ResidentParameters | undefined;
  /** Frees the resident parameters and destroys the compiled kernels. */
  readonly dispose: () => Promise<void>;
}

/**
 * The webgpu kernels of the network ops on a `webgpu` backend (a Left on any other mode).
 *
 * @category Networks
 */
export const webgpuNetKernels = (backend: NetBackend): E.Either<ScoreflowError, WebgpuNetKernels> => {
  if (backend.mode !== "webgpu")
    return E.left(scoreflowError("webgpu network", "backend.mode", backend.mode, 'must be "webgpu"'));
  const kernels: WebgpuNetKernels = {
    gpu: backend.gpu,
    compiled: kernelCache(MAX_WEBGPU_KERNELS, (k) => k.destroy()),
    resident: undefined,
    dispose: async () => {
      await release(kernels.resident?.buffers.values() ?? []);
      kernels.resident = undefined;
      kernels.compiled.clear();
    },
  };
  return E.right(kernels);
};

/** Deletes every buffer that was created (a failed kernel's promise is skipped). */
const release = async (buffers: Iterable<Promise<DeviceBuffer>>): Promise<void> => {
  const settled = await Promise.allSettled(buffers);
  for (const s of new Set(settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])))) s.delete();
};

/** A GPU.js kernel function of this module's kernels (its `this` carries the geometry constants). */
type GpuKernel = (this: never, ...args: never[]) => number;

/** One kernel argument: a device value, or small host data passed as is (per-sample scalars). */
type Argument = DeviceValue | Float32Array;

/** The ops over device values; every buffer a kernel creates is pushed to `created`. */
const webgpuOps = (kernels: WebgpuNetKernels, created: Promise<DeviceBuffer>[]): NetOps<DeviceValue> => {
  const compiled = (name: string, fn: GpuKernel, constants: Record<string, number>, length: number) =>
    kernels.compiled.get(
      `${name} ${length} ${JSON.stringify(constants)}`,
      () =>
        kernels.gpu.createKernel(fn as unknown as KernelFunction, {
          output: [length],
          constants,
          pipeline: true,
          immutable: true,
          precision: "single",
        }) as IKernelRunShortcut,
    );
  /** Queues kernel `fn` over `args` once they exist; the result has `shape`. */
  const op = (
    name: string,
    fn: GpuKernel,
    constants: Record<string, number>,
    shape: readonly number[],
    args: readonly Argument[],
  ): DeviceValue => {
    const kernel = compiled(name, fn, constants, size(shape));
    const buffer = Promise.all(args.map((a) => (a instanceof Float32Array ? a : a.buffer))).then(
      (values) => kernel(...(values as unknown as number[][])) as unknown as Promise<DeviceBuffer>,
    );
    created.push(buffer);
    return { shape: [...shape], buffer };
  };
  const constant = (t: Tensor): DeviceValue => ({
    ...op("upload", uploadKernel, {}, t.shape, [t.data]),
    host: t,
  });
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

/** The resident buffers of `parameters`, uploading them (and checking them) when they are new. */
const residentBuffers = (
  kernels: WebgpuNetKernels,
  network: Network,
  parameters: Parameters,
): E.Either<ScoreflowError, Map<string, Promise<DeviceBuffer>>> => {
  if (kernels.resident?.parameters === parameters) return E.right(kernels.resident.buffers);
  const checked = checkParameters(network, parameters);
  if (E.isLeft(checked)) return checked;
  if (kernels.resident !== undefined) void release(kernels.resident.buffers.values());
  const buffers = new Map<string, Promise<DeviceBuffer>>();
  const uploads: Promise<DeviceBuffer>[] = [];
  const ops = webgpuOps(kernels, uploads);
  for (const [name, tensor] of parameters) buffers.set(name, ops.constant(tensor).buffer);
  kernels.resident = { parameters, buffers };
  return E.right(buffers);
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
  const input = checkNetworkInput(network, x, noise);
  if (E.isLeft(input)) return input;
  const bad = firstNonFinite(x.data);
  if (bad >= 0) return E.left(scoreflowError(context, `x.data[${bad}]`, x.data[bad], "must be finite"));
  const resident = residentBuffers(kernels, network, parameters);
  if (E.isLeft(resident)) return resident;
  const created: Promise<DeviceBuffer>[] = [];
  const ops = webgpuOps(kernels, created);
  const parameter = (name: string): DeviceValue => {
    const host = parameters.get(name)!;
    return { shape: host.shape, host, buffer: resident.right.get(name)! };
  };
  const pass = runOnTape(() => network.apply(ops, parameter, ops.constant(x), input.right));
  try {
    if (E.isLeft(pass)) return pass;
    const out = await (await pass.right.buffer).toArray();
    const data = out instanceof Float32Array ? Float32Array.from(out) : Float32Array.from(out);
    const i = firstNonFinite(data);
    if (i >= 0) return E.left(scoreflowError(context, `output[${i}]`, data[i], "must be finite"));
    return E.right({ shape: [...pass.right.shape], data });
  } catch (e) {
    return E.left(scoreflowError(context, "gpu", "webgpu", `failed: ${(e as Error).message}`));
  } finally {
    await release(created);
  }
};
