import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { foldIn, normals, rngKey } from "../../src/core/rng.js";
import type { Tensor, Tensor64 } from "../../src/core/tensor.js";
import {
  type BetaScheduleKind,
  ddpmForwardStep,
  ddpmMarginal,
  ddpmQSample,
  ddpmSchedule,
} from "../../src/discrete/index.js";

const leftMessage = <A>(r: E.Either<{ readonly message: string }, A>): string =>
  E.isLeft(r) ? r.left.message : "<Right>";

const KINDS: readonly BetaScheduleKind[] = ["linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid"];

describe("ddpmForwardStep: q(x_t | x_{t−1}) = N(√α_t x, β_t) (Ho et al. 2020, eq. 2)", () => {
  const s = orThrow(ddpmSchedule());
  it("is variance preserving: scale² + std² = α_t + β_t = 1 to one rounding", () => {
    for (let t = 0; t < 1000; t++) {
      const k = orThrow(ddpmForwardStep(s, t));
      expect(k.scale).toBe(Math.sqrt(1 - s.betas[t]));
      expect(k.std).toBe(Math.sqrt(s.betas[t]));
      expect(Math.abs(k.scale ** 2 + k.std ** 2 - 1)).toBeLessThan(4e-16);
    }
  });
});

describe("ddpmMarginal: q(x_t | x_0) = N(√ᾱ_t x_0, 1 − ᾱ_t) (Ho et al. 2020, eq. 4)", () => {
  it.each(KINDS)("%s: equals the (t+1)-fold composition m ← √α_t·m, v ← α_t·v + β_t to 1e-12", (kind) => {
    const s = orThrow(ddpmSchedule({ kind }));
    let m = 1;
    let v = 0;
    for (let t = 0; t < 1000; t++) {
      const step = orThrow(ddpmForwardStep(s, t));
      m *= step.scale;
      v = step.scale ** 2 * v + step.std ** 2;
      const q = orThrow(ddpmMarginal(s, t));
      expect(Math.abs(q.scale / m - 1)).toBeLessThan(1e-12);
      expect(Math.abs(q.std ** 2 / v - 1)).toBeLessThan(1e-12);
    }
  });

  it("is exactly one forward step at t = 0: scale √α_0, std √β_0", () => {
    const s = orThrow(ddpmSchedule({ betaStart: 1e-6 }));
    expect(orThrow(ddpmMarginal(s, 0))).toEqual(orThrow(ddpmForwardStep(s, 0)));
  });

  it("matches a simulated chain of t forward steps in distribution (4 standard errors)", () => {
    // 12 steps of a coarse schedule, n = 20000 chains started at x_0 = 1.5 with Philox noise.
    const s = orThrow(ddpmSchedule({ numTrainTimesteps: 12, betaStart: 0.01, betaEnd: 0.3 }));
    const n = 20_000;
    const key = orThrow(rngKey(2024));
    const x = new Float64Array(n).fill(1.5);
    for (let t = 0; t < 12; t++) {
      const { scale, std } = orThrow(ddpmForwardStep(s, t));
      const z = normals(foldIn(key, t), n);
      for (let i = 0; i < n; i++) x[i] = scale * x[i] + std * z[i];
    }
    const q = orThrow(ddpmMarginal(s, 11));
    const mean = x.reduce((a, b) => a + b, 0) / n;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    // SE(mean) = σ/√n; SE(variance) = σ²·√(2/(n − 1)) for a Gaussian.
    expect(Math.abs(mean - 1.5 * q.scale)).toBeLessThan((4 * q.std) / Math.sqrt(n));
    expect(Math.abs(variance - q.std ** 2)).toBeLessThan(4 * q.std ** 2 * Math.sqrt(2 / (n - 1)));
  });
});

describe("ddpmQSample: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε", () => {
  const s = orThrow(ddpmSchedule());
  const x0: Tensor64 = { shape: [2, 3], data: Float64Array.of(1, -2, 3, 0.5, 0, -1) };
  const eps: Tensor64 = { shape: [2, 3], data: Float64Array.of(0.3, 0.1, -0.7, 2, -1, 0.25) };

  it("is the reparameterized marginal, elementwise", () => {
    const t = 500;
    const xt = orThrow(ddpmQSample(s, t, x0, eps));
    const a = s.alphaBars[t];
    expect(xt.shape).toEqual([2, 3]);
    for (let i = 0; i < 6; i++) {
      expect(xt.data[i]).toBeCloseTo(Math.sqrt(a) * x0.data[i] + Math.sqrt(1 - a) * eps.data[i], 14);
    }
  });

  it("keeps float32 storage", () => {
    const x32: Tensor = { shape: [2], data: Float32Array.of(1, 2) };
    const e32: Tensor = { shape: [2], data: Float32Array.of(0, 1) };
    expect(orThrow(ddpmQSample(s, 10, x32, e32)).data).toBeInstanceOf(Float32Array);
  });

  it("rejects bad indices and tensors with a Left that names the field", () => {
    expect(leftMessage(ddpmQSample(s, 1000, x0, eps))).toBe(
      "DDPM qSample: t must be an integer in [0, 999], got t=1000",
    );
    const flat: Tensor64 = { shape: [6], data: eps.data };
    expect(leftMessage(ddpmQSample(s, 3, x0, flat))).toBe(
      "DDPM qSample: eps.shape must equal x0.shape [2, 3], got eps.shape=[6]",
    );
    const nan: Tensor64 = { shape: [2, 3], data: Float64Array.of(1, 2, Number.NaN, 4, 5, 6) };
    expect(leftMessage(ddpmQSample(s, 3, nan, eps))).toBe(
      "DDPM qSample: x0.data[2] must be finite, got x0.data[2]=NaN",
    );
    const short: Tensor64 = { shape: [2, 3], data: new Float64Array(5) };
    expect(leftMessage(ddpmQSample(s, 3, x0, short))).toContain("eps.data.length must equal 6");
  });
});

describe("index checks", () => {
  const s = orThrow(ddpmSchedule({ numTrainTimesteps: 10 }));
  it.each([-1, 10, 2.5, Number.NaN, Number.POSITIVE_INFINITY])("t = %d is a Left, never NaN", (t) => {
    expect(leftMessage(ddpmForwardStep(s, t))).toContain("DDPM forward step: t must be an integer in [0, 9]");
    expect(leftMessage(ddpmMarginal(s, t))).toContain("DDPM marginal: t must be an integer in [0, 9]");
  });
});
