import * as E from "fp-ts/lib/Either.js";
import { GPU } from "gpu.js";
import { afterAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, rngKey } from "../../src/core/rng.js";
import type { Tensor, Tensor64 } from "../../src/core/tensor.js";
import { createBackend, disposeBackend } from "../../src/nets/backend.js";
import { groupNormShape } from "../../src/nets/group-norm-shape.js";
import { residualAdd, residualAddBackward } from "../../src/nets/kernels/add.js";
import { concatChannels, concatChannelsBackward } from "../../src/nets/kernels/concat.js";
import { groupNorm, groupNormBackward } from "../../src/nets/kernels/group-norm.js";
import { linear, linearBackward, linearKernels } from "../../src/nets/kernels/linear.js";
import { gpujsLinear } from "../../src/nets/kernels/linear-gpujs.js";
import { wasmLinear } from "../../src/nets/kernels/linear-wasm.js";
import { silu, siluBackward } from "../../src/nets/kernels/silu.js";
import { upsampleNearest2x, upsampleNearest2xBackward } from "../../src/nets/kernels/upsample.js";
import { linearFlops, linearShape } from "../../src/nets/linear-shape.js";
import { residualAddReference } from "../../src/nets/reference/add.js";
import { concatChannelsBackwardReference, concatChannelsReference } from "../../src/nets/reference/concat.js";
import { groupNormBackwardReference, groupNormReference } from "../../src/nets/reference/group-norm.js";
import { linearBackwardReference, linearReference } from "../../src/nets/reference/linear.js";
import { siluBackwardReference, siluReference } from "../../src/nets/reference/silu.js";
import {
  upsampleNearest2xBackwardReference,
  upsampleNearest2xReference,
} from "../../src/nets/reference/upsample.js";

