import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, rngKey } from "../../src/core/rng.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import {
  fourierFeatures,
  fourierFeatures64,
  fourierFeaturesBackward,
  fourierWeights,
  timestepEmbedding,
} from "../../src/nets/embedding.js";

const msg = (r: E.Either<{ readonly message: string }, unknown>): string =>
  E.isLeft(r) ? r.left.message : "";

/** Float32 outputs of values in [−1, 1] are within half an ulp (≤ 2⁻²⁵ ≈ 3e-8) of the exact value. */
const expectRows = (data: ArrayLike<number>, rows: readonly (readonly number[])[]): void => {
  const flat = rows.flat();
  expect(data.length).toBe(flat.length);
  flat.forEach((v, i) => {
    expect(Math.abs(data[i] - v)).toBeLessThan(6e-8);
  });
};

describe("timestepEmbedding (diffusers get_timestep_embedding)", () => {
  const t = [0, 1, 2.5, 999];

  it("D = 4, shift 0: frequencies ω = [1, 10000^(−1/2)] = [1, 0.01]; [sin | cos], or [cos | sin] when flipped", () => {
    const rows = t.map((s) => [Math.sin(s), Math.sin(s / 100), Math.cos(s), Math.cos(s / 100)]);
    const e = orThrow(timestepEmbedding(t, { embeddingDim: 4, flipSinToCos: false, downscaleFreqShift: 0 }));
    expect(e.shape).toEqual([4, 4]);
    expectRows(e.data, rows);
    const f = orThrow(timestepEmbedding(t, { embeddingDim: 4, flipSinToCos: true, downscaleFreqShift: 0 }));
    expectRows(
      f.data,
      rows.map((r) => [r[2], r[3], r[0], r[1]]),
    );
  });

  it("shift 1 (DDPM): the exponent divides by ⌊D/2⌋ − 1, so D = 4 has ω = [1, 10⁻⁴] and D = 6 has ω = [1, 10⁻², 10⁻⁴]", () => {
    const d4 = orThrow(timestepEmbedding(t, { embeddingDim: 4, flipSinToCos: false, downscaleFreqShift: 1 }));
    expectRows(
      d4.data,
      t.map((s) => [Math.sin(s), Math.sin(s * 1e-4), Math.cos(s), Math.cos(s * 1e-4)]),
    );
    const d6 = orThrow(timestepEmbedding(t, { embeddingDim: 6, flipSinToCos: true, downscaleFreqShift: 1 }));
    expectRows(
      d6.data,
      t.map((s) => [
        Math.cos(s),
        Math.cos(s / 100),
        Math.cos(s * 1e-4),
        Math.sin(s),
        Math.sin(s / 100),
        Math.sin(s * 1e-4),
      ]),
    );
  });

  it("odd D appends a zero column; fractional shift, scale and maxPeriod enter as in diffusers", () => {
    const d5 = orThrow(timestepEmbedding(t, { embeddingDim: 5, flipSinToCos: false, downscaleFreqShift: 1 }));
    expectRows(
      d5.data,
      t.map((s) => [Math.sin(s), Math.sin(s * 1e-4), Math.cos(s), Math.cos(s * 1e-4), 0]),
    );
    // half = 2, shift 0.5: ω₁ = exp(−ln(100)·1/1.5) = 100^(−2/3); scale 2 doubles every argument
    const w1 = 100 ** (-2 / 3);
    const e = orThrow(
      timestepEmbedding(t, {
        embeddingDim: 4,
        flipSinToCos: false,
        downscaleFreqShift: 0.5,
        scale: 2,
        maxPeriod: 100,
      }),
    );
    expectRows(
      e.data,
      t.map((s) => [Math.sin(2 * s), Math.sin(2 * s * w1), Math.cos(2 * s), Math.cos(2 * s * w1)]),
    );
  });

  it("UNet2DModel's default (flip, shift 0), D = 8: ω = [1, 0.1, 0.01, 0.001] at t = 500", () => {
    const e = orThrow(
      timestepEmbedding([500], { embeddingDim: 8, flipSinToCos: true, downscaleFreqShift: 0 }),
    );
    const args = [500, 50, 5, 0.5];
    expectRows(e.data, [[...args.map(Math.cos), ...args.map(Math.sin)]]);
  });

  it("rejects bad timesteps and options with a message naming field and rule", () => {
    const base = { embeddingDim: 4, flipSinToCos: false, downscaleFreqShift: 0 };
    expect(msg(timestepEmbedding([1, Number.NaN], base))).toBe(
      "timestep embedding: timesteps[1] must be a finite number, got timesteps[1]=NaN",
    );
    expect(msg(timestepEmbedding([], base))).toMatch(/timesteps\.length must be ≥ 1/);
    expect(msg(timestepEmbedding([1], { ...base, embeddingDim: 1 }))).toMatch(/embeddingDim must be ≥ 2/);
    expect(msg(timestepEmbedding([1], { ...base, embeddingDim: 4.5 }))).toMatch(
      /embeddingDim must be an integer/,
    );
    expect(msg(timestepEmbedding([1], { ...base, embeddingDim: 3, downscaleFreqShift: 1 }))).toBe(
      "timestep embedding: downscaleFreqShift must be < ⌊embeddingDim/2⌋ (the frequency exponent divides by ⌊D/2⌋ − δ), got embeddingDim=3, downscaleFreqShift=1",
    );
    expect(msg(timestepEmbedding([1], { ...base, maxPeriod: 0 }))).toMatch(
      /maxPeriod must be a finite number > 0/,
    );
    expect(msg(timestepEmbedding([1], { ...base, scale: Infinity }))).toMatch(
      /scale must be a finite number/,
    );
  });
});

