/**
 * The linear layer as four GPU.js kernels (forward, ∂x, ∂W, ∂b), one output element per thread, runnable on any
 * GPU.js backend that answers synchronously (`cpu`, `webasm`, and the GL backends). With x as [R, in]:
 *   y[r, o] = b[o] + Σₖ x[r, k] · W[o, k],   ∂x[r, k] = Σₒ ∂y[r, o] · W[o, k],
 *   ∂W[o, k] = Σᵣ ∂y[r, o] · x[r, k],         ∂b[o] = Σᵣ ∂y[r, o].
 * The portable formulation for real GPUs; on CPUs the WebAssembly panel product is far faster. Kernels are
 * compiled per geometry (sizes are kernel constants) and cached until `dispose`.
 *
 * @module
 */
import type { GPU, IKernelFunctionThis } from "gpu.js";
import type { LinearShape } from "../linear-shape.js";
import { gpujsLayer } from "./gpujs-layer.js";
import type { LinearImplementation, LinearKernels } from "./linear.js";

/** The geometry as kernel constants. */
export type LinearConstants = {
  /** Rows R. */
  readonly rows: number;
  /** Input features. */
  readonly nin: number;
  /** Output features. */
  readonly nout: number;
};

type This = IKernelFunctionThis<LinearConstants>;

/** The forward kernel, y[r, o] = b[o] + Σₖ x[r, k]·W[o, k]. */
export function linearForwardKernel(this: This, x: number[], w: number[], b: number[]): number {
  const o = this.thread.x % this.constants.nout;
  const r = Math.floor(this.thread.x / this.constants.nout);
  let sum = b[o];
  for (let k = 0; k < this.constants.nin; k++) {
    sum += x[r * this.constants.nin + k] * w[o * this.constants.nin + k];
  }
  return sum;
}

/** ∂x[r, k] = Σₒ ∂y[r, o]·W[o, k]. */
export function linearInputGradientKernel(this: This, w: number[], dy: number[]): number {
  const k = this.thread.x % this.constants.nin;
  const r = Math.floor(this.thread.x / this.constants.nin);
  let sum = 0;
  for (let o = 0; o < this.constants.nout; o++) {
    sum += dy[r * this.constants.nout + o] * w[o * this.constants.nin + k];
  }
  return sum;
}

/** ∂W[o, k] = Σᵣ ∂y[r, o]·x[r, k]. */
export function linearWeightGradientKernel(this: This, x: number[], dy: number[]): number {
  const k = this.thread.x % this.constants.nin;
  const o = Math.floor(this.thread.x / this.constants.nin);
  let sum = 0;
  for (let r = 0; r < this.constants.rows; r++) {
    sum += dy[r * this.constants.nout + o] * x[r * this.constants.nin + k];
  }
  return sum;
}

/** ∂b[o] = Σᵣ ∂y[r, o]. */
export function linearBiasGradientKernel(this: This, dy: number[]): number {
  let sum = 0;
  for (let r = 0; r < this.constants.rows; r++) {
    sum += dy[r * this.constants.nout + this.thread.x];
  }
  return sum;
}

/**
 * Linear kernels compiled by a GPU.js instance (whatever backend it runs). The instance stays the caller's:
 * `dispose` destroys the compiled kernels, not the instance.
 *
 * @category Networks
 */
export const gpujsLinear = (
  gpu: GPU,
  implementation: LinearImplementation,
  reason: string,
): LinearKernels => ({
  implementation,
  reason,
  ...gpujsLayer<LinearShape, LinearConstants>(gpu, {
    kernels: {
      forward: linearForwardKernel,
      dx: linearInputGradientKernel,
      dw: linearWeightGradientKernel,
      db: linearBiasGradientKernel,
    },
    constants: (g) => ({ rows: g.rows, nin: g.inFeatures, nout: g.outFeatures }),
    lengths: (g) => ({
      forward: g.rows * g.outFeatures,
      dx: g.rows * g.inFeatures,
      dw: g.outFeatures * g.inFeatures,
      db: g.outFeatures,
    }),
  }),
});
