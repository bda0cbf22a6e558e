import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import {
  binWidth,
  bitsPerDim,
  dequantize,
  discreteBitsPerDim,
  quantization,
  quantize,
} from "../../src/ode/dequantize.js";

const key = orThrow(rngKey(77));
const eightBit = orThrow(quantization({ bits: 8 }));

describe("quantization", () => {
  it("defaults to [−1, 1] and has bin width (high − low)/2^bits", () => {
    expect(eightBit).toEqual({ bits: 8, low: -1, high: 1 });
    expect(binWidth(eightBit)).toBe(2 ** -7);
    expect(binWidth(orThrow(quantization({ bits: 5, low: 0, high: 1 })))).toBe(1 / 32);
    expect(binWidth(orThrow(quantization({ bits: 1, low: -3, high: 3 })))).toBe(3);
  });

  it.each([
    ["bits", { bits: 0 }],
    ["bits", { bits: 33 }],
    ["bits", { bits: 7.5 }],
    ["bits", { bits: Number.NaN }],
    ["low", { bits: 8, low: Number.NEGATIVE_INFINITY }],
    ["high", { bits: 8, high: Number.NaN }],
    ["high", { bits: 8, low: 1, high: 1 }],
    ["high", { bits: 8, low: 2, high: -2 }],
  ] as const)("names %s for %o", (field, params) => {
    const result = quantization(params);
    expect(E.isLeft(result) && result.left.field).toBe(field);
  });

  it("words the ordering error with both ends", () => {
    const result = quantization({ bits: 4, low: 2, high: -2 });
    expect(E.isLeft(result) && result.left.message).toBe(
      "quantization: high must be > low, got low=2, high=-2",
    );
  });
});

describe("dequantize", () => {
  const levels: Tensor64 = {
    shape: [3, 4],
    data: Float64Array.of(0, 255, 17, 128, 1, 2, 3, 4, 254, 0, 0, 99),
  };

  it("puts every level inside its own bin and round-trips through quantize", () => {
    const y = orThrow(dequantize(eightBit, levels, key));
    const delta = binWidth(eightBit);
    for (let i = 0; i < y.data.length; i++) {
      const lower = -1 + levels.data[i] * delta;
      expect(y.data[i]).toBeGreaterThanOrEqual(lower);
      expect(y.data[i]).toBeLessThan(lower + delta);
    }
    expect(orThrow(quantize(eightBit, y))).toEqual(levels);
  });

  it("draws row r from foldIn(key, r): a point's offsets do not depend on the batch", () => {
    const all = orThrow(dequantize(eightBit, levels, key));
    const first = orThrow(dequantize(eightBit, { shape: [1, 4], data: levels.data.subarray(0, 4) }, key));
    expect(first.data).toEqual(all.data.subarray(0, 4));
    expect(orThrow(dequantize(eightBit, levels, orThrow(rngKey(78)))).data).not.toEqual(all.data);
  });

  // u = (y − low)/Δ − q ~ U[0, 1): mean ½, variance 1/12; over 20 000 draws the standard error of the mean is
  // √(1/12/20000) ≈ 2.0·10⁻³ and that of the variance √((1/80 − 1/144)/20000) ≈ 5.3·10⁻⁴; allow 4 of each.
  it("adds uniform offsets: mean ½ and variance 1/12", () => {
    const q = orThrow(quantization({ bits: 3, low: 0, high: 8 }));
    const n = 200;
    const data = Float64Array.from({ length: n * 100 }, (_, i) => i % 8);
    const y = orThrow(dequantize(q, { shape: [n, 100], data }, key));
    const u = y.data.map((v, i) => v - data[i]);
    const mean = u.reduce((a, v) => a + v, 0) / u.length;
    const variance = u.reduce((a, v) => a + (v - mean) ** 2, 0) / (u.length - 1);
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * 2.0e-3);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(4 * 5.3e-4);
  });

  it.each([
    ["data[1]", Float64Array.of(0, 256, 1, 2)],
    ["data[2]", Float64Array.of(0, 1, -1, 2)],
    ["data[3]", Float64Array.of(0, 1, 2, 2.5)],
    ["data[0]", Float64Array.of(Number.NaN, 1, 2, 3)],
  ])("names %s when a level is not an integer in [0, 2^bits − 1]", (field, data) => {
    const result = dequantize(eightBit, { shape: [2, 2], data }, key);
    expect(E.isLeft(result) && result.left.field).toBe(field);
    expect(E.isLeft(result) && result.left.context).toBe("dequantize (8-bit)");
  });

  it("rejects a shape that does not match the data", () => {
    const result = dequantize(eightBit, { shape: [2, 3], data: new Float64Array(4) }, key);
    expect(E.isLeft(result) && result.left.field).toBe("data");
    const empty = dequantize(eightBit, { shape: [], data: new Float64Array(1) }, key);
    expect(E.isLeft(empty) && empty.left.field).toBe("shape");
  });
});

describe("quantize", () => {
  it("clips to the range and floors inside it", () => {
    const q = orThrow(quantization({ bits: 2, low: 0, high: 4 }));
    const y: Tensor64 = { shape: [1, 6], data: Float64Array.of(-5, 0, 0.999, 1, 3.5, 4) };
    expect(Array.from(orThrow(quantize(q, y)).data)).toEqual([0, 0, 0, 1, 3, 3]);
  });

  it("rejects non-finite values", () => {
    const result = quantize(eightBit, { shape: [1, 2], data: Float64Array.of(0, Number.NaN) });
    expect(E.isLeft(result) && result.left.message).toBe(
      "quantize (8-bit): data[1] must be finite, got data[1]=NaN",
    );
  });
});

describe("bits per dimension", () => {
  it("is −log p/(d·ln 2) for a continuous density", () => {
    // A standard normal in d = 3 at the origin: log p = −(3/2)·ln 2π.
    expect(bitsPerDim(-1.5 * Math.log(2 * Math.PI), 3)).toBeCloseTo(Math.log2(2 * Math.PI) / 2, 14);
  });

  it("gives exactly `bits` bits/dim for a model uniform over the data range", () => {
    for (const [bits, low, high] of [
      [8, -1, 1],
      [5, 0, 1],
      [12, -3, 7],
      [1, 0, 2],
    ]) {
      const q = orThrow(quantization({ bits, low, high }));
      for (const d of [1, 3, 3072]) {
        const logDensity = -d * Math.log(high - low);
        expect(discreteBitsPerDim(q, logDensity, d)).toBeCloseTo(bits, 12);
      }
    }
  });

  it("adds −log₂ Δ = bits − 1 to the continuous bits/dim on [−1, 1] (score_sde's offset of 7 for 8 bits)", () => {
    expect(discreteBitsPerDim(eightBit, -1234.5, 3072) - bitsPerDim(-1234.5, 3072)).toBeCloseTo(7, 12);
  });
});
