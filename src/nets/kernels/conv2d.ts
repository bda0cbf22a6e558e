/**
 * The conv2d op: a kernel interface with two implementations, the selection between them, and the validated
 * entry points `conv2d` (forward) and `conv2dBackward` (∂x, ∂w, ∂b) with PyTorch semantics
 * (NCHW, weight [Cout, Cin, kh, kw], cross-correlation, zero padding, groups = dilation = 1).
 *
 * Implementations: on the `webasm` backend, our own WebAssembly SIMD micro-kernels (`wasm-simd`, ~30 GFLOP/s
 * per core); elsewhere the GPU.js kernels of the instance (`gpujs-webgl2` on a browser's GPU, `gpujs-cpu` on the cpu
 * backend). Why not GPU.js on
 * webasm: its vectorizer loads every lane-varying read one lane at a time, which holds a conv near 0.8 GFLOP/s
 * (see `wasm/micro-kernels.ts`). FLOPs: {@link conv2dFlops}.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../../core/errors.js";
import type { Tensor } from "../../core/tensor.js";
import type { NetBackend } from "../backend.js";
import {
  type Conv2dGradients,
  type Conv2dOptions,
  type Conv2dShape,
  checkConv2dOutputGradient,
  conv2dShape,
} from "../conv2d-shape.js";
import { type KernelThreads, withThreads } from "../wasm/threads.js";
import { gpujsConv2d } from "./conv2d-gpujs.js";
import { wasmConv2d } from "./conv2d-wasm.js";

/**
 * Which code computes a convolution: our WebAssembly SIMD micro-kernels, or GPU.js kernels on its webgl2, webasm
 * or cpu backend.
 *
 * @category Networks
 */
export type Conv2dImplementation = "wasm-simd" | "gpujs-webgl2" | "gpujs-webasm" | "gpujs-cpu";

/**
 * A conv2d implementation over flat float32 NCHW buffers. Kernels trust their inputs: the geometry comes from
 * {@link conv2dShape} and the buffers match it (the entry points {@link conv2d} and {@link conv2dBackward}
 * check both).
 *
 * @category Networks
 */
export interface Conv2dKernels {
  /** Which code runs. */
  readonly implementation: Conv2dImplementation;
  /** Why this implementation was chosen, in one sentence. */
  readonly reason: string;
  /** y = conv2d(x, w) + b, buffers in NCHW / [Cout, Cin, kh, kw] / [Cout] order; b omitted means 0. */
  readonly forward: (
    g: Conv2dShape,
    x: Float32Array,
    w: Float32Array,
    b: Float32Array | undefined,
  ) => Float32Array;
  /** ∂x, ∂w, ∂b for an output gradient dy of shape [N, Cout, Hout, Wout]. */
  readonly backward: (
    g: Conv2dShape,
    x: Float32Array,
    w: Float32Array,
    dy: Float32Array,
  ) => {
    /** ∂x, [N, Cin, H, W]. */
    readonly dx: Float32Array;
    /** ∂w, [Cout, Cin, kh, kw]. */
    readonly dw: Float32Array;
    /** ∂b, [Cout]. */
    readonly db: Float32Array;
  };
  /** Releases compiled kernels and scratch memory; the kernels recompile if used again. */
  readonly dispose: () => void;
}

/**
 * The conv2d kernels for a backend: `wasm-simd` on webasm (GPU.js kernels if the platform lacks WebAssembly
 * SIMD, with the reason recorded), GPU.js GLSL kernels on webgl2, GPU.js cpu kernels on cpu. The webgpu backend
 * is a Left for now: its kernels
 * answer with Promises and this interface is synchronous.
 *
 * @category Networks
 */
export const conv2dKernels = (
  backend: NetBackend,
  threads?: KernelThreads,
): E.Either<ScoreflowError, Conv2dKernels> => {
  switch (backend.mode) {
    case "webasm": {
      const simd = wasmConv2d(
        withThreads(
          "webasm backend: own WebAssembly SIMD micro-kernels (GPU.js webasm gathers lane-varying reads one lane at a time)",
          threads,
        ),
        threads,
      );
      return E.right(
        simd ??
          gpujsConv2d(
            backend.gpu,
            "gpujs-webasm",
            "webasm backend without WebAssembly SIMD: GPU.js webasm kernels",
          ),
      );
    }
    case "cpu":
      return E.right(
        gpujsConv2d(backend.gpu, "gpujs-cpu", "cpu backend: GPU.js kernels in plain JavaScript"),
      );
    case "webgl2":
      return E.right(
        gpujsConv2d(
          backend.gpu,
          "gpujs-webgl2",
          "webgl2 backend: GPU.js kernels compiled to GLSL fragment shaders, read back after each op",
        ),
      );
    case "webgpu":
      return E.left(
        scoreflowError(
          "conv2d",
          "backend.mode",
          backend.mode,
          "is not supported yet: webgpu kernels are asynchronous and the conv2d kernel interface is synchronous",
        ),
      );
  }
};

/**
 * Forward convolution y[n, o, i, j] = b[o] + Σ_{c,u,v} w[o, c, u, v] · x[n, c, s·i + u − p, s·j + v − p]
 * (zero outside x), with Hout = ⌊(H + 2p − kh)/s⌋ + 1, Wout likewise; `bias` may be omitted. Validates shapes,
 * options and finiteness first (see {@link conv2dShape}). Cost {@link conv2dFlops}.
 *
 * Source: PyTorch `torch.nn.functional.conv2d`.
 *
 * @category Networks
 */
export const conv2d = (
  kernels: Conv2dKernels,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | undefined,
  options: Conv2dOptions,
): E.Either<ScoreflowError, Tensor> =>
  E.map((g: Conv2dShape) => ({
    shape: [g.n, g.cout, g.hout, g.wout],
    data: kernels.forward(g, x.data, weight.data, bias?.data),
  }))(conv2dShape(x, weight, bias, options));

/**
 * Backward convolution: for an output gradient ∂y = ∂L/∂y, returns ∂L/∂x (the transposed convolution of ∂y),
 * ∂L/∂w[o, c, u, v] = Σ_{n,i,j} ∂y[n, o, i, j] · x[n, c, s·i + u − p, s·j + v − p] and ∂L/∂b[o] = Σ_{n,i,j}
 * ∂y[n, o, i, j]. Validates like {@link conv2d}, and ∂y against the output shape. Cost 2·{@link conv2dFlops}.
 *
 * Source: PyTorch `torch.nn.grad.conv2d_input` / `conv2d_weight`.
 *
 * @category Networks
 */
export const conv2dBackward = (
  kernels: Conv2dKernels,
  x: Tensor,
  weight: Tensor,
  dy: Tensor,
  options: Conv2dOptions,
): E.Either<ScoreflowError, Conv2dGradients> => {
  const shape = conv2dShape(x, weight, undefined, options);
  if (E.isLeft(shape)) return shape;
  const g = shape.right;
  const dyOk = checkConv2dOutputGradient(g, dy);
  if (E.isLeft(dyOk)) return dyOk;
  const { dx, dw, db } = kernels.backward(g, x.data, weight.data, dy.data);
  return E.right({
    dx: { shape: [...x.shape], data: dx },
    dw: { shape: [...weight.shape], data: dw },
    db: { shape: [g.cout], data: db },
  });
};
