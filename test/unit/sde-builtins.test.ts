import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import {
  edmSde,
  integratedBeta,
  type LinearSde,
  noiseLevel,
  subVpSde,
  timeOfIntegratedBeta,
  veSde,
  vpCosineSde,
  vpSde,
} from "../../src/sde/index.js";

const builtins: ReadonlyArray<LinearSde> = [vpSde(), vpCosineSde(), subVpSde(), veSde(), edmSde()].map(
  orThrow,
);

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

const leftMessage = (r: E.Either<{ message: string }, unknown>): string =>
  E.isLeft(r) ? r.left.message : "expected a Left";

describe("defaults", () => {
  it("match the papers' settings", () => {
    const [vp, cos, subVp, ve, edm] = builtins;
    expect([vp.name, vp.tMin, vp.tMax, vp.priorStd]).toEqual(["VP", 1e-3, 1, 1]);
    expect([cos.name, cos.tMin, cos.tMax, cos.priorStd]).toEqual(["VP cosine", 1e-3, 0.999, 1]);
    expect([subVp.name, subVp.tMin, subVp.tMax, subVp.priorStd]).toEqual(["sub-VP", 1e-3, 1, 1]);
    expect([ve.name, ve.tMin, ve.tMax, ve.priorStd]).toEqual(["VE", 1e-5, 1, 50]);
    expect([edm.name, edm.tMin, edm.tMax, edm.priorStd]).toEqual(["EDM", 0.002, 80, 80]);
  });
});

describe("VP", () => {
  const vp = orThrow(vpSde());
  it("s(1) = exp(−¼(βmax − βmin) − ½βmin) and s² + σ² = 1", () => {
    expect(relErr(vp.scale(1), Math.exp(-0.25 * 19.9 - 0.05))).toBeLessThan(1e-15);
    for (const t of [0, 1e-9, 1e-3, 0.1, 0.5, 1]) {
      expect(Math.abs(vp.scale(t) ** 2 + vp.std(t) ** 2 - 1)).toBeLessThan(4e-16);
    }
  });
  it("keeps full relative precision in σ at tiny t (σ² = B − B²/2 + …)", () => {
    for (const t of [1e-12, 1e-9, 1e-6]) {
      const b = integratedBeta({ betaMin: 0.1, betaMax: 20 }, t);
      expect(relErr(vp.std(t) ** 2, b - (b * b) / 2 + (b * b * b) / 6)).toBeLessThan(1e-14);
    }
  });
  it("f = −½β, g = √β", () => {
    expect(vp.f(0.5)).toBeCloseTo(-0.5 * (0.1 + 0.5 * 19.9), 14);
    expect(vp.g(0.5)).toBeCloseTo(Math.sqrt(0.1 + 0.5 * 19.9), 14);
  });
  it("inverts B(t) for constant β (βmin = βmax) and for βmin = 0", () => {
    expect(relErr(timeOfIntegratedBeta({ betaMin: 2, betaMax: 2 }, 1), 0.5)).toBeLessThan(1e-15);
    expect(relErr(timeOfIntegratedBeta({ betaMin: 0, betaMax: 8 }, 1), 0.5)).toBeLessThan(1e-15);
    expect(timeOfIntegratedBeta({ betaMin: 0, betaMax: 8 }, 0)).toBe(0);
  });
});

describe("sub-VP", () => {
  const subVp = orThrow(subVpSde());
  const vp = orThrow(vpSde());
  it("has σ = 1 − s² and the VP scale", () => {
    for (const t of [1e-3, 0.3, 1]) {
      expect(subVp.scale(t)).toBe(vp.scale(t));
      expect(Math.abs(subVp.std(t) - (1 - subVp.scale(t) ** 2))).toBeLessThan(1e-15);
    }
  });
  it("g² = β(1 − e^{−2B})", () => {
    const b = integratedBeta({ betaMin: 0.1, betaMax: 20 }, 0.4);
    expect(relErr(subVp.g(0.4) ** 2, (0.1 + 0.4 * 19.9) * (1 - Math.exp(-2 * b)))).toBeLessThan(1e-14);
  });
});

describe("VP cosine", () => {
  const cos = orThrow(vpCosineSde());
  const o = 0.008;
  const alphaBar = (t: number): number =>
    Math.cos(((t + o) / (1 + o)) * (Math.PI / 2)) ** 2 / Math.cos((o / (1 + o)) * (Math.PI / 2)) ** 2;
  it("matches ᾱ of Nichol & Dhariwal eq. 17: s² = ᾱ, σ² = 1 − ᾱ", () => {
    for (const t of [0.01, 0.3, 0.7, 0.95]) {
      expect(relErr(cos.scale(t) ** 2, alphaBar(t))).toBeLessThan(1e-13);
      // The reference 1 − ᾱ itself cancels: its relative error is ≈ ε/(1 − ᾱ) ≈ 4·10⁻¹³ at t = 0.01.
      expect(relErr(cos.std(t) ** 2, 1 - alphaBar(t))).toBeLessThan(1e-11);
    }
  });
  it("β = π/(1+s)·tan(π/2·(t+s)/(1+s)) ≈ 2000 near tMax", () => {
    const beta = (t: number): number => (Math.PI / (1 + o)) * Math.tan(((Math.PI / 2) * (t + o)) / (1 + o));
    for (const t of [0, 0.5, 0.999]) expect(relErr(cos.g(t) ** 2, beta(t))).toBeLessThan(1e-12);
    expect(cos.g(0.999) ** 2).toBeGreaterThan(1900);
  });
  it("offset 0 is allowed and exact: σ̃ = tan(πt/2)", () => {
    const c0 = orThrow(vpCosineSde({ offset: 0 }));
    expect(relErr(noiseLevel(c0, 0.5), 1)).toBeLessThan(1e-15);
    expect(relErr(c0.timeOfNoiseLevel(1), 0.5)).toBeLessThan(1e-15);
  });
  it("maps huge noise levels to t < 1", () => {
    const t = cos.timeOfNoiseLevel(1e200);
    expect(t).toBeLessThanOrEqual(1);
    expect(t).toBeGreaterThan(0.999);
  });
});

