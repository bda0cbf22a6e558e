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
  foldIn,
  initParameters,
  type LossAndGradient,
  mlpConfig,
  mlpNetwork,
  type Network,
  netKernels,
  networkGradients,
  orThrow,
  rngKey,
  type Tensor,
  tensorSpace,
  unet2DConfig,
  unet2DModel,
  zeros32,
} from "../../../src/index.js";

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

/** The whole check. */
export interface BackendsCheck {
  /** Each request's outcome. */
  readonly requests: readonly RequestOutcome[];
  /** Each network on each mode that runs the ops. */
  readonly agreements: readonly Agreement[];
}

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

const key = orThrow(rngKey(7));
const space = tensorSpace<Float32Array>();
const unet = orThrow(
  unet2DModel(
    orThrow(
      unet2DConfig({
        sample_size: 8,
        in_channels: 1,
        out_channels: 1,
        layers_per_block: 1,
        block_out_channels: [16, 32],
        down_block_types: ["DownBlock2D", "AttnDownBlock2D"],
        up_block_types: ["AttnUpBlock2D", "UpBlock2D"],
        norm_num_groups: 4,
        attention_head_dim: 8,
      }),
    ),
  ),
);
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
      const scale = Math.max(...[...reference.gradients.values()].map((g) => largest(g.data)));
      const gaps = [...reference.gradients].map(([name, g]) => {
        const gap = largest(Array.from(pass.gradients.get(name)!.data, (v, i) => v - g.data[i]));
        return [name, gap / Math.max(largest(g.data), 1e-3 * scale)] as const;
      });
      const [worst, gradients] = gaps.reduce((a, b) => (b[1] > a[1] ? b : a));
      const output = relativeGap(pass.output.data, reference.output.data);
      agreements.push({ mode, network: network.name, output, gradients, worst, ms });
    }
    await disposeBackend(backend.right);
  }
  return { requests, agreements };
};

(window as unknown as { backendsCheck: Promise<BackendsCheck> }).backendsCheck = check();