describe("Gaussian Fourier features (diffusers GaussianFourierProjection)", () => {
  const weight = { shape: [3], data: Float32Array.from([0.25, 1, -0.5]) };

  it("log: u = ln σ, θ = 2π·u·w; σ = 1 gives [0 | 1], σ = e gives θ = [π/2, 2π, −π]", () => {
    const e = orThrow(fourierFeatures([1, Math.E], weight, { log: true, flipSinToCos: false }));
    expect(e.shape).toEqual([2, 6]);
    expectRows(e.data, [
      [0, 0, 0, 1, 1, 1],
      [1, 0, 0, 0, 1, -1],
    ]);
    const f = orThrow(fourierFeatures([1, Math.E], weight, { log: true, flipSinToCos: true }));
    expectRows(f.data, [
      [1, 1, 1, 0, 0, 0],
      [0, 1, -1, 1, 0, 0],
    ]);
  });

  it("without log: u = σ, so σ = 0.5 gives θ = [π/4, π, −π/2]", () => {
    const e = orThrow(fourierFeatures([0.5], weight, { log: false, flipSinToCos: false }));
    expectRows(e.data, [[Math.SQRT1_2, 0, -1, Math.SQRT1_2, -1, 0]]);
  });

  // L(w) = Σ r ⊙ e(w) is smooth; at h = 1e-6 the central difference has error ≈ h²·(2πu)³/6 ≈ 1e-10 plus
  // rounding ≈ 1e-16·|L|/h ≈ 1e-10, far below the 1e-6 relative tolerance (∂w itself is rounded to float32,
  // 6e-8 relative).
  it.each([
    [true, false],
    [false, true],
  ])("backward equals central finite differences in float64 (log %s, flip %s)", (log, flipSinToCos) => {
    const sigmas = [0.3, 1.7, 12];
    const w: Tensor64 = { shape: [5], data: fillNormal(orThrow(rngKey(3)), new Float64Array(5)) };
    const r: Tensor64 = { shape: [3, 10], data: fillNormal(orThrow(rngKey(4)), new Float64Array(30)) };
    const opts = { log, flipSinToCos };
    const loss = (): number => {
      const e = orThrow(fourierFeatures64(sigmas, w, opts)).data;
      return e.reduce((acc, v, i) => acc + v * r.data[i], 0);
    };
    const dw = orThrow(fourierFeaturesBackward(sigmas, w, r, opts)).data;
    const h = 1e-6;
    for (let k = 0; k < 5; k++) {
      w.data[k] += h;
      const up = loss();
      w.data[k] -= 2 * h;
      const down = loss();
      w.data[k] += h;
      const fd = (up - down) / (2 * h);
      expect(Math.abs(fd - dw[k])).toBeLessThan(1e-6 * (1 + Math.abs(fd)));
    }
  });

  it("fourierFeatures64 is fourierFeatures before the float32 rounding", () => {
    const s = [0.1, 3];
    const a = orThrow(fourierFeatures(s, weight, { log: true, flipSinToCos: false })).data;
    const b = orThrow(fourierFeatures64(s, weight, { log: true, flipSinToCos: false })).data;
    expect(Array.from(a)).toEqual(Array.from(b, Math.fround));
  });

  it("fourierWeights draws scale·N(0, 1): sample mean and standard deviation within 4 standard errors", () => {
    const e = 4096;
    const w = orThrow(fourierWeights(orThrow(rngKey(7)), e, 16)).data;
    const mean = w.reduce((a, b) => a + b, 0) / e;
    const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / (e - 1));
    expect(Math.abs(mean)).toBeLessThan((4 * 16) / Math.sqrt(e)); // SE(mean) = 16/√E = 0.25
    expect(Math.abs(sd - 16)).toBeLessThan((4 * 16) / Math.sqrt(2 * e)); // SE(sd) ≈ 16/√(2E) ≈ 0.18
  });

  it("rejects bad inputs with a message naming field and rule", () => {
    expect(msg(fourierFeatures([1, 0], weight, { log: true, flipSinToCos: false }))).toBe(
      "Gaussian Fourier features: sigmas[1] must be a finite number > 0, got sigmas[1]=0",
    );
    expect(msg(fourierFeatures([-1], weight, { log: false, flipSinToCos: false }))).toBe("");
    expect(
      msg(fourierFeatures([1], { shape: [3, 1], data: weight.data }, { log: true, flipSinToCos: false })),
    ).toMatch(/weight\.shape must be 1 integers ≥ 1 \(\[E\]\)/);
    const de = { shape: [1, 5], data: new Float32Array(5) };
    expect(msg(fourierFeaturesBackward([1], weight, de, { log: true, flipSinToCos: false }))).toMatch(
      /de\.shape must be \[1, 6\]/,
    );
    expect(msg(fourierWeights(orThrow(rngKey(1)), 0, 1))).toMatch(/embeddingSize must be an integer ≥ 1/);
    expect(msg(fourierWeights(orThrow(rngKey(1)), 4, -1))).toMatch(/scale must be a finite number > 0/);
  });
});
