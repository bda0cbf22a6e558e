import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { foldIn, rngKey } from "../../src/core/rng.js";
import type { Tensor } from "../../src/core/tensor.js";
import {
  integratedBeta,
  linearSde,
  logSnr,
  marginal,
  noiseLevel,
  priorLogDensity,
  sampleMarginal,
  samplePrior,
  transition,
  veSde,
  vpSde,
} from "../../src/sde/index.js";

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
const vp = orThrow(vpSde());
const ve = orThrow(veSde());
const key = orThrow(rngKey(20240611));

/** Sample mean and unbiased sample variance. */
const moments = (xs: ArrayLike<number>): { mean: number; variance: number } => {
  let mean = 0;
  for (let i = 0; i < xs.length; i++) mean += xs[i];
  mean /= xs.length;
  let ss = 0;
  for (let i = 0; i < xs.length; i++) ss += (xs[i] - mean) ** 2;
  return { mean, variance: ss / (xs.length - 1) };
};

describe("noise level and log-SNR", () => {
  it("VP: σ̃ = √(e^B − 1), λ = −log(e^B − 1)", () => {
    const b = integratedBeta({ betaMin: 0.1, betaMax: 20 }, 0.3);
    expect(relErr(noiseLevel(vp, 0.3), Math.sqrt(Math.expm1(b)))).toBeLessThan(1e-14);
    expect(relErr(logSnr(vp, 0.3), -Math.log(Math.expm1(b)))).toBeLessThan(1e-14);
    expect(logSnr(vp, 0)).toBe(Number.POSITIVE_INFINITY);
  });
  it("marginal returns (s(t), σ(t))", () => {
    expect(marginal(vp, 0.4)).toEqual({ scale: vp.scale(0.4), std: vp.std(0.4) });
  });
});

describe("transition", () => {
  it("is the identity kernel from t to t", () => {
    expect(transition(vp, 0.4, 0.4)).toEqual({ scale: 1, std: 0 });
  });
  it("VP: scale = e^{−½(B_t − B_s)}, var = −expm1(−(B_t − B_s)), even for t − s = 10⁻¹⁰", () => {
    for (const [s, t] of [
      [0, 0.5],
      [0.2, 0.9],
      [0.5, 0.5 + 1e-4],
      [0.5, 0.5 + 1e-10],
      [1e-3, 1e-3 + 1e-12],
    ]) {
      const db = (t - s) * (0.1 + 0.5 * 19.9 * (t + s));
      const tr = transition(vp, s, t);
      expect(relErr(tr.scale, Math.exp(-0.5 * db))).toBeLessThan(1e-9);
      expect(relErr(tr.std ** 2, -Math.expm1(-db))).toBeLessThan(1e-10);
    }
  });
  it("VE: var = σmin²·r^{2s}·expm1(2(t − s)·log r) for close and far times", () => {
    const logR = Math.log(5000);
    for (const [s, t] of [
      [0, 1],
      [0.3, 0.7],
      [0.6, 0.6 + 1e-9],
    ]) {
      const exact = 1e-4 * Math.exp(2 * s * logR) * Math.expm1(2 * (t - s) * logR);
      const tr = transition(ve, s, t);
      expect(tr.scale).toBe(1);
      expect(relErr(tr.std ** 2, exact)).toBeLessThan(1e-10);
    }
  });
  it("works for a custom linear SDE near its singular end", () => {
    const custom = orThrow(linearSde({ name: "OU", f: () => -1, g: () => Math.SQRT2, tMin: 1e-3, tMax: 5 }));
    const [s, t] = [4.5, 4.5 + 1e-8];
    const tr = transition(custom, s, t);
    expect(relErr(tr.std ** 2, -Math.expm1(-2 * (t - s)))).toBeLessThan(1e-10);
  });
});

describe("prior", () => {
  it("log-density −n/2·log(2πσ²) − |x|²/(2σ²)", () => {
    expect(priorLogDensity(vp, [1, 2])).toBeCloseTo(-Math.log(2 * Math.PI) - 2.5, 14);
    expect(priorLogDensity(ve, new Float64Array([50]))).toBeCloseTo(
      -0.5 * Math.log(2 * Math.PI * 2500) - 0.5,
      14,
    );
    expect(Math.abs(priorLogDensity(vp, []))).toBe(0);
  });
  it("rejects bad shapes with a Left", () => {
    const message = (shape: number[]): string => {
      const r = samplePrior(vp, key, shape);
      return E.isLeft(r) ? r.left.message : "expected a Left";
    };
    expect(message([])).toBe("samplePrior: shape must be a non-empty list of integers ≥ 1, got shape=[]");
    expect(message([2, 0])).toBe("samplePrior: shape[1] must be an integer ≥ 1, got shape[1]=0");
    expect(message([2.5])).toBe("samplePrior: shape[0] must be an integer ≥ 1, got shape[0]=2.5");
    expect(message([Number.NaN])).toBe("samplePrior: shape[0] must be an integer ≥ 1, got shape[0]=NaN");
  });
  it("draws N(0, σp²) (mean, variance within 4 standard errors, n = 40000)", () => {
    const x = orThrow(samplePrior(ve, key, [200, 200]));
    expect(x.shape).toEqual([200, 200]);
    const { mean, variance } = moments(x.data);
    const n = x.data.length;
    expect(Math.abs(mean)).toBeLessThan((4 * 50) / Math.sqrt(n));
    expect(Math.abs(variance - 2500)).toBeLessThan(4 * 2500 * Math.sqrt(2 / (n - 1)));
  });
  it("row i of a batch does not depend on the batch size", () => {
    const small = orThrow(samplePrior(vp, key, [2, 3]));
    const large = orThrow(samplePrior(vp, key, [5, 3]));
    expect(Array.from(large.data.subarray(0, 6))).toEqual(Array.from(small.data));
  });
});

describe("sampleMarginal", () => {
  it("x_t − s·x₀ ~ N(0, σ²) (mean, variance within 4 standard errors, n = 40000)", () => {
    const n = 40000;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = (2 * i) / n - 1;
    const x0 = { shape: [n, 1], data };
    const t = 0.35;
    const xt = sampleMarginal(vp, foldIn(key, 7), x0, t);
    const s = vp.scale(t);
    const sigma = vp.std(t);
    const residual = xt.data.map((v, i) => v - s * data[i]);
    const { mean, variance } = moments(residual);
    expect(Math.abs(mean)).toBeLessThan((4 * sigma) / Math.sqrt(n));
    expect(Math.abs(variance - sigma ** 2)).toBeLessThan(4 * sigma ** 2 * Math.sqrt(2 / (n - 1)));
  });
  it("keeps float32 storage and the shape", () => {
    const x0: Tensor = { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) };
    const xt = sampleMarginal(vp, key, x0, 0.5);
    expect(xt.data).toBeInstanceOf(Float32Array);
    expect(xt.shape).toEqual([2, 2]);
  });
  it("is x₀ exactly at t = 0", () => {
    const x0 = { shape: [1, 3], data: new Float64Array([1, -2, 3]) };
    expect(Array.from(sampleMarginal(ve, key, x0, 0).data)).toEqual([1, -2, 3]);
  });
});
