import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import {
  SILU_CHUNK,
  type SiluKernels,
  silu,
  siluBackward,
  siluKernels,
  typescriptSilu,
  wasmSilu,
} from "../../src/nets/kernels/silu.js";
import { siluBackwardReference, siluReference } from "../../src/nets/reference/silu.js";
import { closeInFloat32 } from "../support/float32-tolerance.js";

const t32 = (values: ArrayLike<number>) => ({ shape: [values.length], data: Float32Array.from(values) });
const abs = (a: Float32Array): Float32Array => a.map(Math.abs);

/**
 * Float32 agreement with the float64 reference: |a − ref| ≤ tol·(|ref| + scale) + 2⁻¹⁴⁹ (the last term is half
 * the float32 subnormal spacing, doubled: results below the least normal float32 round on that grid). The
 * kernels' measured worst case is ~5.3·2⁻²⁴ forward (the left tail x·eˣ, where the Cephes exponential's error
 * enters) and ~2.4·2⁻²⁴ backward; {@link TOL} allows 8·2⁻²⁴.
 */
const close = closeInFloat32;
const TOL = 8 * 2 ** -24;

/** Both directions of `k` against the reference, ∂x relative to the scale |∂y|·|σ(|x|)·(1 + |x|(1 − σ(|x|)))|. */
const agrees = (k: SiluKernels, x: Float32Array, dy: Float32Array): boolean => {
  const scale = siluBackwardReference(t32(abs(x)), t32(abs(dy))).data;
  return (
    close(k.forward(x), siluReference(t32(x)).data, new Float64Array(x.length), TOL) &&
    close(k.backward(x, dy), siluBackwardReference(t32(x), t32(dy)).data, scale, TOL)
  );
};

const simd = wasmSilu();
const implementations: ReadonlyArray<readonly [string, SiluKernels]> = [
  ["wasm-simd", simd!],
  ["typescript", typescriptSilu],
];

/** Finite float32 extremes: the exp underflow/overflow edges of both tails, the largest and subnormal values. */
const EXTREMES = [
  0, -0, 1e-45, -1e-45, 1e-38, -1e-38, 1e-7, -1e-7, 0.5, -0.5, 15, -15, 80, -80, 87.3, -87.3, 87.4, -87.4,
  88.8, -88.8, 100, -100, 103, -103, 108, -108, 110, -110, 174, -174, 175, -175, 1e4, -1e4, 1e30, -1e30,
  3.4028234663852886e38, -3.4028234663852886e38,
];

describe("SiLU kernels", () => {
  it("run on WebAssembly SIMD under Node, and the entry points use them", () => {
    expect(simd?.implementation).toBe("wasm-simd");
    expect(siluKernels().implementation).toBe("wasm-simd");
    const x = t32([-3, -0.25, 0, 2, 7.5]);
    expect(orThrow(silu(x)).data).toEqual(simd!.forward(x.data));
    expect(orThrow(siluBackward(x, x)).data).toEqual(simd!.backward(x.data, x.data));
  });

  for (const [name, k] of implementations) {
    it(`${name}: finite extremes give the reference, never NaN or ±∞`, () => {
      const x = Float32Array.from(EXTREMES);
      const dy = Float32Array.from(EXTREMES, (_, i) => (i % 3) - 1.25);
      const y = k.forward(x);
      const dx = k.backward(x, dy);
      expect([...y, ...dx].every(Number.isFinite)).toBe(true);
      expect(agrees(k, x, dy)).toBe(true);
    });

    it(`${name}: saturated tails — y = x and ∂x = ∂y exactly on the right, y → 0 and ∂x → 0 on the left`, () => {
      const big = [100, 1e4, 3.4028234663852886e38];
      const x = Float32Array.from([...big, ...big.map((v) => -v)]);
      const dy = Float32Array.from(x, () => 0.75);
      const y = Array.from(k.forward(x), (v) => v + 0);
      const dx = Array.from(k.backward(x, dy), (v) => v + 0);
      // σ(−100) ≈ e⁻¹⁰⁰: y(−100) ≈ −3.7e-42 is a float32 subnormal, the float32 rounding of the reference
      expect(y.slice(0, 3)).toEqual(big.map(Math.fround));
      expect(y[3]).toBe(Math.fround(siluReference(t32([-100])).data[0]));
      expect(y.slice(4)).toEqual([0, 0]);
      expect(dx.slice(0, 3)).toEqual([0.75, 0.75, 0.75]);
      expect(Math.abs(dx[3])).toBeLessThan(1e-40);
      expect(dx.slice(4)).toEqual([0, 0]);
    });

    it(`${name}: known points — silu(0) = 0, silu′(0) = ½, silu(±1) = ±σ(±1)`, () => {
      const y = k.forward(Float32Array.from([0, 1, -1]));
      expect(Object.is(y[0], 0)).toBe(true);
      expect(y[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 7);
      expect(y[2]).toBeCloseTo(-1 / (1 + Math.E), 7);
      expect(k.backward(Float32Array.from([0]), Float32Array.from([1]))[0]).toBe(0.5);
    });
  }

  it("wasm-simd: a tensor of several chunks and a ragged tail matches the reference and its own slices", () => {
    const n = 3 * SILU_CHUNK + 5;
    const x = Float32Array.from({ length: n }, (_, i) => 240 * Math.sin(i * 0.7311) ** 3);
    const dy = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 1.37));
    expect(agrees(simd!, x, dy)).toBe(true);
    // lanes are independent: where an element falls in a chunk or a vector does not change its result
    const y = simd!.forward(x);
    const dx = simd!.backward(x, dy);
    for (const from of [0, 1, SILU_CHUNK - 3, 2 * SILU_CHUNK + 1, n - 7]) {
      expect(simd!.forward(x.subarray(from, from + 7))).toEqual(y.subarray(from, from + 7));
      expect(simd!.backward(x.subarray(from, from + 7), dy.subarray(from, from + 7))).toEqual(
        dx.subarray(from, from + 7),
      );
    }
  });

  it("wasm-simd: lengths 1–9 (partial vectors) and large tensors never grow its WebAssembly memory", () => {
    const k = wasmSilu()!;
    const grow = vi.spyOn(WebAssembly.Memory.prototype, "grow");
    try {
      for (let n = 1; n <= 9; n++) {
        const x = Float32Array.from({ length: n }, (_, i) => 9 * (i - 4) + 0.5);
        expect(agrees(k, x, x)).toBe(true);
      }
      const x = Float32Array.from({ length: 10 * SILU_CHUNK + 3 }, (_, i) => (i % 101) - 50);
      expect(agrees(k, x, x)).toBe(true);
      expect(grow).not.toHaveBeenCalled();
    } finally {
      grow.mockRestore();
    }
  });

  it("property: any finite float32 x and ∂y agree with the float64 reference, on both implementations", () => {
    const value = fc.oneof(
      fc.float({ noNaN: true, noDefaultInfinity: true }),
      fc.float({ min: -120, max: 120, noNaN: true }),
    );
    const gradient = fc.float({ min: -(2 ** 100), max: 2 ** 100, noNaN: true });
    fc.assert(
      fc.property(fc.array(fc.tuple(value, gradient), { minLength: 1, maxLength: 40 }), (pairs) => {
        const x = Float32Array.from(pairs, ([v]) => v);
        const dy = Float32Array.from(pairs, ([, g]) => g);
        return agrees(simd!, x, dy) && agrees(typescriptSilu, x, dy);
      }),
      { numRuns: 500 },
    );
  });
});
