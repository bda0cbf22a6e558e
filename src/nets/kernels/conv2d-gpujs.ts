/**
 * conv2d as four GPU.js kernels (forward, ∂x, ∂w, ∂b), one output element per thread, runnable on any GPU.js
 * backend that answers synchronously (`cpu`, `webasm`, and the GL backends). Each thread evaluates one term of
 * the reference sums (see `reference/conv2d.ts`) in gather form:
 *   y[n, o, i, j] = b[o] + Σ_{c,u,v} w[o, c, u, v] · x[n, c, s·i + u − p, s·j + v − p],
 *   ∂x[n, c, r, q] = Σ_{o,u,v} w[o, c, u, v] · ∂y[n, o, (r + p − u)/s, (q + p − v)/s]  (integer, in range),
 *   ∂w[o, c, u, v] = Σ_{n,i,j} ∂y[n, o, i, j] · x[n, c, s·i + u − p, s·j + v − p],   ∂b[o] = Σ_{n,i,j} ∂y[n, o, i, j].
 * This is the portable formulation for real GPUs; on CPUs the WebAssembly micro-kernels are ~40× faster.
 * Kernels are compiled per geometry (sizes are kernel constants) and cached until `dispose`.
 *
 * @module
 */
import type { GPU, IKernelFunctionThis } from "gpu.js";
import type { Conv2dShape } from "../conv2d-shape.js";
import type { Conv2dImplementation, Conv2dKernels } from "./conv2d.js";
import { gpujsLayer } from "./gpujs-layer.js";

/** The geometry as kernel constants. */
export type ConvConstants = {
  readonly [K in keyof Conv2dShape]: number;
};

type This = IKernelFunctionThis<ConvConstants>;

/** The forward kernel, y[n, o, i, j] = b[o] + Σ_{c,u,v} w[o, c, u, v]·x[n, c, s·i + u − p, s·j + v − p]. */
export function conv2dForwardKernel(this: This, x: number[], w: number[], b: number[]): number {
  const t = this.thread.x;
  const j = t % this.constants.wout;
  const t1 = Math.floor(t / this.constants.wout);
  const i = t1 % this.constants.hout;
  const t2 = Math.floor(t1 / this.constants.hout);
  const o = t2 % this.constants.cout;
  const n = Math.floor(t2 / this.constants.cout);
  let sum = b[o];
  for (let c = 0; c < this.constants.cin; c++) {
    for (let u = 0; u < this.constants.kh; u++) {
      const r = this.constants.stride * i + u - this.constants.padding;
      if (r >= 0 && r < this.constants.h) {
        for (let v = 0; v < this.constants.kw; v++) {
          const q = this.constants.stride * j + v - this.constants.padding;
          if (q >= 0 && q < this.constants.w) {
            sum +=
              w[((o * this.constants.cin + c) * this.constants.kh + u) * this.constants.kw + v] *
              x[((n * this.constants.cin + c) * this.constants.h + r) * this.constants.w + q];
          }
        }
      }
    }
  }
  return sum;
}

/** ∂x[n, c, r, q] = Σ_{o,u,v} w[o, c, u, v]·∂y[n, o, (r + p − u)/s, (q + p − v)/s] (integer, in range). */
export function conv2dInputGradientKernel(this: This, w: number[], dy: number[]): number {
  const t = this.thread.x;
  const q = t % this.constants.w;
  const t1 = Math.floor(t / this.constants.w);
  const r = t1 % this.constants.h;
  const t2 = Math.floor(t1 / this.constants.h);
  const c = t2 % this.constants.cin;
  const n = Math.floor(t2 / this.constants.cin);
  let sum = 0;
  for (let u = 0; u < this.constants.kh; u++) {
    const ri = r + this.constants.padding - u;
    const i = Math.floor(ri / this.constants.stride);
    if (ri >= 0 && i * this.constants.stride === ri && i < this.constants.hout) {
      for (let v = 0; v < this.constants.kw; v++) {
        const qj = q + this.constants.padding - v;
        const j = Math.floor(qj / this.constants.stride);
        if (qj >= 0 && j * this.constants.stride === qj && j < this.constants.wout) {
          for (let o = 0; o < this.constants.cout; o++) {
            sum +=
              w[((o * this.constants.cin + c) * this.constants.kh + u) * this.constants.kw + v] *
              dy[((n * this.constants.cout + o) * this.constants.hout + i) * this.constants.wout + j];
          }
        }
      }
    }
  }
  return sum;
}

/** ∂w[o, c, u, v] = Σ_{n,i,j} ∂y[n, o, i, j]·x[n, c, s·i + u − p, s·j + v − p]. */
export function conv2dWeightGradientKernel(this: This, x: number[], dy: number[]): number {
  const t = this.thread.x;
  const v = t % this.constants.kw;
  const t1 = Math.floor(t / this.constants.kw);
  const u = t1 % this.constants.kh;
  const t2 = Math.floor(t1 / this.constants.kh);
  const c = t2 % this.constants.cin;
  const o = Math.floor(t2 / this.constants.cin);
  let sum = 0;
  for (let n = 0; n < this.constants.n; n++) {
    for (let i = 0; i < this.constants.hout; i++) {
      const r = this.constants.stride * i + u - this.constants.padding;
      if (r >= 0 && r < this.constants.h) {
        for (let j = 0; j < this.constants.wout; j++) {
          const q = this.constants.stride * j + v - this.constants.padding;
          if (q >= 0 && q < this.constants.w) {
            sum +=
              dy[((n * this.constants.cout + o) * this.constants.hout + i) * this.constants.wout + j] *
              x[((n * this.constants.cin + c) * this.constants.h + r) * this.constants.w + q];
          }
        }
      }
    }
  }
  return sum;
}

/** ∂b[o] = Σ_{n,i,j} ∂y[n, o, i, j]. */
export function conv2dBiasGradientKernel(this: This, dy: number[]): number {
  const o = this.thread.x;
  let sum = 0;
  for (let n = 0; n < this.constants.n; n++) {
    for (let k = 0; k < this.constants.hout * this.constants.wout; k++) {
      sum += dy[(n * this.constants.cout + o) * this.constants.hout * this.constants.wout + k];
    }
  }
  return sum;
}

/**
 * conv2d kernels compiled by a GPU.js instance (whatever backend it runs). The instance stays the caller's:
 * `dispose` destroys the compiled kernels, not the instance.
 *
 * @category Networks
 */
export const gpujsConv2d = (
  gpu: GPU,
  implementation: Conv2dImplementation,
  reason: string,
): Conv2dKernels => ({
  implementation,
  reason,
  ...gpujsLayer<Conv2dShape, ConvConstants>(gpu, {
    kernels: {
      forward: conv2dForwardKernel,
      dx: conv2dInputGradientKernel,
      dw: conv2dWeightGradientKernel,
      db: conv2dBiasGradientKernel,
    },
    constants: (g) => ({ ...g }),
    lengths: (g) => ({
      forward: g.n * g.cout * g.hout * g.wout,
      dx: g.n * g.cin * g.h * g.w,
      dw: g.cout * g.cin * g.kh * g.kw,
      db: g.cout,
    }),
  }),
});
