/**
 * The compute backend of the networks: a GPU.js instance for a requested mode, chosen explicitly and reported,
 * never silently. `"auto"` tries webgpu (only when an adapter actually answers), then webgl2 (browsers, on a
 * hardware renderer), then webasm (WebAssembly SIMD), then cpu (plain JavaScript), and records why each skipped
 * option was skipped. The instance is a value passed to whatever needs it (no module-level singleton); release
 * it with {@link disposeBackend}.
 *
 * Source: gpu.js 2.24 README, "Supported Backends", "WebGPU" and "WebAssembly" (`GPU.isWebAssemblySupported`,
 * `new GPU({ mode })`, `gpu.destroy()`); W3C WebGPU, `GPU.requestAdapter()` and `GPUAdapterInfo`; the
 * renderer's name from the `WEBGL_debug_renderer_info` extension (Khronos WebGL extension registry).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { GPU } from "gpu.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";

/**
 * A backend request: one mode, or `"auto"` for the best available one.
 *
 * @category Networks
 */
export type BackendRequest = "auto" | "webgpu" | "webgl2" | "webasm" | "cpu";

/**
 * A backend that actually runs: WGSL compute shaders (webgpu), GLSL fragment shaders (webgl2, browsers only),
 * WebAssembly with f32x4 SIMD (webasm) or plain JavaScript (cpu).
 *
 * @category Networks
 */
export type BackendMode = "webgpu" | "webgl2" | "webasm" | "cpu";

/**
 * What was asked for, what was chosen, and why every better option was passed over.
 *
 * @category Networks
 */
export interface BackendReport {
  /** The request as given. */
  readonly requested: BackendRequest;
  /** The mode the instance runs. */
  readonly chosen: BackendMode;
  /** One line per option skipped before `chosen`, e.g. «webgpu: no adapter answered». Empty when none. */
  readonly fallbacks: readonly string[];
  /** The GPU, as the API names it: WebGL's renderer on webgl2 («ANGLE (NVIDIA, …)»), the adapter on webgpu. */
  readonly renderer?: string;
}

/**
 * A GPU.js instance together with the mode it runs and the report of how it was chosen.
 *
 * @category Networks
 */
export interface NetBackend {
  /** The GPU.js instance; kernels are compiled by it. */
  readonly gpu: GPU;
  /** The mode `gpu` runs. */
  readonly mode: BackendMode;
  /** How the mode was chosen. */
  readonly report: BackendReport;
}

/**
 * Platform probes, injectable so that fallback paths can be tested on any machine.
 *
 * @category Networks
 */
export interface BackendProbes {
  /** The name of the WebGPU adapter that answers `navigator.gpu.requestAdapter()` (vendor, architecture,
   * description), or `undefined` where none does. */
  readonly webgpu: () => Promise<string | undefined>;
  /** The renderer of a fresh WebGL2 context (e.g. «ANGLE (NVIDIA …)»), or `undefined` where none can be made. */
  readonly webgl2: () => string | undefined;
  /** True when WebAssembly is available (`GPU.isWebAssemblySupported`). */
  readonly webasm: () => boolean;
}

/**
 * The probes of the running platform.
 *
 * @category Networks
 */
export const platformProbes: BackendProbes = {
  webgpu: () => webgpuAdapter(),
  webgl2: () => webgl2Renderer(),
  webasm: () => GPU.isWebAssemblySupported,
};

/** The minimal slice of WebGPU the probe reads. */
interface AdapterQuery {
  readonly gpu?: {
    requestAdapter(): Promise<{
      readonly info?: {
        readonly vendor?: string;
        readonly architecture?: string;
        readonly description?: string;
      };
    } | null>;
  };
}

/**
 * The name of the adapter `navigator.gpu` answers with («google swiftshader», «nvidia ampere …»), "an unnamed
 * adapter" when it gives none, or `undefined` where WebGPU is absent or no adapter answers.
 */
const webgpuAdapter = async (): Promise<string | undefined> => {
  const gpu = (globalThis.navigator as AdapterQuery | undefined)?.gpu;
  if (gpu === undefined) return undefined;
  try {
    const adapter = await gpu.requestAdapter();
    if (adapter === null) return undefined;
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture, info.description].filter(
      (p) => p !== undefined && p !== "",
    );
    return name.length > 0 ? name.join(" ") : "an unnamed adapter";
  } catch {
    return undefined;
  }
};

/** The minimal slice of a WebGL2 context the probe reads. */
interface RendererQuery {
  readonly RENDERER: number;
  getParameter(name: number): unknown;
  getExtension(name: string): unknown;
}

/**
 * The renderer of a fresh WebGL2 context — unmasked through `WEBGL_debug_renderer_info` where the browser
 * allows it — or `undefined` outside browsers and where WebGL2 is off. The probe's context is released at once.
 */
const webgl2Renderer = (): string | undefined => {
  if (!GPU.isWebGL2Supported || typeof OffscreenCanvas === "undefined") return undefined;
  try {
    const gl = new OffscreenCanvas(1, 1).getContext("webgl2") as RendererQuery | null;
    if (gl === null) return undefined;
    const debug = gl.getExtension("WEBGL_debug_renderer_info") as { UNMASKED_RENDERER_WEBGL: number } | null;
    const renderer = String(gl.getParameter(debug?.UNMASKED_RENDERER_WEBGL ?? gl.RENDERER));
    (gl.getExtension("WEBGL_lose_context") as { loseContext(): void } | null)?.loseContext();
    return renderer;
  } catch {
    return undefined;
  }
};