const normal32 = (seed: number, shape: readonly number[]): Tensor => ({
  shape: [...shape],
  data: fillNormal(orThrow(rngKey(seed)), new Float32Array(shape.reduce((a, b) => a * b, 1))),
});
const to64 = (t: Tensor): Tensor64 => ({ shape: t.shape, data: Float64Array.from(t.data) });
const t32 = (shape: number[], values: number[]): Tensor => ({ shape, data: Float32Array.from(values) });
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
/** ‖a − ref‖₂ / ‖ref‖₂ (the absolute error when ref = 0). */
const relErr = (a: ArrayLike<number>, ref: ArrayLike<number>): number => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (a[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
};
const msg = (r: E.Either<{ readonly message: string }, unknown>): string =>
  E.isLeft(r) ? r.left.message : "";

/**
 * Central finite differences of a scalar loss L(θ) in float64, every component of θ:
 * (L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h = ∂L/∂θᵢ + O(h²·L‴).
 */
const finiteDifferences = (theta: Tensor64, loss: (t: Tensor64) => number, h: number): Float64Array =>
  Float64Array.from(theta.data, (_, i) => {
    const bump = (d: number): Tensor64 => {
      const data = Float64Array.from(theta.data);
      data[i] += d;
      return { shape: theta.shape, data };
    };
    return (loss(bump(h)) - loss(bump(-h))) / (2 * h);
  });

const simd = wasmLinear("test")!;
const gpus = [new GPU({ mode: "webasm" }), new GPU({ mode: "cpu" })];
const viaWebasm = gpujsLinear(gpus[0], "gpujs-webasm", "test");
const viaCpu = gpujsLinear(gpus[1], "gpujs-cpu", "test");
afterAll(async () => {
  for (const k of [simd, viaWebasm, viaCpu]) k.dispose();
  await Promise.all(gpus.map((g) => g.destroy()));
});

describe("boundary validation names the op, the field and the rule", () => {
  const x = normal32(1, [2, 4, 3, 3]);
  const gamma = normal32(2, [4]);
  const beta = normal32(3, [4]);

  it("linear", () => {
    const w = normal32(4, [5, 3]);
    expect(msg(linearShape(normal32(5, [2, 4]), w, undefined))).toBe(
      "linear: weight.shape[1] must equal the input features (last axis of x), got x.shape=[2, 4], weight.shape[1]=3",
    );
    expect(msg(linearShape(normal32(5, [2, 3]), normal32(6, [5, 3, 1]), undefined))).toMatch(
      /weight\.shape must be 2 integers ≥ 1 \(\[out, in\]\)/,
    );
    expect(msg(linearShape(normal32(5, [2, 3]), w, normal32(7, [4])))).toMatch(/bias\.shape must be \[5\]/);
    const nan = t32([1, 3], [0, Number.NaN, 1]);
    expect(msg(linearShape(nan, w, undefined))).toBe("linear: x.data[1] must be finite, got x.data[1]=NaN");
    expect(msg(linearShape({ shape: [2, 0], data: new Float32Array(0) }, w, undefined))).toMatch(
      /x\.shape must be at least 1 integers ≥ 1/,
    );
    expect(msg(linearBackward(simd, normal32(5, [2, 3]), w, normal32(8, [2, 4])))).toMatch(
      /dy\.shape must be \[2, 5\]/,
    );
  });

  it("group norm", () => {
    expect(msg(groupNorm(x, gamma, beta, { groups: 3, eps: 1e-5 }))).toBe(
      "group norm: groups must divide the channels x.shape[1], got x.shape[1]=4, groups=3",
    );
    expect(msg(groupNorm(x, gamma, beta, { groups: 0, eps: 1e-5 }))).toMatch(/groups must be an integer ≥ 1/);
    expect(msg(groupNorm(x, gamma, beta, { groups: 2, eps: 0 }))).toMatch(/eps must be a finite number > 0/);
    expect(msg(groupNorm(x, gamma, beta, { groups: 2, eps: Number.NaN }))).toMatch(/eps must be/);
    expect(msg(groupNorm(x, normal32(9, [2]), beta, { groups: 2, eps: 1e-5 }))).toMatch(
      /gamma\.shape must be \[4\] \(= \[C\]\)/,
    );
    expect(msg(groupNorm(x, gamma, normal32(9, [4, 1]), { groups: 2, eps: 1e-5 }))).toMatch(/beta\.shape/);
    expect(msg(groupNorm(normal32(9, [4]), gamma, beta, { groups: 2, eps: 1e-5 }))).toMatch(
      /x\.shape must be at least 2 integers/,
    );
    expect(msg(groupNormBackward(x, gamma, normal32(9, [2, 4, 3, 2]), { groups: 2, eps: 1e-5 }))).toMatch(
      /dy\.shape must be \[2, 4, 3, 3\] \(= the shape of x\)/,
    );
  });

  it("silu, residual add, upsample, concat", () => {
    const inf = t32([2], [1, Number.POSITIVE_INFINITY]);
    expect(msg(silu(inf))).toBe("silu: x.data[1] must be finite, got x.data[1]=Infinity");
    expect(msg(siluBackward(x, normal32(9, [2, 4, 9])))).toMatch(/silu: dy\.shape must be \[2, 4, 3, 3\]/);
    expect(msg(residualAdd(x, normal32(9, [2, 4, 3, 4])))).toMatch(
      /residual add: b\.shape must be \[2, 4, 3, 3\] \(= the shape of a\)/,
    );
    expect(msg(upsampleNearest2x(normal32(9, [4, 3, 3])))).toMatch(
      /x\.shape must be 4 integers ≥ 1 \(NCHW\)/,
    );
    expect(msg(upsampleNearest2xBackward(normal32(9, [1, 1, 4, 3])))).toMatch(
      /dy\.shape must have even height and width/,
    );
    expect(msg(concatChannels([]))).toMatch(/xs\.length must be ≥ 1/);
    expect(msg(concatChannels([x, normal32(9, [2, 2, 3, 4])]))).toBe(
      "concat channels: xs[1].shape must equal the shape of xs[0] on every axis except axis 1, got xs[0].shape=[2, 4, 3, 3], xs[1].shape=[2, 2, 3, 4]",
    );
    expect(msg(concatChannelsBackward(x, [1, 2]))).toMatch(
      /channels must sum to the channels of dy.*sum\(channels\)=3, dy\.shape\[1\]=4/,
    );
    expect(msg(concatChannelsBackward(x, [4, 0]))).toMatch(/channels\[1\] must be an integer ≥ 1/);
  });
});

describe("closed forms", () => {
  it("linear: the identity weight returns x, any leading axes, and the FLOP count is 2·R·in·out", () => {
    const x = normal32(11, [2, 3, 4]);
    const eye = t32([4, 4], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    for (const k of [simd, viaCpu]) {
      const y = orThrow(linear(k, x, eye, undefined));
      expect(y.shape).toEqual([2, 3, 4]);
      expect(Array.from(y.data)).toEqual(Array.from(x.data));
    }
    const g = orThrow(linearShape(x, normal32(12, [7, 4]), undefined));
    expect(g).toEqual({ batchShape: [2, 3], rows: 6, inFeatures: 4, outFeatures: 7 });
    expect(linearFlops(g)).toBe(2 * 6 * 4 * 7);
    // a 1-D input is one row: [in] → [out]
    const v = t32([2], [1, 2]);
    const y = orThrow(linear(simd, v, t32([3, 2], [1, 0, 0, 1, 1, 1]), t32([3], [10, 20, 30])));
    expect(y).toEqual({ shape: [3], data: Float32Array.from([11, 22, 33]) });
  });

  it("group norm: biased variance, ε inside the square root, per-channel affine", () => {
    // one group of [1, 2, 3, 4]: μ = 2.5, biased σ² = 1.25; ε = 0.75 makes σ² + ε = 2 (unbiased would give 2.4167)
    const x = t32([1, 2, 2], [1, 2, 3, 4]);
    const y = orThrow(groupNorm(x, t32([2], [1, 3]), t32([2], [0, 1]), { groups: 1, eps: 0.75 }));
    const s = Math.SQRT2;
    const want = [-1.5 / s, -0.5 / s, 1 + (3 * 0.5) / s, 1 + (3 * 1.5) / s];
    for (let i = 0; i < 4; i++) expect(y.data[i]).toBeCloseTo(want[i], 6);
    // G = C normalizes every channel alone: each (n, c) plane has mean β_c and variance γ_c²·σ²/(σ² + ε)
    const z = normal32(13, [3, 4, 5, 5]);
    const ones = t32([4], [1, 1, 1, 1]);
    const zeros = t32([4], [0, 0, 0, 0]);
    const yz = orThrow(groupNorm(z, ones, zeros, { groups: 4, eps: 1e-12 }));
    for (let p = 0; p < 12; p++) {
      const plane = yz.data.subarray(p * 25, (p + 1) * 25);
      const mean = plane.reduce((a, b) => a + b, 0) / 25;
      const variance = plane.reduce((a, b) => a + (b - mean) ** 2, 0) / 25;
      expect(Math.abs(mean)).toBeLessThan(1e-6);
      expect(Math.abs(variance - 1)).toBeLessThan(1e-5);
    }
    // a constant group normalizes to β (σ² = 0, so ∂x = 0 too)
    const c = t32([1, 2, 1, 2], [3, 3, 3, 3]);
    expect(
      Array.from(orThrow(groupNorm(c, t32([2], [2, 2]), t32([2], [5, -5]), { groups: 1, eps: 1e-5 })).data),
    ).toEqual([5, 5, -5, -5]);
  });

  it("silu: x·σ(x) at known points, saturating without NaN", () => {
    const y = orThrow(silu(t32([5], [0, 1, -1, 1000, -1000])));
    expect(y.data[0]).toBe(0);
    expect(y.data[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 7);
    expect(y.data[2]).toBeCloseTo(-1 / (1 + Math.E), 7);
    expect(y.data[3]).toBe(1000);
    expect(y.data[4] === 0).toBe(true);
    // σ′(0) = ¼, so d silu/dx (0) = σ(0) = ½; far left the slope is 0, far right 1
    const dx = orThrow(siluBackward(t32([3], [0, -1000, 1000]), t32([3], [1, 1, 1])));
    expect(Array.from(dx.data, (v) => v + 0)).toEqual([0.5, 0, 1]);
  });

  it("upsample, concat and add on small tensors", () => {
    const x = t32([1, 1, 2, 2], [1, 2, 3, 4]);
    expect(Array.from(orThrow(upsampleNearest2x(x)).data)).toEqual([
      1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4,
    ]);
    const dy = t32([1, 1, 2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(orThrow(upsampleNearest2xBackward(dy))).toEqual({
      shape: [1, 1, 1, 2],
      data: Float32Array.from([14, 22]),
    });
    const a = t32([2, 1, 2], [1, 2, 3, 4]);
    const b = t32([2, 2, 2], [5, 6, 7, 8, 9, 10, 11, 12]);
    const cat = orThrow(concatChannels([a, b]));
    expect(cat.shape).toEqual([2, 3, 2]);
    expect(Array.from(cat.data)).toEqual([1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12]);
    expect(orThrow(concatChannelsBackward(cat, [1, 2]))).toEqual([a, b]);
    expect(Array.from(orThrow(residualAdd(a, t32([2, 1, 2], [10, 20, 30, 40]))).data)).toEqual([
      11, 22, 33, 44,
    ]);
    const split = orThrow(residualAddBackward(a));
    expect([split.da, split.db]).toEqual([a, a]);
  });
});

describe("reference backward passes equal central finite differences in float64", () => {
  // Each loss is L = ⟨r, op(θ)⟩ for a fixed random r; the check covers every component of every gradient.
  // Linear ops (linear in each argument, upsample, concat, add): the central difference is exact up to
  // rounding, ~1e-12 relative at h = 1e-3. Group norm and SiLU: truncation O(h²·L‴) ~1e-10 at h = 1e-5.
  const tol = 1e-6;

  it("linear: ∂x, ∂W, ∂b", () => {
    const x = to64(normal32(21, [2, 3, 5]));
    const w = to64(normal32(22, [4, 5]));
    const b = to64(normal32(23, [4]));
    const g = orThrow(linearShape(x, w, b));
    const r = to64(normal32(24, [2, 3, 4]));
    const grads = linearBackwardReference(g, x, w, r);
    const h = 1e-3;
    expect(
      relErr(
        finiteDifferences(x, (t) => dot(linearReference(g, t, w, b).data, r.data), h),
        grads.dx.data,
      ),
    ).toBeLessThan(tol);
    expect(
      relErr(
        finiteDifferences(w, (t) => dot(linearReference(g, x, t, b).data, r.data), h),
        grads.dw.data,
      ),
    ).toBeLessThan(tol);
    expect(
      relErr(
        finiteDifferences(b, (t) => dot(linearReference(g, x, w, t).data, r.data), h),
        grads.db.data,
      ),
    ).toBeLessThan(tol);
  });

  it.each([
    [[2, 6, 3, 2], 3, 1e-5],
    [[3, 4, 5], 1, 0.5],
    [[2, 4], 4, 1e-3],
    [[1, 2, 1, 1], 1, 1e-2],
  ])("group norm %j, G = %i, ε = %f: ∂x, ∂γ, ∂β", (shape, groups, eps) => {
    const x = to64(normal32(31, shape));
    const c = shape[1];
    const gamma = to64(normal32(32, [c]));
    const beta = to64(normal32(33, [c]));
    const g = orThrow(groupNormShape(x, gamma, beta, { groups, eps }));
    const r = to64(normal32(34, shape));
    const grads = groupNormBackwardReference(g, x, gamma, r);
    const h = 1e-5;
    const loss = (xx: Tensor64, gg: Tensor64, bb: Tensor64): number =>
      dot(groupNormReference(g, xx, gg, bb).data, r.data);
    expect(
      relErr(
        finiteDifferences(x, (t) => loss(t, gamma, beta), h),
        grads.dx.data,
      ),
    ).toBeLessThan(tol);
    expect(
      relErr(
        finiteDifferences(gamma, (t) => loss(x, t, beta), h),
        grads.dgamma.data,
      ),
    ).toBeLessThan(tol);
    expect(
      relErr(
        finiteDifferences(beta, (t) => loss(x, gamma, t), h),
        grads.dbeta.data,
      ),
    ).toBeLessThan(tol);
  });

  it("silu, upsample, concat, add", () => {
    const x = to64(normal32(41, [2, 3, 2, 4]));
    x.data[0] = 30;
    x.data[1] = -30;
    const r = to64(normal32(42, [2, 3, 2, 4]));
    expect(
      relErr(
        finiteDifferences(x, (t) => dot(siluReference(t).data, r.data), 1e-5),
        siluBackwardReference(x, r).data,
      ),
    ).toBeLessThan(tol);
    const ru = to64(normal32(43, [2, 3, 4, 8]));
    expect(
      relErr(
        finiteDifferences(x, (t) => dot(upsampleNearest2xReference(t).data, ru.data), 1e-3),
        upsampleNearest2xBackwardReference(ru).data,
      ),
    ).toBeLessThan(tol);
    const a = to64(normal32(44, [2, 1, 2, 4]));
    const rc = to64(normal32(45, [2, 4, 2, 4]));
    const [da, dx] = concatChannelsBackwardReference(rc, [1, 3]);
    expect(
      relErr(
        finiteDifferences(a, (t) => dot(concatChannelsReference([t, x]).data, rc.data), 1e-3),
        da.data,
      ),
    ).toBeLessThan(tol);
    expect(
      relErr(
        finiteDifferences(x, (t) => dot(concatChannelsReference([a, t]).data, rc.data), 1e-3),
        dx.data,
      ),
    ).toBeLessThan(tol);
    // ∂(a + b)/∂a = I: the identity split returns r for both summands
    const split = orThrow(residualAddBackward(normal32(42, [2, 3, 2, 4])));
    expect(
      relErr(
        finiteDifferences(x, (t) => dot(residualAddReference(t, x).data, r.data), 1e-3),
        split.da.data,
      ),
    ).toBeLessThan(tol);
  });
});

describe("kernels agree with the float64 reference", () => {
  it.each([
    [[1, 1], 1],
    [[3, 7], 5],
    [[2, 5, 33], 17],
    [[16, 64], 128],
  ])("linear x %j → %i features: wasm-simd, GPU.js webasm and cpu", (xShape, out) => {
    const x = normal32(51, xShape);
    const inF = xShape[xShape.length - 1];
    const w = normal32(52, [out, inF]);
    const b = normal32(53, [out]);
    const g = orThrow(linearShape(x, w, b));
    const dy = normal32(54, [...g.batchShape, out]);
    const ref = linearReference(g, x, w, b);
    const refGrad = linearBackwardReference(g, x, w, dy);
    const results = [simd, viaWebasm, viaCpu].map((k) => ({
      y: orThrow(linear(k, x, w, b)),
      grads: orThrow(linearBackward(k, x, w, dy)),
    }));
    for (const { y, grads } of results) {
      expect(y.shape).toEqual(ref.shape);
      expect(grads.dx.shape).toEqual(x.shape);
      expect(relErr(y.data, ref.data)).toBeLessThan(1e-6);
      expect(relErr(grads.dx.data, refGrad.dx.data)).toBeLessThan(1e-6);
      expect(relErr(grads.dw.data, refGrad.dw.data)).toBeLessThan(1e-6);
      expect(relErr(grads.db.data, refGrad.db.data)).toBeLessThan(1e-6);
    }
    expect(relErr(results[1].y.data, results[2].y.data)).toBeLessThan(1e-6);
  });

  it("group norm with U-Net sizes (32 groups of 2 channels, 8×8) and a shifted, scaled input", () => {
    const x0 = normal32(61, [2, 64, 8, 8]);
    const x = { shape: x0.shape, data: x0.data.map((v) => 5 + 3 * v) };
    const gamma = normal32(62, [64]);
    const beta = normal32(63, [64]);
    const dy = normal32(64, x.shape);
    const options = { groups: 32, eps: 1e-6 };
    const g = orThrow(groupNormShape(x, gamma, beta, options));
    const ref = groupNormReference(g, x, gamma, beta);
    const refGrad = groupNormBackwardReference(g, x, gamma, dy);
    const grads = orThrow(groupNormBackward(x, gamma, dy, options));
    expect(relErr(orThrow(groupNorm(x, gamma, beta, options)).data, ref.data)).toBeLessThan(1e-6);
    expect(relErr(grads.dx.data, refGrad.dx.data)).toBeLessThan(1e-5);
    expect(relErr(grads.dgamma.data, refGrad.dgamma.data)).toBeLessThan(1e-5);
    expect(relErr(grads.dbeta.data, refGrad.dbeta.data)).toBeLessThan(1e-6);
  });

  it("linearKernels picks wasm-simd on webasm and GPU.js on cpu", async () => {
    const wasmBackend = orThrow(await createBackend("webasm"));
    const cpuBackend = orThrow(await createBackend("cpu"));
    const a = orThrow(linearKernels(wasmBackend));
    const c = orThrow(linearKernels(cpuBackend));
    expect([a.implementation, c.implementation]).toEqual(["wasm-simd", "gpujs-cpu"]);
    a.dispose();
    c.dispose();
    await disposeBackend(wasmBackend);
    await disposeBackend(cpuBackend);
  });
});
