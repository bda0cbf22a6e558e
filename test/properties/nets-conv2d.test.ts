import fc from "fast-check";
import { GPU } from "gpu.js";
import { afterAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, rngKey } from "../../src/core/rng.js";
import type { Tensor } from "../../src/core/tensor.js";
import {
  type Conv2dKernels,
  conv2dBackwardReference,
  conv2dReference,
  conv2dShape,
  gpujsConv2d,
  wasmConv2d,
} from "../../src/nets/index.js";

const normal32 = (seed: number, shape: number[]): Tensor => ({
  shape,
  data: fillNormal(orThrow(rngKey(seed)), new Float32Array(shape.reduce((a, b) => a * b, 1))),
});

/** One random case: a geometry and the seed of its data. */
interface Case {
  readonly n: number;
  readonly cin: number;
  readonly cout: number;
  readonly h: number;
  readonly w: number;
  readonly k: number;
  readonly stride: number;
  readonly padding: number;
  readonly seed: number;
}

/** Small random geometries: 1×1 and 3×3 kernels, stride 1 or 2, padding 0–2, sizes down to 1×1 images. */
const geometry: fc.Arbitrary<Case> = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    cin: fc.integer({ min: 1, max: 5 }),
    cout: fc.integer({ min: 1, max: 6 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    k: fc.constantFrom(1, 3),
    stride: fc.constantFrom(1, 2),
    padding: fc.integer({ min: 0, max: 2 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })
  .filter((s) => s.h + 2 * s.padding >= s.k && s.w + 2 * s.padding >= s.k);

/**
 * Float32 tolerance: with unit-normal data, a sum of m products has float32 rounding error ≲ m·ε·Σ|terms|
 * (ε = 2⁻²⁴); we bound each output by 1e-5·(1 + Σ|terms|) through the reference run on |x|, |w|, |dy|.
 */
const close = (a: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number>): boolean => {
  if (a.length !== ref.length) return false;
  for (let i = 0; i < ref.length; i++) if (!(Math.abs(a[i] - ref[i]) <= 1e-5 * (1 + scale[i]))) return false;
  return true;
};

const abs = (t: Tensor): Tensor => ({ shape: t.shape, data: t.data.map(Math.abs) });

const agreesWithReference =
  (kern: Conv2dKernels) =>
  (s: Case): boolean => {
    const x = normal32(s.seed, [s.n, s.cin, s.h, s.w]);
    const w = normal32(s.seed + 1, [s.cout, s.cin, s.k, s.k]);
    const b = normal32(s.seed + 2, [s.cout]);
    const g = orThrow(conv2dShape(x, w, b, { stride: s.stride, padding: s.padding }));
    const dy = normal32(s.seed + 3, [g.n, g.cout, g.hout, g.wout]);
    const y = kern.forward(g, x.data, w.data, b.data);
    const grads = kern.backward(g, x.data, w.data, dy.data);
    const ref = conv2dReference(g, x, w, b);
    const refGrad = conv2dBackwardReference(g, x, w, dy);
    const yScale = conv2dReference(g, abs(x), abs(w), abs(b)).data;
    const gScale = conv2dBackwardReference(g, abs(x), abs(w), abs(dy));
    return (
      close(y, ref.data, yScale) &&
      close(grads.dx, refGrad.dx.data, gScale.dx.data) &&
      close(grads.dw, refGrad.dw.data, gScale.dw.data) &&
      close(grads.db, refGrad.db.data, gScale.db.data)
    );
  };

const simd = wasmConv2d("property test")!;
const gpus = [new GPU({ mode: "webasm" }), new GPU({ mode: "cpu" })];
const viaWebasm = gpujsConv2d(gpus[0], "gpujs-webasm", "property test");
const viaCpu = gpujsConv2d(gpus[1], "gpujs-cpu", "property test");
afterAll(async () => {
  for (const k of [simd, viaWebasm, viaCpu]) k.dispose();
  await Promise.all(gpus.map((g) => g.destroy()));
});

describe("conv2d kernels vs the float64 reference", () => {
  it("wasm-simd: forward and every gradient, random geometries", () => {
    fc.assert(fc.property(geometry, agreesWithReference(simd)), { numRuns: 150 });
  });

  // GPU.js compiles four kernels per geometry (~10–50 ms each), so fewer runs.
  it("GPU.js on webasm: forward and every gradient", () => {
    fc.assert(fc.property(geometry, agreesWithReference(viaWebasm)), { numRuns: 40 });
  });

  it("GPU.js on cpu: forward and every gradient", () => {
    fc.assert(fc.property(geometry, agreesWithReference(viaCpu)), { numRuns: 40 });
  });
});

describe("conv2d reference identities", () => {
  // ⟨conv(x, w), r⟩ = ⟨x, ∂x(r)⟩ = ⟨w, ∂w(r)⟩: the backward pass is the adjoint of a bilinear map.
  it("the backward pass is the adjoint of the forward pass (float64, relative 1e-12)", () => {
    fc.assert(
      fc.property(geometry, (s) => {
        const x = normal32(s.seed, [s.n, s.cin, s.h, s.w]);
        const w = normal32(s.seed + 1, [s.cout, s.cin, s.k, s.k]);
        const g = orThrow(conv2dShape(x, w, undefined, { stride: s.stride, padding: s.padding }));
        const r = normal32(s.seed + 2, [g.n, g.cout, g.hout, g.wout]);
        const y = conv2dReference(g, x, w);
        const grads = conv2dBackwardReference(g, x, w, r);
        const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
          let acc = 0;
          for (let i = 0; i < a.length; i++) acc += a[i] * b[i];
          return acc;
        };
        const lhs = dot(y.data, r.data);
        const tol = 1e-12 * (1 + dot(conv2dReference(g, abs(x), abs(w)).data, r.data.map(Math.abs)));
        expect(Math.abs(lhs - dot(x.data, grads.dx.data))).toBeLessThanOrEqual(tol);
        expect(Math.abs(lhs - dot(w.data, grads.dw.data))).toBeLessThanOrEqual(tol);
      }),
      { numRuns: 100 },
    );
  });
});
