/**
 * The backends check page, built by test/browser/backends.test.ts with the playground's Vite configuration (so
 * with its minifier): the same U-Net and MLP, forward and backward, on every backend the browser offers, against
 * the cpu backend. Exposes the result as `window.backendsCheck`, a Promise of {@link BackendsCheck}.
 */
import * as E from "fp-ts/lib/Either.js";
import {
  type BackendRequest,
  createBackend,
  disposeBackend,
  edmPreconditioning,
  foldIn,
  forwardNetwork,
  forwardNetworkWebgpu,
  initParameters,
  type LossAndGradient,
  mlpConfig,
  mlpNetwork,
  type NetKernels,
  type Network,
  netKernels,
  networkGradients,
  networkGradientsWebgpu,
  orThrow,
  preconditionedNetwork,
  rngKey,
  type Tensor,
  tensorSpace,
  trainStep,
  trainStepWebgpu,
  unet2DConfig,
  unet2DModel,
  webgpuNetKernels,
  zeros32,
} from "../../../src/index.js";
import { trainingRun } from "../../../web/models.js";
import { smallUnet } from "../../support/nets-fixtures.js";

/** What `createBackend(request)` answered. */
export interface RequestOutcome {
  /** The request. */
  readonly request: BackendRequest;
  /** The chosen mode, or the Left's message. */
  readonly answer: string;
  /** The fallbacks it reported. */
  readonly fallbacks: readonly string[];
  /** The renderer the report names (webgl2). */
  readonly renderer: string | undefined;
  /** netKernels on the chosen mode: the implementation per op, or the Left's message. */
  readonly kernels: string;
}

/** One network on one backend against cpu. */
export interface Agreement {
  /** The backend's mode. */
  readonly mode: string;
  /** The network's name. */
  readonly network: string;
  /** max |y − y_cpu| / max |y_cpu|. */
  readonly output: number;
  /**
   * max over parameters of max |g − g_cpu| / max(max |g_cpu|, 10⁻³·G), G the largest gradient of the network:
   * the floor keeps tensors whose exact gradient is 0 (attention's key bias: a shift of every key by the same
   * vector leaves each softmax unchanged) from dividing round-off by round-off.
   */
  readonly gradients: number;
  /** The parameter where that maximum is reached. */
  readonly worst: string;
  /** Milliseconds of the forward and backward pass (the first, compiling, pass excluded). */
  readonly ms: number;
}

/** One network's forward pass on webgpu against cpu. */
export interface GpuAgreement {
  /** The network's name. */
  readonly network: string;
  /** max |y − y_cpu| / max |y_cpu|. */
  readonly output: number;
  /** A training pass on webgpu against cpu: |L − L_cpu| / |L_cpu| and the gradients' gap as in {@link Agreement}. */
  readonly training: { readonly loss: number; readonly gradients: number; readonly worst: string };
  /** Milliseconds of the first pass (compiling every kernel) and of the second. */
  readonly ms: readonly [first: number, second: number];
}

/** The whole check. */
export interface BackendsCheck {
  /** Each request's outcome. */
  readonly requests: readonly RequestOutcome[];
  /** Each network on each mode that runs the ops. */
  readonly agreements: readonly Agreement[];
  /** Each network's forward pass on webgpu, or why none ran. */
  readonly webgpu: readonly GpuAgreement[] | string;
  /**
   * 30 steps of the playground's training run (EDM loss, MLP, Adam, EMA) with the passes on webgpu against the
   * same steps on cpu: the largest relative gap of the step losses and of the final EMA parameters.
   */
  readonly training: {
    readonly losses: number;
    readonly ema: number;
    readonly firstLoss: number;
    readonly lastLoss: number;
  };
  /** Live GPU buffers (created − destroyed) after 2 and after 30 forward and training passes of the MLP. */
  readonly liveBuffers: readonly [after2: number, after30: number];
}

/** GPU buffers created and destroyed so far, counted at the WebGPU API (installed before any device exists). */
const buffers = { created: 0, destroyed: 0 };
const countBuffers = (): void => {
  const api = globalThis as unknown as {
    readonly GPUDevice?: { readonly prototype: { createBuffer: (descriptor: unknown) => unknown } };
    readonly GPUBuffer?: { readonly prototype: { destroy: () => void } };
  };
  if (api.GPUDevice === undefined || api.GPUBuffer === undefined) return;
  const device = api.GPUDevice.prototype;
  const create = device.createBuffer;
  device.createBuffer = function (this: unknown, descriptor: unknown) {
    buffers.created++;
    return create.call(this, descriptor);
  };
  const buffer = api.GPUBuffer.prototype;
  const destroy = buffer.destroy;
  buffer.destroy = function (this: unknown) {
    buffers.destroyed++;
    destroy.call(this);
  };
};
countBuffers();

