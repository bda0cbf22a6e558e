import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillUniform, foldIn, rngKey } from "../../src/core/rng.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import { classifierAccuracy, digitQuality } from "../../src/metrics/digit-quality.js";

/** Rows that put probability `confidence` on class cₙ and spread the rest evenly over the other K − 1. */
const peaked = (classes: readonly number[], k: number, confidence: number): Tensor64 => {
  const data = new Float64Array(classes.length * k).fill((1 - confidence) / (k - 1));
  classes.forEach((c, r) => {
    data[r * k + c] = confidence;
  });
  return { shape: [classes.length, k], data };
};

describe("digitQuality", () => {
  it("every class once: coverage 10, a flat histogram, entropy ln 10", () => {
    const q = digitQuality(peaked([3, 1, 4, 0, 5, 9, 2, 6, 8, 7], 10, 0.9));
    expect(q.samples).toBe(10);
    expect(q.covered).toBe(10);
    expect(q.histogram).toEqual(new Array(10).fill(1));
    expect(q.histogramEntropy).toBeCloseTo(Math.log(10), 14);
    expect(q.meanConfidence).toBeCloseTo(0.9, 14);
  });

  it("mode collapse: one class for every sample gives coverage 1 and entropy 0", () => {
    const q = digitQuality(peaked(new Array(25).fill(7), 10, 0.6));
    expect(q.covered).toBe(1);
    expect(q.histogram).toEqual([0, 0, 0, 0, 0, 0, 0, 25, 0, 0]);
    expect(q.histogramEntropy).toBe(0);
    expect(q.meanConfidence).toBeCloseTo(0.6, 14);
  });

  it("a hand-made table: histogram [2, 0, 1, 1], entropy −(½ ln ½ + 2·¼ ln ¼) = 1.5 ln 2", () => {
    const p: Tensor64 = {
      shape: [4, 4],
      data: Float64Array.from(
        [
          [0.7, 0.1, 0.1, 0.1],
          [0.4, 0.3, 0.2, 0.1],
          [0.1, 0.2, 0.6, 0.1],
          [0.0, 0.0, 0.0, 1.0],
        ].flat(),
      ),
    };
    const q = digitQuality(p);
    expect(q.histogram).toEqual([2, 0, 1, 1]);
    expect(q.covered).toBe(3);
    expect(q.histogramEntropy).toBeCloseTo(1.5 * Math.log(2), 14);
    expect(q.meanConfidence).toBeCloseTo((0.7 + 0.4 + 0.6 + 1) / 4, 14);
  });

  it("ties go to the lower class: uniform rows are all class 0 with confidence 1/K", () => {
    const q = digitQuality({ shape: [3, 10], data: new Float64Array(30).fill(0.1) });
    expect(q.histogram[0]).toBe(3);
    expect(q.covered).toBe(1);
    expect(q.meanConfidence).toBeCloseTo(0.1, 15);
  });

  it("on random tables: the histogram sums to N, 0 ≤ H ≤ ln K, 1/K ≤ confidence ≤ 1, same for float32", () => {
    const key = orThrow(rngKey(5));
    for (let t = 0; t < 20; t++) {
      const [n, k] = [1 + t * 7, 2 + (t % 9)];
      const u = fillUniform(foldIn(key, t), new Float64Array(n * k)).map((v) => v ** 4);
      for (let r = 0; r < n; r++) {
        const s = u.subarray(r * k, (r + 1) * k).reduce((a, b) => a + b, 0);
        for (let j = r * k; j < (r + 1) * k; j++) u[j] /= s;
      }
      const q = digitQuality({ shape: [n, k], data: u });
      expect(q.histogram.reduce((a, b) => a + b, 0)).toBe(n);
      expect(q.covered).toBe(q.histogram.filter((h) => h > 0).length);
      expect(q.histogramEntropy).toBeGreaterThanOrEqual(0);
      expect(q.histogramEntropy).toBeLessThanOrEqual(Math.log(k) + 1e-12);
      expect(q.meanConfidence).toBeGreaterThanOrEqual(1 / k - 1e-12);
      expect(q.meanConfidence).toBeLessThanOrEqual(1);
      const q32 = digitQuality({ shape: [n, k], data: Float32Array.from(u) });
      expect(q32.covered).toBeLessThanOrEqual(k);
      expect(q32.meanConfidence).toBeCloseTo(q.meanConfidence, 6);
    }
  });
});

describe("classifierAccuracy", () => {
  it("is the fraction of rows whose argmax is the label, the same on logits and on probabilities", () => {
    const logits: Tensor64 = {
      shape: [4, 3],
      data: Float64Array.from([2, 1, 0, -5, 3, 3.5, 0, 0, 0, 1, 9, -1]),
    };
    expect(classifierAccuracy(logits, [0, 2, 0, 0])).toBe(0.75);
    expect(classifierAccuracy(logits, [1, 1, 1, 1])).toBe(0.25);
    expect(classifierAccuracy(peaked([0, 1, 2, 3, 4], 5, 0.5), [0, 1, 2, 3, 4])).toBe(1);
    expect(classifierAccuracy(peaked([0, 1, 2, 3, 4], 5, 0.5), [4, 0, 1, 2, 3])).toBe(0);
  });
});
