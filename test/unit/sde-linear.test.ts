import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import {
  edmSde,
  type LinearSde,
  linearSde,
  noiseLevel,
  subVpSde,
  veSde,
  vpCosineSde,
  vpSde,
} from "../../src/sde/index.js";

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
const fromCoefficients = (sde: LinearSde): LinearSde =>
  orThrow(linearSde({ name: `custom ${sde.name}`, f: sde.f, g: sde.g, tMin: sde.tMin, tMax: sde.tMax }));
const leftMessage = (r: E.Either<{ message: string }, unknown>): string =>
  E.isLeft(r) ? r.left.message : "expected a Left";

const builtins = [vpSde(), vpCosineSde(), subVpSde(), veSde(), edmSde()].map(orThrow);

describe("linearSde reproduces every built-in from f and g alone", () => {
  it.each(builtins.map((sde) => [sde.name, sde] as const))(
    "%s: s, σ to 1e-8 (observed ≲ 1e-12)",
    (_, sde) => {
      const custom = fromCoefficients(sde);
      // A geometric grid towards tMin and a dense one towards tMax (where cosine's β ≈ 2000).
      const times = [0, sde.tMin, sde.tMax];
      for (let i = 1; i < 40; i++) {
        times.push(sde.tMin * (sde.tMax / sde.tMin) ** (i / 40), sde.tMax - (sde.tMax - sde.tMin) * 2 ** -i);
      }
      for (const t of times) {
        expect(relErr(custom.scale(t), sde.scale(t))).toBeLessThan(1e-8);
        if (t > 0) expect(relErr(custom.std(t), sde.std(t))).toBeLessThan(1e-8);
        else expect(custom.std(t)).toBe(0);
        if (t > 0) expect(relErr(custom.timeOfNoiseLevel(noiseLevel(sde, t)), t)).toBeLessThan(1e-10);
      }
      expect(relErr(custom.priorStd, sde.std(sde.tMax))).toBeLessThan(1e-10);
      expect([custom.name, custom.tMin, custom.tMax, custom.f, custom.g]).toEqual([
        `custom ${sde.name}`,
        sde.tMin,
        sde.tMax,
        sde.f,
        sde.g,
      ]);
    },
  );

  it("VE: σ² spanning 7 orders of magnitude keeps its relative accuracy", () => {
    const ve = builtins[3];
    const custom = fromCoefficients(ve);
    expect(ve.std(ve.tMax) ** 2 / ve.std(ve.tMin) ** 2).toBeGreaterThan(1e7);
    for (const t of [1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1])
      expect(relErr(custom.std(t), ve.std(t))).toBeLessThan(1e-11);
  });

  it("cosine near tMax = 0.999 (β ≈ 2000, s ≈ 1.5·10⁻³)", () => {
    const cos = builtins[1];
    const custom = fromCoefficients(cos);
    for (const t of [0.99, 0.998, 0.9989, 0.999]) {
      expect(relErr(custom.scale(t), cos.scale(t))).toBeLessThan(1e-11);
      expect(relErr(custom.std(t), cos.std(t))).toBeLessThan(1e-11);
    }
  });

  it("answers a query in well under a millisecond", () => {
    const custom = fromCoefficients(builtins[1]);
    const n = 500;
    const start = performance.now();
    let sink = 0;
    for (let i = 0; i < n; i++) sink += custom.std(custom.tMin + ((custom.tMax - custom.tMin) * i) / n);
    const perQuery = (performance.now() - start) / n;
    expect(sink).toBeGreaterThan(0);
    expect(perQuery).toBeLessThan(0.25);
  });
});