const mse = (out: Tensor): LossAndGradient => {
  const n = out.data.length;
  const dOutput = Float32Array.from(out.data, (v) => (2 * v) / n);
  return { loss: out.data.reduce((a, v) => a + v * v, 0) / n, dOutput };
};

const largest = (v: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
};
const relativeGap = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  largest(Array.from(a, (v, i) => v - b[i])) / largest(b);

/**
 * The largest gap between two gradient maps (see {@link Agreement.gradients}) and the parameter where it is, with
 * the floor 10⁻³·G for tensors whose exact gradient is 0.
 */
const gradientGap = (
  got: ReadonlyMap<string, Tensor>,
  reference: ReadonlyMap<string, Tensor>,
): { readonly gradients: number; readonly worst: string } => {
  const scale = Math.max(...[...reference.values()].map((g) => largest(g.data)));
  const gaps = [...reference].map(([name, g]) => {
    const gap = largest(Array.from(got.get(name)!.data, (v, i) => v - g.data[i]));
    return [name, gap / Math.max(largest(g.data), 1e-3 * scale)] as const;
  });
  const [worst, gradients] = gaps.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { gradients, worst };
};

const key = orThrow(rngKey(7));
const space = tensorSpace<Float32Array>();
const unet = smallUnet(8);
const mlp = mlpNetwork(orThrow(mlpConfig({ dataDim: 2, width: 64, blocks: 2 })));
const cases: readonly { readonly network: Network; readonly x: Tensor; readonly noise: readonly number[] }[] =
  [
    { network: unet, x: space.normalLike(foldIn(key, 1), zeros32([2, 1, 8, 8])), noise: [10, 900] },
    {
      network: mlp,
      x: space.normalLike(foldIn(key, 2), zeros32([256, 2])),
      noise: Array.from({ length: 256 }, (_, i) => i / 64 - 2),
    },
  ];

const check = async (): Promise<BackendsCheck> => {
  const requests: RequestOutcome[] = [];
  for (const request of ["auto", "webgpu", "webgl2", "webasm", "cpu"] as const) {
    const backend = await createBackend(request);
    if (E.isLeft(backend)) {
      requests.push({
        request,
        answer: backend.left.message,
        fallbacks: [],
        renderer: undefined,
        kernels: "",
      });
      continue;
    }
    const kernels = netKernels(backend.right);
    requests.push({
      request,
      answer: backend.right.mode,
      fallbacks: backend.right.report.fallbacks,
      renderer: backend.right.report.renderer,
      kernels: E.isLeft(kernels)
        ? kernels.left.message
        : (["conv2d", "linear", "attention"] as const)
            .map((op) => `${op} ${kernels.right[op].implementation}`)
            .join(", "),
    });
    await disposeBackend(backend.right);
  }
  const cpu = orThrow(netKernels(orThrow(await createBackend("cpu"))));
  const agreements: Agreement[] = [];
  for (const mode of ["webgl2", "webasm"] as const) {
    const backend = await createBackend(mode);
    if (E.isLeft(backend)) continue;
    const kernels = orThrow(netKernels(backend.right));
    for (const { network, x, noise } of cases) {
      const parameters = initParameters(network, foldIn(key, 3));
      const reference = orThrow(networkGradients(cpu, network, parameters, x, noise, mse));
      orThrow(networkGradients(kernels, network, parameters, x, noise, mse));
      const start = performance.now();
      const pass = orThrow(networkGradients(kernels, network, parameters, x, noise, mse));
      const ms = performance.now() - start;
      const output = relativeGap(pass.output.data, reference.output.data);
      const { gradients, worst } = gradientGap(pass.gradients, reference.gradients);
      agreements.push({ mode, network: network.name, output, gradients, worst, ms });
    }
    await disposeBackend(backend.right);
  }
  return {
    requests,
    agreements,
    webgpu: await onWebgpu(cpu),
    training: await trainingOnWebgpu(cpu),
    liveBuffers: await liveBuffers(),
  };
};

