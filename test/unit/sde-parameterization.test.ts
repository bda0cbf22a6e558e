import { describe, expect, it } from "vitest";
import { float64Space, type Tensor64, tensorSpace } from "../../src/core/tensor.js";
import { convertCoefficients, convertPrediction, type Parameterization } from "../../src/sde/index.js";

const all: readonly Parameterization[] = ["eps", "x0", "v", "score"];

describe("convertCoefficients", () => {
  // VP point s = 0.6, σ = 0.8 (r = 1), x₀ = 1.5, ε = −0.3: x = 0.66, v = sε − σx₀ = −1.38, score = −ε/σ = 0.375.
  const coefficients = { scale: 0.6, std: 0.8 };
  const x = 0.66;
  const targets: Record<Parameterization, number> = { eps: -0.3, x0: 1.5, v: -1.38, score: 0.375 };
  it.each(all.flatMap((from) => all.map((to) => [from, to] as const)))(
    "%s → %s on a VP point",
    (from, to) => {
      const { cx, cp } = convertCoefficients(from, to, coefficients);
      expect(cx * x + cp * targets[from]).toBeCloseTo(targets[to], 14);
    },
  );
  it("is the identity for from = to", () => {
    for (const p of all) expect(convertCoefficients(p, p, { scale: 0.3, std: 7 })).toEqual({ cx: 0, cp: 1 });
  });
  it("generalizes v with r = √(s² + σ²): VE/EDM point s = 1, σ = 80", () => {
    const c = { scale: 1, std: 80 };
    const [x0, eps] = [0.25, 1.2];
    const r = Math.hypot(1, 80);
    const v = (eps - 80 * x0) / r;
    const xt = x0 + 80 * eps;
    const toV = convertCoefficients("x0", "v", c);
    expect(toV.cx * xt + toV.cp * x0).toBeCloseTo(v, 12);
    const toX0 = convertCoefficients("v", "x0", c);
    expect(toX0.cx * xt + toX0.cp * v).toBeCloseTo(x0, 12);
  });
  it("score → x0 is Tweedie's formula: for data N(0, c²), E[x₀ | x] = s·c²·x/(s²c² + σ²)", () => {
    const [s, sigma, c2, x] = [0.7, 0.5, 2.5, 1.3];
    const variance = s * s * c2 + sigma * sigma;
    const score = -x / variance;
    const { cx, cp } = convertCoefficients("score", "x0", { scale: s, std: sigma });
    expect(cx * x + cp * score).toBeCloseTo((s * c2 * x) / variance, 14);
  });
});

describe("convertPrediction", () => {
  it("applies to = cx·x + cp·pred in any vector space", () => {
    const c = { scale: 0.6, std: 0.8 };
    const out = convertPrediction(
      float64Space,
      "eps",
      "x0",
      c,
      new Float64Array([0.66]),
      new Float64Array([-0.3]),
    );
    expect(out[0]).toBeCloseTo(1.5, 14);
    const space = tensorSpace<Float64Array>();
    const x: Tensor64 = { shape: [1, 2], data: new Float64Array([0.66, 0.66]) };
    const pred: Tensor64 = { shape: [1, 2], data: new Float64Array([-0.3, -0.3]) };
    const score = convertPrediction(space, "eps", "score", c, x, pred);
    expect(score.shape).toEqual([1, 2]);
    expect(score.data[1]).toBeCloseTo(0.375, 14);
  });
});