describe("linearSde on its own", () => {
  it("integrates a piecewise-constant g across its jump: σ² = t, then ½ + 4(t − ½)", () => {
    const sde = orThrow(
      linearSde({ name: "jump", f: () => 0, g: (t) => (t < 0.5 ? 1 : 2), tMin: 0.01, tMax: 1 }),
    );
    expect(relErr(sde.std(0.25) ** 2, 0.25)).toBeLessThan(1e-12);
    expect(relErr(sde.std(0.75) ** 2, 1.5)).toBeLessThan(1e-12);
    expect(relErr(sde.timeOfNoiseLevel(Math.sqrt(1.5)), 0.75)).toBeLessThan(1e-12);
  });
  it("Ornstein–Uhlenbeck dx = −x dt + √2 dw: s = e^{−t}, σ² = 1 − e^{−2t}", () => {
    const ou = orThrow(linearSde({ name: "OU", f: () => -1, g: () => Math.SQRT2, tMin: 1e-3, tMax: 5 }));
    for (const t of [1e-6, 0.1, 1, 5]) {
      expect(relErr(ou.scale(t), Math.exp(-t))).toBeLessThan(1e-13);
      expect(relErr(ou.std(t), Math.sqrt(-Math.expm1(-2 * t)))).toBeLessThan(1e-12);
    }
  });
  it("maps noise levels outside (0, σ̃(tMax)) to the ends of [0, tMax]", () => {
    const ou = orThrow(linearSde({ name: "OU", f: () => -1, g: () => Math.SQRT2, tMin: 1e-3, tMax: 5 }));
    expect(ou.timeOfNoiseLevel(0)).toBe(0);
    expect(ou.timeOfNoiseLevel(1e10)).toBe(5);
    expect(ou.timeOfNoiseLevel(Number.NaN)).toBeNaN();
    expect(relErr(ou.timeOfNoiseLevel(1e-7), 0.5e-14)).toBeLessThan(1e-10);
  });
  it("keeps a given prior std", () => {
    const sde = orThrow(
      linearSde({
        name: "EDM-like",
        f: () => 0,
        g: (t) => Math.sqrt(2 * t),
        tMin: 0.1,
        tMax: 2,
        priorStd: 3,
      }),
    );
    expect(sde.priorStd).toBe(3);
  });
});

describe("linearSde validation", () => {
  const base = { name: "x", f: () => 0, g: () => 1, tMin: 0.01, tMax: 1 };
  it.each([
    [{ name: "" }, 'linear SDE: name must be a non-empty string, got name=""'],
    [{ tMin: 2 }, "linear SDE: tMax must be > tMin, got tMin=2, tMax=1"],
    [{ tMax: Number.NaN }, "linear SDE: tMax must be a finite number > 0, got tMax=NaN"],
    [
      { f: (t: number) => (t > 0.5 ? Number.NaN : 0) },
      "linear SDE: f must be finite on [0, tMax], got f(0.5078125)=NaN",
    ],
    [{ g: () => -1 }, "linear SDE: g must be finite and ≥ 0 on [0, tMax], got g(0)=-1"],
    [
      { g: () => Number.POSITIVE_INFINITY },
      "linear SDE: g must be finite and ≥ 0 on [0, tMax], got g(0)=Infinity",
    ],
    [{ priorStd: 0 }, "linear SDE: priorStd must be a finite number > 0, got priorStd=0"],
  ])("%o → %s", (override, message) => {
    expect(leftMessage(linearSde({ ...base, ...override }))).toBe(message);
  });
  it("rejects a noise level that does not grow", () => {
    expect(leftMessage(linearSde({ ...base, g: () => 0 }))).toBe(
      "linear SDE: g must make the noise level σ(t)/s(t) positive and strictly increasing on [tMin, tMax], got σ(tMin)/s(tMin)=0",
    );
    const stalls = linearSde({ ...base, g: (t) => (t > 0.25 && t < 0.75 ? 0 : 1) });
    expect(leftMessage(stalls)).toMatch(
      /^linear SDE: g must make the noise level .* got σ\(t\)\/s\(t\) constant on \[0\.25/,
    );
  });
  it("rejects s(t) outside float64 range", () => {
    expect(leftMessage(linearSde({ ...base, f: () => -1e3 }))).toMatch(
      /^linear SDE: g must be finite with ∫₀ᵗ g²\/s² finite on \[0, tMax\], got ∫g²\/s²=Infinity on \[/,
    );
    expect(leftMessage(linearSde({ ...base, f: () => 1e3 }))).toMatch(
      /^linear SDE: f must keep s\(t\) = exp ∫₀ᵗ f within float64 range/,
    );
  });
  it("rejects f that is not finite between the probe points", () => {
    const f = (t: number): number => (Math.abs(t - 0.3) < 1e-3 ? Number.NaN : 0);
    expect(leftMessage(linearSde({ ...base, f }))).toMatch(
      /^linear SDE: f must be finite on \[0, tMax\], got ∫f=NaN on \[/,
    );
  });
});