/** {@link BackendsCheck.training}. */
const trainingOnWebgpu = async (cpu: NetKernels): Promise<BackendsCheck["training"]> => {
  const built = trainingRun("checkerboard", 3, 30, key);
  if (E.isLeft(built)) throw new Error(built.left.message);
  const run = built.right;
  const gpu = orThrow(webgpuNetKernels(orThrow(await createBackend("webgpu"))));
  const losses: [number, number][] = [];
  let onCpu = run.state;
  let onGpu = run.state;
  for (let k = 0; k < 30; k++) {
    const a = orThrow(trainStep(cpu, run.model, run.loss, run.config, onCpu, run.data));
    const b = orThrow(await trainStepWebgpu(gpu, run.model, run.loss, run.config, onGpu, run.data));
    losses.push([a.metrics.loss, b.metrics.loss]);
    onCpu = a.state;
    onGpu = b.state;
  }
  await gpu.dispose();
  const ema = Math.max(...[...onCpu.ema].map(([name, t]) => relativeGap(onGpu.ema.get(name)!.data, t.data)));
  return {
    losses: Math.max(...losses.map(([a, b]) => Math.abs(a - b) / Math.abs(a))),
    ema,
    firstLoss: losses[0][0],
    lastLoss: losses[29][0],
  };
};

/** {@link BackendsCheck.liveBuffers}: whether a pass frees what it allocates. */
const liveBuffers = async (): Promise<readonly [number, number]> => {
  const backend = orThrow(await createBackend("webgpu"));
  const gpu = orThrow(webgpuNetKernels(backend));
  const parameters = initParameters(mlp, foldIn(key, 3));
  const live: number[] = [];
  for (let i = 1; i <= 30; i++) {
    const x = space.normalLike(foldIn(key, 100 + i), zeros32([256, 2]));
    orThrow(await forwardNetworkWebgpu(gpu, mlp, parameters, x, cases[1].noise));
    orThrow(await networkGradientsWebgpu(gpu, mlp, parameters, x, cases[1].noise, mse));
    if (i === 2 || i === 30) live.push(buffers.created - buffers.destroyed);
  }
  await gpu.dispose();
  await disposeBackend(backend);
  return [live[0], live[1]];
};

/** A U-Net with Fourier time features and downsample padding 0 (the other code paths of UNet2DModel). */
const fourierUnet = orThrow(
  unet2DModel(
    orThrow(
      unet2DConfig({
        sample_size: 8,
        in_channels: 2,
        out_channels: 2,
        layers_per_block: 1,
        block_out_channels: [8, 16],
        down_block_types: ["AttnDownBlock2D", "DownBlock2D"],
        up_block_types: ["UpBlock2D", "AttnUpBlock2D"],
        norm_num_groups: 4,
        attention_head_dim: 4,
        time_embedding_type: "fourier",
        downsample_padding: 0,
        center_input_sample: true,
      }),
    ),
  ),
);

/** The forward passes of every case, the Fourier U-Net and the EDM-preconditioned MLP on webgpu against cpu. */
const onWebgpu = async (cpu: NetKernels): Promise<readonly GpuAgreement[] | string> => {
  const backend = await createBackend("webgpu");
  if (E.isLeft(backend)) return backend.left.message;
  const gpu = orThrow(webgpuNetKernels(backend.right));
  const all = [
    ...cases,
    {
      network: fourierUnet,
      x: space.normalLike(foldIn(key, 4), zeros32([3, 2, 8, 8])),
      noise: [0.01, 1, 80],
    },
    {
      network: preconditionedNetwork(mlp, orThrow(edmPreconditioning(0.5))),
      x: space.normalLike(foldIn(key, 5), zeros32([64, 2])),
      noise: Array.from({ length: 64 }, (_, i) => 0.002 * 1.2 ** i),
    },
  ];
  const results: GpuAgreement[] = [];
  for (const { network, x, noise } of all) {
    const parameters = initParameters(network, foldIn(key, 3));
    const reference = orThrow(forwardNetwork(cpu, network, parameters, x, noise));
    const t0 = performance.now();
    const first = orThrow(await forwardNetworkWebgpu(gpu, network, parameters, x, noise));
    const t1 = performance.now();
    const second = orThrow(await forwardNetworkWebgpu(gpu, network, parameters, x, noise));
    const t2 = performance.now();
    if (relativeGap(first.data, second.data) !== 0) return `${network.name}: two passes differ`;
    const cpuPass = orThrow(networkGradients(cpu, network, parameters, x, noise, mse));
    const gpuPass = orThrow(await networkGradientsWebgpu(gpu, network, parameters, x, noise, mse));
    results.push({
      network: network.name,
      output: relativeGap(second.data, reference.data),
      training: {
        loss: Math.abs(gpuPass.loss - cpuPass.loss) / Math.abs(cpuPass.loss),
        ...gradientGap(gpuPass.gradients, cpuPass.gradients),
      },
      ms: [t1 - t0, t2 - t1],
    });
  }
  await gpu.dispose();
  await disposeBackend(backend.right);
  return results;
};

(window as unknown as { backendsCheck: Promise<BackendsCheck> }).backendsCheck = check();
