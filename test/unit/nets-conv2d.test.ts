import * as E from "fp-ts/lib/Either.js";
import { GPU } from "gpu.js";
import { afterAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, rngKey } from "../../src/core/rng.js";
import type { Tensor, Tensor64 } from "../../src/core/tensor.js";
import {
  type Conv2dOptions,
  conv2d,
  conv2dBackward,
  conv2dBackwardReference,
  conv2dFlops,
  conv2dReference,
  conv2dShape,
  gpujsConv2d,
  wasmConv2d,
} from "../../src/nets/index.js";

const normal32 = (seed: number, shape: number[]): Tensor => {
  const data = fillNormal(orThrow(rngKey(seed)), new Float32Array(shape.reduce((a, b) => a * b, 1)));
  return { shape, data };
};
const to64 = (t: Tensor): Tensor64 => ({ shape: t.shape, data: Float64Array.from(t.data) });
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

const simd = wasmConv2d("test")!;
const gpuWebasm = new GPU({ mode: "webasm" });
const gpuCpu = new GPU({ mode: "cpu" });
const viaWebasm = gpujsConv2d(gpuWebasm, "gpujs-webasm", "test");
const viaCpu = gpujsConv2d(gpuCpu, "gpujs-cpu", "test");
afterAll(async () => {
  for (const k of [simd, viaWebasm, viaCpu]) k.dispose();
  await gpuWebasm.destroy();
  await gpuCpu.destroy();
});

describe("conv2dShape", () => {
  const x = normal32(1, [2, 3, 8, 8]);
  const w = normal32(2, [4, 3, 3, 3]);
  const same: Conv2dOptions = { stride: 1, padding: 1 };

  it("derives PyTorch's output size and the FLOP count 2·N·Cout·Hout·Wout·Cin·kh·kw", () => {
    const g = orThrow(conv2dShape(x, w, undefined, { stride: 2, padding: 1 }));
    expect([g.hout, g.wout]).toEqual([4, 4]);
    expect(conv2dFlops(g)).toBe(2 * 2 * 4 * 4 * 4 * 3 * 3 * 3);
    const g1 = orThrow(conv2dShape(x, w, undefined, { stride: 1, padding: 0 }));
    expect([g1.hout, g1.wout]).toEqual([6, 6]);
  });

  it("rejects bad operands and options with a message naming field and rule", () => {
    const msg = (r: E.Either<{ readonly message: string }, unknown>): string =>
      E.isLeft(r) ? r.left.message : "";
    const nan = { shape: x.shape, data: Float32Array.from(x.data, (v, i) => (i === 5 ? Number.NaN : v)) };
    expect(msg(conv2dShape(nan, w, undefined, same))).toBe(
      "conv2d: x.data[5] must be finite, got x.data[5]=NaN",
    );
    const inf = { shape: w.shape, data: Float32Array.from(w.data, (v, i) => (i === 0 ? Infinity : v)) };
    expect(msg(conv2dShape(x, inf, undefined, same))).toMatch(/weight\.data\[0\] must be finite/);
    expect(msg(conv2dShape(x, normal32(3, [4, 2, 3, 3]), undefined, same))).toMatch(
      /weight\.shape\[1\] must equal the input channels.*x\.shape\[1\]=3, weight\.shape\[1\]=2/,
    );
    expect(msg(conv2dShape(x, w, normal32(4, [3]), same))).toMatch(/bias\.shape must be \[4\]/);
    expect(msg(conv2dShape(x, w, undefined, { stride: 0, padding: 1 }))).toMatch(
      /stride must be an integer ≥ 1/,
    );
    expect(msg(conv2dShape(x, w, undefined, { stride: 1, padding: -1 }))).toMatch(
      /padding must be an integer ≥ 0/,
    );
    expect(msg(conv2dShape(x, w, undefined, { stride: 1.5, padding: 1 }))).toMatch(/stride/);
    expect(msg(conv2dShape(normal32(5, [1, 3, 2, 2]), w, undefined, { stride: 1, padding: 0 }))).toMatch(
      /padded input at least as large as the kernel/,
    );
    expect(msg(conv2dShape(normal32(6, [3, 8, 8]), w, undefined, same))).toMatch(
      /x\.shape must be 4 integers/,
    );
    const short = { shape: x.shape, data: x.data.subarray(1) };
    expect(msg(conv2dShape(short, w, undefined, same))).toMatch(/x\.data length must equal/);
    expect(msg(conv2dBackward(simd, x, w, normal32(7, [2, 4, 8, 7]), same))).toMatch(
      /dy\.shape must be the output shape \[2, 4, 8, 8\]/,
    );
  });
});

