import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import {
  batchNormals,
  fillRademacher,
  foldIn,
  normals,
  philox4x32,
  rngKey,
  uniforms,
} from "../../src/core/rng.js";

/** Philox4x32-10 by the book, in BigInt arithmetic: the independent reference for the float64 implementation. */
const philoxReference = (k: [number, number], c: [number, number, number, number]): number[] => {
  const mask = (1n << 32n) - 1n;
  let [x0, x1, x2, x3] = c.map(BigInt);
  let [k0, k1] = k.map(BigInt);
  for (let r = 0; r < 10; r++) {
    const p0 = 0xd2511f53n * x0;
    const p1 = 0xcd9e8d57n * x2;
    [x0, x1, x2, x3] = [((p1 >> 32n) ^ x1 ^ k0) & mask, p1 & mask, ((p0 >> 32n) ^ x3 ^ k1) & mask, p0 & mask];
    k0 = (k0 + 0x9e3779b9n) & mask;
    k1 = (k1 + 0xbb67ae85n) & mask;
  }
  return [x0, x1, x2, x3].map(Number);
};

describe("Philox4x32-10", () => {
  it("reproduces the Random123 known-answer vectors (Salmon et al. 2011)", () => {
    expect([...philox4x32({ k0: 0, k1: 0 }, 0, 0, 0, 0)]).toEqual([
      0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8,
    ]);
    const ones = 0xffffffff;
    expect([...philox4x32({ k0: ones, k1: ones }, ones, ones, ones, ones)]).toEqual([
      0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd,
    ]);
    expect([
      ...philox4x32({ k0: 0xa4093822, k1: 0x299f31d0 }, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344),
    ]).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
  });

  it("agrees with a BigInt reference on pseudo-random keys and counters", () => {
    let s = 12345;
    const next = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s;
    };
    for (let i = 0; i < 200; i++) {
      const k: [number, number] = [next(), next()];
      const c: [number, number, number, number] = [next(), next(), next(), next()];
      expect([...philox4x32({ k0: k[0], k1: k[1] }, ...c)]).toEqual(philoxReference(k, c));
    }
  });
});

describe("keyed draws", () => {
  const key = orThrow(rngKey(2024));

  it("rejects seeds that are not safe non-negative integers", () => {
    for (const bad of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      const r = rngKey(bad);
      expect(r._tag).toBe("Left");
    }
    const r = rngKey(-3);
    expect(r._tag === "Left" && r.left.message).toBe("rngKey: seed must be an integer ≥ 0, got seed=-3");
  });

  it("is a pure function of (key, index): prefixes agree and repeats are bit-identical", () => {
    const a = normals(key, 1001);
    const b = normals(key, 10);
    expect(Array.from(a.subarray(0, 10))).toEqual(Array.from(b));
    expect(Array.from(normals(key, 1001))).toEqual(Array.from(a));
  });

  it("gives independent streams for distinct folded keys", () => {
    const n = 20_000;
    const x = normals(foldIn(key, 0), n);
    const y = normals(foldIn(key, 1), n);
    let dot = 0;
    for (let i = 0; i < n; i++) dot += x[i] * y[i];
    // corr ~ N(0, 1/n): 4 standard errors.
    expect(Math.abs(dot / n)).toBeLessThan(4 / Math.sqrt(n));
  });

  it("draws uniforms in the open interval (0, 1) with mean ½ and variance 1/12", () => {
    const n = 50_000;
    const u = uniforms(key, n);
    let m = 0;
    let v = 0;
    for (const x of u) {
      expect(x > 0 && x < 1).toBe(true);
      m += x;
    }
    m /= n;
    for (const x of u) v += (x - m) ** 2;
    v /= n - 1;
    expect(Math.abs(m - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    // Var of the sample variance of U(0,1): (1/80 − 1/144)/n.
    expect(Math.abs(v - 1 / 12)).toBeLessThan(4 * Math.sqrt((1 / 80 - 1 / 144) / n));
  });

  it("draws standard normals: mean 0, variance 1, kurtosis 3 within 4 standard errors", () => {
    const n = 100_000;
    const z = normals(key, n);
    let m1 = 0;
    let m2 = 0;
    let m4 = 0;
    for (const x of z) {
      m1 += x;
      m2 += x * x;
      m4 += x ** 4;
    }
    m1 /= n;
    m2 /= n;
    m4 /= n;
    expect(Math.abs(m1)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(m2 - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(m4 - 3)).toBeLessThan(4 * Math.sqrt(96 / n));
    // Tail mass P(|z| > 3) = 0.0026998.
    const tail = z.filter((x) => Math.abs(x) > 3).length / n;
    expect(Math.abs(tail - 0.0026998)).toBeLessThan(4 * Math.sqrt(0.0027 / n));
  });

  it("draws Rademacher signs with mean 0", () => {
    const n = 40_000;
    const r = fillRademacher(key, new Float64Array(n));
    let s = 0;
    for (const x of r) {
      expect(x === 1 || x === -1).toBe(true);
      s += x;
    }
    expect(Math.abs(s / n)).toBeLessThan(4 / Math.sqrt(n));
  });

  it("makes per-row batch noise independent of the batch size", () => {
    const small = batchNormals(key, 3, 5);
    const large = batchNormals(key, 50, 5);
    expect(Array.from(large.subarray(0, 15))).toEqual(Array.from(small));
  });
});