describe("VE", () => {
  const ve = orThrow(veSde());
  it("uses the exact marginal σ² = σmin²((σmax/σmin)^{2t} − 1), 0 at t = 0 (not σ_VE(t))", () => {
    expect(ve.std(0)).toBe(0);
    for (const t of [0.2, 1])
      expect(relErr(ve.std(t) ** 2, 1e-4 * (5000 ** (2 * t) - 1))).toBeLessThan(1e-13);
    const t = 1e-9;
    const x = 2 * t * Math.log(5000);
    expect(relErr(ve.std(t) ** 2, 1e-4 * (x + (x * x) / 2))).toBeLessThan(1e-14);
  });
  it("g = σ_VE(t)·√(2 log(σmax/σmin)), f = 0, s = 1", () => {
    expect(relErr(ve.g(0.5), 0.01 * Math.sqrt(5000) * Math.sqrt(2 * Math.log(5000)))).toBeLessThan(1e-14);
    expect([ve.f(0.5), ve.scale(0.5)]).toEqual([0, 1]);
  });
});

describe("EDM", () => {
  const edm = orThrow(edmSde());
  it("σ(t) = t, s = 1, g = √(2t), identity noise-level map", () => {
    expect([edm.std(3), edm.scale(3), edm.f(3), edm.g(2), edm.timeOfNoiseLevel(7)]).toEqual([3, 1, 0, 2, 7]);
  });
});

describe("every built-in", () => {
  it.each(builtins.map((sde) => [sde.name, sde] as const))(
    "%s is finite at t = 0, tMin and tMax",
    (_, sde) => {
      for (const t of [0, sde.tMin, sde.tMax]) {
        for (const v of [sde.f(t), sde.g(t), sde.scale(t), sde.std(t), noiseLevel(sde, t)]) {
          expect(Number.isFinite(v)).toBe(true);
        }
      }
      expect(sde.std(0)).toBe(0);
      expect(sde.scale(0)).toBe(1);
      expect(sde.timeOfNoiseLevel(0)).toBe(0);
      expect(sde.std(sde.tMin)).toBeGreaterThan(0);
    },
  );
  it.each(builtins.map((sde) => [sde.name, sde] as const))("%s inverts its noise level exactly", (_, sde) => {
    for (const u of [0, 1e-6, 0.01, 0.3, 0.9, 1]) {
      const t = sde.tMin + u * (sde.tMax - sde.tMin);
      expect(relErr(sde.timeOfNoiseLevel(noiseLevel(sde, t)), t)).toBeLessThan(1e-13);
    }
  });
  it.each(builtins.map((sde) => [sde.name, sde] as const))(
    "%s: huge noise levels give a finite time",
    (_, sde) => {
      expect(Number.isFinite(sde.timeOfNoiseLevel(1e200))).toBe(true);
    },
  );
});

describe("validation", () => {
  it("names both fields of an inverted β schedule", () => {
    expect(leftMessage(vpSde({ betaMin: 20, betaMax: 0.1 }))).toBe(
      "VP SDE: betaMax must be ≥ betaMin, got betaMin=20, betaMax=0.1",
    );
    expect(leftMessage(subVpSde({ betaMin: 20, betaMax: 0.1 }))).toBe(
      "sub-VP SDE: betaMax must be ≥ betaMin, got betaMin=20, betaMax=0.1",
    );
  });
  it("rejects each bad field with a readable message", () => {
    expect(leftMessage(vpSde({ betaMin: Number.NaN }))).toBe(
      "VP SDE: betaMin must be a finite number ≥ 0, got betaMin=NaN",
    );
    expect(leftMessage(vpSde({ tMin: 1, tMax: 0.5 }))).toBe(
      "VP SDE: tMax must be > tMin, got tMin=1, tMax=0.5",
    );
    expect(leftMessage(vpCosineSde({ tMax: 1 }))).toBe(
      "VP cosine SDE: tMax must be < 1 (β(t) → ∞ as t → 1), got tMax=1",
    );
    expect(leftMessage(vpCosineSde({ offset: -0.1 }))).toBe(
      "VP cosine SDE: offset must be a finite number ≥ 0, got offset=-0.1",
    );
    expect(leftMessage(veSde({ sigmaMin: 50, sigmaMax: 0.01 }))).toBe(
      "VE SDE: sigmaMax must be > sigmaMin, got sigmaMin=50, sigmaMax=0.01",
    );
    expect(leftMessage(veSde({ tMin: 0 }))).toBe("VE SDE: tMin must be a finite number > 0, got tMin=0");
    expect(leftMessage(edmSde({ sigmaMax: Number.POSITIVE_INFINITY }))).toBe(
      "EDM SDE: sigmaMax must be a finite number > 0, got sigmaMax=Infinity",
    );
    expect(leftMessage(edmSde({ sigmaMin: 1, sigmaMax: 1 }))).toBe(
      "EDM SDE: sigmaMax must be > sigmaMin, got sigmaMin=1, sigmaMax=1",
    );
  });
  it("treats an explicit undefined as the default", () => {
    expect(E.isRight(vpSde({ betaMin: undefined }))).toBe(true);
  });
});
