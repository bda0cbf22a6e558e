/**
 * The shared driver of the GPU.js kernels of a layer with weights (conv2d, linear): four one-output-per-thread
 * kernels — forward, ∂x, ∂w, ∂b — compiled per geometry with the sizes as kernel constants, cached (the
 * {@link MAX_GEOMETRIES} most recently used) until `dispose`, run synchronously. Each layer supplies its kernels, its constants and its output lengths.
 *
 * @module
 */
import type { GPU, IConstantsThis, IKernelFunctionThis, IKernelRunShortcut } from "gpu.js";
import { kernelCache } from "../kernel-cache.js";

/**
 * A GPU.js kernel function over flat float arrays, one output element per thread.
 *
 * @category Networks
 */
export type GpujsKernelFunction<C extends IConstantsThis> = (
  this: IKernelFunctionThis<C>,
  ...args: number[][]
) => number;

/**
 * What a layer gives the driver: its four kernels, the kernel constants of a geometry (which also key the
 * cache) and the output length of each kernel.
 *
 * @category Networks
 */
export interface GpujsLayerSpec<G, C extends IConstantsThis> {
  /** y = f(x, w, b); ∂x from (w, ∂y); ∂w from (x, ∂y); ∂b from ∂y. */
  readonly kernels: {
    /** Forward, called with (x, w, b). */
    readonly forward: GpujsKernelFunction<C>;
    /** Input gradient, called with (w, ∂y). */
    readonly dx: GpujsKernelFunction<C>;
    /** Weight gradient, called with (x, ∂y). */
    readonly dw: GpujsKernelFunction<C>;
    /** Bias gradient, called with (∂y). */
    readonly db: GpujsKernelFunction<C>;
  };
  /** The geometry as kernel constants. */
  readonly constants: (g: G) => C;
  /** Output lengths of the four kernels (`db` is the bias length). */
  readonly lengths: (g: G) => {
    readonly forward: number;
    readonly dx: number;
    readonly dw: number;
    readonly db: number;
  };
}

/**
 * How many geometries keep their compiled kernels: a caller sweeping batch sizes (the playground's particle
 * count) would otherwise hold a shader program per size on the GL backends; the least recently used go first.
 *
 * @category Networks
 */
export const MAX_GEOMETRIES = 32;

/**
 * Forward, backward and dispose of a layer's GPU.js kernels on one GPU.js instance (whatever backend it runs);
 * the instance stays the caller's: `dispose` destroys the compiled kernels, not the instance.
 *
 * @category Networks
 */
export const gpujsLayer = <G, C extends IConstantsThis>(gpu: GPU, spec: GpujsLayerSpec<G, C>) => {
  type Compiled = Readonly<Record<"forward" | "dx" | "dw" | "db", IKernelRunShortcut>>;
  const cache = kernelCache<Compiled>(MAX_GEOMETRIES, (k) => {
    for (const kernel of Object.values(k)) kernel.destroy();
  });
  const compile = (g: G): Compiled => {
    const constants = spec.constants(g);
    return cache.get(JSON.stringify(constants), () => make(g, constants));
  };
  const make = (g: G, constants: C): Compiled => {
    const lengths = spec.lengths(g);
    const kernel = (part: keyof Compiled): IKernelRunShortcut =>
      gpu.createKernel(spec.kernels[part], {
        output: [lengths[part]],
        constants,
        tactic: "precision",
        // float32 everywhere: on the GL backends, never the lossy 8-bit "unsigned" packing
        precision: "single",
      }) as IKernelRunShortcut;
    return { forward: kernel("forward"), dx: kernel("dx"), dw: kernel("dw"), db: kernel("db") };
  };
  const run = (k: IKernelRunShortcut, ...args: Float32Array[]): Float32Array => {
    const out = k(...args);
    return out instanceof Float32Array ? out : Float32Array.from(out as ArrayLike<number>);
  };
  return {
    forward: (g: G, x: Float32Array, w: Float32Array, b: Float32Array | undefined): Float32Array =>
      run(compile(g).forward, x, w, b ?? new Float32Array(spec.lengths(g).db)),
    backward: (g: G, x: Float32Array, w: Float32Array, dy: Float32Array) => {
      const k = compile(g);
      return { dx: run(k.dx, w, dy), dw: run(k.dw, x, dy), db: run(k.db, dy) };
    },
    dispose: (): void => {
      cache.clear();
    },
  };
};