/**
 * Whether a WebGL renderer draws in software on the CPU (SwiftShader, Mesa's llvmpipe/softpipe), where our
 * WebAssembly SIMD kernels are faster than GLSL emulated by the same cores.
 *
 * @category Networks
 */
export const isSoftwareRenderer = (renderer: string): boolean =>
  /swiftshader|llvmpipe|softpipe|software/i.test(renderer);

const CONTEXT = "nets backend";

const unavailable: Readonly<Record<BackendMode, string>> = {
  webgpu: "no WebGPU adapter answered (navigator.gpu is absent or requestAdapter() gave none)",
  webgl2: "no WebGL2 context could be made (WebGL2 is a browser API; Node has none)",
  webasm: "WebAssembly is not supported here (GPU.isWebAssemblySupported is false)",
  cpu: "unreachable: the cpu backend is always available",
};

/** Why "auto" passes over an available WebGPU adapter, naming it. */
const webgpuNotForOps = (adapter: string): string =>
  `an adapter answered (${adapter}), but the network ops are synchronous and GPU.js webgpu kernels answer with Promises (request webgpu for forwardNetworkWebgpu and asyncModelSteps)`;

/** Whether `mode` is available under `probes`. */
const available = async (mode: BackendMode, probes: BackendProbes): Promise<boolean> => {
  switch (mode) {
    case "webgpu":
      return (await probes.webgpu()) !== undefined;
    case "webgl2":
      return probes.webgl2() !== undefined;
    case "webasm":
      return probes.webasm();
    case "cpu":
      return true;
  }
};

/** Constructs the instance; a constructor failure becomes a Left naming the mode. */
const instantiate = (mode: BackendMode, report: BackendReport): E.Either<ScoreflowError, NetBackend> => {
  try {
    return E.right({ gpu: new GPU({ mode }), mode, report });
  } catch (e) {
    return E.left(scoreflowError(CONTEXT, "mode", mode, `failed to start (${(e as Error).message})`));
  }
};

/**
 * Creates a GPU.js instance for `request`. An explicit mode that is unavailable is a Left (never a silent
 * substitute); `"auto"` picks the first mode the network ops run on, webgl2 → webasm → cpu, and lists in
 * `report.fallbacks` why each mode before it was passed over — webgpu always, with the reason (no adapter, or
 * ops not yet asynchronous); webgl2 when no context can be made or its renderer is software
 * ({@link isSoftwareRenderer}). Asynchronous because the WebGPU probe requests an adapter.
 *
 * @category Networks
 */
export const createBackend = async (
  request: BackendRequest,
  probes: BackendProbes = platformProbes,
): Promise<E.Either<ScoreflowError, NetBackend>> => {
  if (!(["auto", "webgpu", "webgl2", "webasm", "cpu"] as const).includes(request)) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "request",
        request,
        'must be one of "auto", "webgpu", "webgl2", "webasm", "cpu"',
      ),
    );
  }
  if (request !== "auto") {
    if (!(await available(request, probes)))
      return E.left(scoreflowError(CONTEXT, "request", request, `is unavailable: ${unavailable[request]}`));
    const renderer =
      request === "webgl2" ? probes.webgl2() : request === "webgpu" ? await probes.webgpu() : undefined;
    return instantiate(request, {
      requested: request,
      chosen: request,
      fallbacks: [],
      ...(renderer === undefined ? {} : { renderer }),
    });
  }
  // webgpu is probed and reported, but not chosen: the network kernels are synchronous and GPU.js' webgpu kernels
  // answer with Promises, so no network op runs there yet (see `conv2dKernels`).
  const adapter = await probes.webgpu();
  const fallbacks = [`webgpu: ${adapter === undefined ? unavailable.webgpu : webgpuNotForOps(adapter)}`];
  const renderer = probes.webgl2();
  if (renderer === undefined) fallbacks.push(`webgl2: ${unavailable.webgl2}`);
  else if (isSoftwareRenderer(renderer))
    fallbacks.push(
      `webgl2: its renderer is software (${renderer}), slower than WebAssembly SIMD on the same cores`,
    );
  else {
    const gl = instantiate("webgl2", { requested: request, chosen: "webgl2", fallbacks, renderer });
    if (E.isRight(gl)) return gl;
    fallbacks.push(`webgl2: ${renderer}: ${gl.left.rule}`);
  }
  if (await available("webasm", probes))
    return instantiate("webasm", { requested: request, chosen: "webasm", fallbacks });
  fallbacks.push(`webasm: ${unavailable.webasm}`);
  return instantiate("cpu", { requested: request, chosen: "cpu", fallbacks });
};

/**
 * Releases a backend: destroys every kernel its instance compiled and the instance's worker pool and buffers.
 * The backend must not be used afterwards.
 *
 * @category Networks
 */
export const disposeBackend = (backend: NetBackend): Promise<void> => backend.gpu.destroy();
