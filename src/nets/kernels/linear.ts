/**
 * The linear op (PyTorch `torch.nn.Linear`: y = x·Wᵀ + b, W [out, in]): a kernel interface with two
 * implementations, the selection between them, and the validated entry points `linear` (forward) and
 * `linearBackward` (∂x, ∂W, ∂b).
 *
 * Implementations: on the `webasm` backend, the WebAssembly SIMD panel product of `wasm/micro-kernels.ts`
 * (`wasm-simd`, the same micro-kernel as conv2d); elsewhere GPU.js kernels of the instance (`gpujs-webgl2` on a
 * browser's GPU, `gpujs-cpu` on the cpu backend). The op is compute-bound for R rows ≫ 1 (2·R·in·out FLOPs on (R + out)·in + R·out values), so
 * it gets the fast kernel. FLOPs: {@link linearFlops}.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../../core/errors.js";
import type { Tensor } from "../../core/tensor.js";
import type { NetBackend } from "../backend.js";
import {
  checkLinearOutputGradient,
  type LinearGradients,
  type LinearShape,
  linearShape,
} from "../linear-shape.js";
import { type KernelThreads, withThreads } from "../wasm/threads.js";
import { gpujsLinear } from "./linear-gpujs.js";
import { wasmLinear } from "./linear-wasm.js";

/**
 * Which code computes a linear layer: our WebAssembly SIMD panel product, or GPU.js kernels on its webasm or
 * cpu backend.
 *
 * @category Networks
 */
export type LinearImplementation = "wasm-simd" | "gpujs-webgl2" | "gpujs-webasm" | "gpujs-cpu";

/**
 * A linear-layer implementation over flat float32 row-major buffers. Kernels trust their inputs: the geometry
 * comes from {@link linearShape} and the buffers match it (the entry points {@link linear} and
 * {@link linearBackward} check both).
 *
 * @category Networks
 */
export interface LinearKernels {
  /** Which code runs. */
  readonly implementation: LinearImplementation;
  /** Why this implementation was chosen, in one sentence. */
  readonly reason: string;
  /** y = x·Wᵀ + b for x [R, in], W [out, in], b [out] (omitted means 0); returns y [R, out]. */
  readonly forward: (
    g: LinearShape,
    x: Float32Array,
    w: Float32Array,
    b: Float32Array | undefined,
  ) => Float32Array;
  /** ∂x, ∂W, ∂b for an output gradient ∂y [R, out]. */
  readonly backward: (
    g: LinearShape,
    x: Float32Array,
    w: Float32Array,
    dy: Float32Array,
  ) => {
    /** ∂x = ∂y·W, [R, in]. */
    readonly dx: Float32Array;
    /** ∂W = ∂yᵀ·x, [out, in]. */
    readonly dw: Float32Array;
    /** ∂b = Σᵣ ∂y[r, ·], [out]. */
    readonly db: Float32Array;
  };
  /** Releases compiled kernels and scratch memory; the kernels recompile if used again. */
  readonly dispose: () => void;
}

/**
 * The linear kernels for a backend: `wasm-simd` on webasm (GPU.js kernels if the platform lacks WebAssembly
 * SIMD, with the reason recorded), GPU.js GLSL kernels on webgl2, GPU.js cpu kernels on cpu. The webgpu backend
 * is a Left for now: its kernels
 * answer with Promises and this interface is synchronous.
 *
 * @category Networks
 */
export const linearKernels = (
  backend: NetBackend,
  threads?: KernelThreads,
): E.Either<ScoreflowError, LinearKernels> => {
  switch (backend.mode) {
    case "webasm":
      return E.right(
        wasmLinear(
          withThreads("webasm backend: WebAssembly SIMD panel product (shared with conv2d)", threads),
          threads,
        ) ??
          gpujsLinear(
            backend.gpu,
            "gpujs-webasm",
            "webasm backend without WebAssembly SIMD: GPU.js webasm kernels",
          ),
      );
    case "cpu":
      return E.right(
        gpujsLinear(backend.gpu, "gpujs-cpu", "cpu backend: GPU.js kernels in plain JavaScript"),
      );
    case "webgl2":
      return E.right(
        gpujsLinear(
          backend.gpu,
          "gpujs-webgl2",
          "webgl2 backend: GPU.js kernels compiled to GLSL fragment shaders, read back after each op",
        ),
      );
    case "webgpu":
      return E.left(
        scoreflowError(
          "linear",
          "backend.mode",
          backend.mode,
          "is not supported yet: webgpu kernels are asynchronous and the linear kernel interface is synchronous",
        ),
      );
  }
};

/**
 * Forward linear layer y[…, o] = b[o] + Σₖ x[…, k] · W[o, k] over every leading index of x; `bias` may be
 * omitted. Validates shapes and finiteness first (see {@link linearShape}). Cost {@link linearFlops}.
 *
 * Source: PyTorch `torch.nn.Linear` / `torch.nn.functional.linear`.
 *
 * @category Networks
 */
export const linear = (
  kernels: LinearKernels,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | undefined,
): E.Either<ScoreflowError, Tensor> =>
  E.map((g: LinearShape) => ({
    shape: [...g.batchShape, g.outFeatures],
    data: kernels.forward(g, x.data, weight.data, bias?.data),
  }))(linearShape(x, weight, bias));

/**
 * Backward linear layer: for ∂y = ∂L/∂y [*, out], returns ∂L/∂x = ∂y·W, ∂L/∂W = ∂yᵀ·x and ∂L/∂b = Σ ∂y over
 * the leading axes. Validates like {@link linear}, and ∂y against the output shape. Cost 2·{@link linearFlops}.
 *
 * Source: PyTorch `torch.nn.functional.linear` autograd (`addmm` backward).
 *
 * @category Networks
 */
export const linearBackward = (
  kernels: LinearKernels,
  x: Tensor,
  weight: Tensor,
  dy: Tensor,
): E.Either<ScoreflowError, LinearGradients> => {
  const shape = linearShape(x, weight, undefined);
  if (E.isLeft(shape)) return shape;
  const g = shape.right;
  const dyOk = checkLinearOutputGradient(g, dy);
  if (E.isLeft(dyOk)) return dyOk;
  const { dx, dw, db } = kernels.backward(g, x.data, weight.data, dy.data);
  return E.right({
    dx: { shape: [...x.shape], data: dx },
    dw: { shape: [g.outFeatures, g.inFeatures], data: dw },
    db: { shape: [g.outFeatures], data: db },
  });
};
