/**
 * What every network pass on the GPU shares: device buffers and values, the compiled kernels and resident
 * parameters of a webgpu backend (`WebgpuNetKernels`), and the runner that queues a GPU.js kernel over values
 * whose buffers are still being computed. Ops return at once with the promise of their buffer, so network code
 * stays synchronous and the GPU queue receives the kernels in dependency order.
 *
 * Source: gpu.js 2.24 README, "WebGPU" (`pipeline: true` buffer handles, `toArray()`, `delete()`).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { GPU, IKernelRunShortcut, KernelFunction } from "gpu.js";
import { type ScoreflowError, scoreflowError } from "../../core/errors.js";
import { firstNonFinite, size, type Tensor } from "../../core/tensor.js";
import type { NetBackend } from "../backend.js";
import { type KernelCache, kernelCache } from "../kernel-cache.js";
import { checkNetworkInput, checkParameters, type Network, type Parameters } from "../network.js";
import { uploadKernel } from "./kernels.js";

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

/**
 * Deletes every buffer that was created (a failed kernel's promise is skipped).
 *
 * @category Networks
 */
export const release = async (buffers: Iterable<Promise<DeviceBuffer>>): Promise<void> => {
  const settled = await Promise.allSettled(buffers);
  for (const s of new Set(settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])))) s.delete();
};

/**
 * A GPU.js kernel function of the webgpu ops (its `this` carries the geometry constants).
 *
 * @category Networks
 */
export type GpuKernel = (this: never, ...args: never[]) => number;

/**
 * One kernel argument: a device value, or small host data passed as is (per-sample scalars).
 *
 * @category Networks
 */
export type Argument = DeviceValue | Float32Array;

/**
 * Queues kernels on the GPU: `op` compiles (once per geometry) and runs a kernel over its arguments once their
 * buffers exist, `constant` uploads host data; every buffer either creates is pushed to `created`.
 *
 * @category Networks
 */
export interface DeviceRunner {
  /** The value of kernel `fn` (named `name`, geometry `constants`) over `args`, of shape `shape`. */
  readonly op: (
    name: string,
    fn: GpuKernel,
    constants: Record<string, number>,
    shape: readonly number[],
    args: readonly Argument[],
  ) => DeviceValue;
  /** Host data on the device. */
  readonly constant: (t: Tensor) => DeviceValue;
}

/**
 * The runner of a pass over `kernels`, pushing every buffer it creates to `created`.
 *
 * @category Networks
 */
export const deviceRunner = (kernels: WebgpuNetKernels, created: Promise<DeviceBuffer>[]): DeviceRunner => {
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
  return { op, constant };
};

/**
 * The resident buffers of `parameters`, uploading them (and checking them against `network`) when they are new.
 *
 * @category Networks
 */
export const residentBuffers = (
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
  const runner = deviceRunner(kernels, uploads);
  for (const [name, tensor] of parameters) buffers.set(name, runner.constant(tensor).buffer);
  kernels.resident = { parameters, buffers };
  return E.right(buffers);
};

/**
 * The boundary of a pass on the GPU: the input checked as `forwardNetwork` checks it, and finite, and the
 * parameters resident (checked when new). Answers the conditioning as float64 and the parameters' buffers.
 *
 * @category Networks
 */
export const passInputs = (
  kernels: WebgpuNetKernels,
  network: Network,
  parameters: Parameters,
  x: Tensor,
  noise: ArrayLike<number>,
  context: string,
): E.Either<
  ScoreflowError,
  { readonly noise: Float64Array; readonly buffers: Map<string, Promise<DeviceBuffer>> }
> => {
  const input = checkNetworkInput(network, x, noise);
  if (E.isLeft(input)) return input;
  const bad = firstNonFinite(x.data);
  if (bad >= 0) return E.left(scoreflowError(context, `x.data[${bad}]`, x.data[bad], "must be finite"));
  return E.map((buffers: Map<string, Promise<DeviceBuffer>>) => ({ noise: input.right, buffers }))(
    residentBuffers(kernels, network, parameters),
  );
};

/**
 * Reads a value back to the host; a non-finite entry is a Left naming `what` and the index.
 *
 * @category Networks
 */
export const readBack = async (
  value: DeviceValue,
  context: string,
  what: string,
): Promise<E.Either<ScoreflowError, Tensor>> => {
  const out = await (await value.buffer).toArray();
  const data = Float32Array.from(out);
  const i = firstNonFinite(data);
  return i >= 0
    ? E.left(scoreflowError(context, `${what}[${i}]`, data[i], "must be finite"))
    : E.right({ shape: [...value.shape], data });
};