describe("conv2d reference", () => {
  it("matches closed forms: a 3×3 box filter on ones counts the in-bounds taps", () => {
    const ones = { shape: [1, 1, 4, 4], data: new Float32Array(16).fill(1) };
    const box = { shape: [1, 1, 3, 3], data: new Float32Array(9).fill(1) };
    const g = orThrow(conv2dShape(ones, box, undefined, { stride: 1, padding: 1 }));
    expect(Array.from(conv2dReference(g, ones, box).data)).toEqual([
      4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4,
    ]);
    const g2 = orThrow(conv2dShape(ones, box, undefined, { stride: 2, padding: 1 }));
    expect(Array.from(conv2dReference(g2, ones, box).data)).toEqual([4, 6, 6, 9]);
  });

  it("a 1×1 conv is a per-pixel matrix product and the identity weight returns x", () => {
    const x = normal32(11, [2, 3, 5, 4]);
    const eye = { shape: [3, 3, 1, 1], data: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]) };
    const g = orThrow(conv2dShape(x, eye, undefined, { stride: 1, padding: 0 }));
    expect(Array.from(conv2dReference(g, x, eye).data)).toEqual(Array.from(x.data));
    for (const k of [simd, viaCpu])
      expect(Array.from(k.forward(g, x.data, eye.data, undefined))).toEqual(Array.from(x.data));
  });

  // L(x, w, b) = Σ r ⊙ conv(x, w, b) is linear in each argument, so the central difference
  // (L(θ + h) − L(θ − h)) / 2h equals ∂L/∂θ up to float64 rounding (~1e-12 relative at h = 1e-3).
  it.each([
    [1, 1],
    [2, 1],
    [2, 0],
  ])("backward equals central finite differences in float64 (stride %i, padding %i)", (stride, padding) => {
    const x = to64(normal32(21, [2, 3, 6, 5]));
    const w = to64(normal32(22, [4, 3, 3, 3]));
    const b = to64(normal32(23, [4]));
    const g = orThrow(conv2dShape(x, w, b, { stride, padding }));
    const r = to64(normal32(24, [g.n, g.cout, g.hout, g.wout]));
    const loss = (xx: Tensor64, ww: Tensor64, bb: Tensor64): number =>
      dot(conv2dReference(g, xx, ww, bb).data, r.data);
    const grads = conv2dBackwardReference(g, x, w, r);
    const h = 1e-3;
    const bump = (t: Tensor64, i: number, d: number): Tensor64 => {
      const data = Float64Array.from(t.data);
      data[i] += d;
      return { shape: t.shape, data };
    };
    for (const i of [0, 7, 31, 59, 179]) {
      const fd = (loss(bump(x, i, h), w, b) - loss(bump(x, i, -h), w, b)) / (2 * h);
      expect(Math.abs(fd - grads.dx.data[i])).toBeLessThan(1e-9 * (1 + Math.abs(fd)));
    }
    for (const i of [0, 13, 50, 107]) {
      const fd = (loss(x, bump(w, i, h), b) - loss(x, bump(w, i, -h), b)) / (2 * h);
      expect(Math.abs(fd - grads.dw.data[i])).toBeLessThan(1e-9 * (1 + Math.abs(fd)));
    }
    for (let i = 0; i < 4; i++) {
      const fd = (loss(x, w, bump(b, i, h)) - loss(x, w, bump(b, i, -h))) / (2 * h);
      expect(Math.abs(fd - grads.db.data[i])).toBeLessThan(1e-9 * (1 + Math.abs(fd)));
    }
  });
});

describe("conv2d kernels", () => {
  const relErr = (a: ArrayLike<number>, ref: ArrayLike<number>): number => {
    let num = 0;
    let den = 0;
    for (let i = 0; i < ref.length; i++) {
      num += (a[i] - ref[i]) ** 2;
      den += ref[i] ** 2;
    }
    return Math.sqrt(num / den);
  };

  it.each([
    [{ stride: 1, padding: 1 }, 3],
    [{ stride: 2, padding: 1 }, 3],
    [{ stride: 1, padding: 0 }, 1],
    [{ stride: 2, padding: 0 }, 1],
  ])("webasm and cpu GPU.js kernels and wasm-simd agree with the reference (%o, %i×%i)", (options, k) => {
    const x = normal32(31, [2, 5, 9, 7]);
    const w = normal32(32, [6, 5, k, k]);
    const b = normal32(33, [6]);
    const g = orThrow(conv2dShape(x, w, b, options));
    const dy = normal32(34, [g.n, g.cout, g.hout, g.wout]);
    const ref = conv2dReference(g, x, w, b);
    const refGrad = conv2dBackwardReference(g, x, w, dy);
    const results = [simd, viaWebasm, viaCpu].map((kern) => ({
      y: orThrow(conv2d(kern, x, w, b, options)),
      grads: orThrow(conv2dBackward(kern, x, w, dy, options)),
    }));
    for (const { y, grads } of results) {
      expect(y.shape).toEqual(ref.shape);
      expect(relErr(y.data, ref.data)).toBeLessThan(1e-6);
      expect(relErr(grads.dx.data, refGrad.dx.data)).toBeLessThan(1e-6);
      expect(relErr(grads.dw.data, refGrad.dw.data)).toBeLessThan(1e-6);
      expect(relErr(grads.db.data, refGrad.db.data)).toBeLessThan(1e-6);
    }
    // webasm vs cpu: the same GPU.js kernel on both backends, float32 either way
    expect(relErr(results[1].y.data, results[2].y.data)).toBeLessThan(1e-6);
    expect(relErr(results[1].grads.dw.data, results[2].grads.dw.data)).toBeLessThan(1e-6);
  });

  it("wasm-simd keeps working after dispose and across growing and shrinking shapes", () => {
    const kern = wasmConv2d("test")!;
    for (const [n, c, hw] of [
      [1, 2, 4],
      [3, 16, 20],
      [1, 3, 5],
    ]) {
      const x = normal32(40 + hw, [n, c, hw, hw]);
      const w = normal32(41, [5, c, 3, 3]);
      const g = orThrow(conv2dShape(x, w, undefined, { stride: 1, padding: 1 }));
      expect(relErr(kern.forward(g, x.data, w.data, undefined), conv2dReference(g, x, w).data)).toBeLessThan(
        1e-6,
      );
      kern.dispose();
    }
  });
});
