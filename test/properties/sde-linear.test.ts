import fc from "fast-check";
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

/** Built-ins with random parameters (each property run builds one custom SDE, ≈ 1–10 ms). */
const builtin: fc.Arbitrary<LinearSde> = fc.oneof(
  fc
    .tuple(fc.double({ min: 0.01, max: 2, noNaN: true }), fc.double({ min: 0, max: 40, noNaN: true }))
    .map(([betaMin, span]) => orThrow(vpSde({ betaMin, betaMax: betaMin + span }))),
  fc
    .tuple(fc.double({ min: 0.01, max: 2, noNaN: true }), fc.double({ min: 0, max: 40, noNaN: true }))
    .map(([betaMin, span]) => orThrow(subVpSde({ betaMin, betaMax: betaMin + span }))),
  fc
    .tuple(fc.double({ min: 0, max: 0.1, noNaN: true }), fc.double({ min: 0.5, max: 0.999, noNaN: true }))
    .map(([offset, tMax]) => orThrow(vpCosineSde({ offset, tMax }))),
  fc
    .tuple(fc.double({ min: 1e-3, max: 1, noNaN: true }), fc.double({ min: 2, max: 1e5, noNaN: true }))
    .map(([sigmaMin, ratio]) => orThrow(veSde({ sigmaMin, sigmaMax: sigmaMin * ratio }))),
  fc
    .tuple(fc.double({ min: 1e-3, max: 0.1, noNaN: true }), fc.double({ min: 1, max: 200, noNaN: true }))
    .map(([sigmaMin, sigmaMax]) => orThrow(edmSde({ sigmaMin, sigmaMax }))),
);
const times = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 });

describe("linearSde(builtin.f, builtin.g)", () => {
  it("matches the built-in's s, σ and noise-level inverse to 1e-8 relative at random t ∈ [tMin, tMax]", () => {
    fc.assert(
      fc.property(builtin, times, (sde, us) => {
        const custom = orThrow(
          linearSde({ name: "custom", f: sde.f, g: sde.g, tMin: sde.tMin, tMax: sde.tMax }),
        );
        for (const u of us) {
          const t = sde.tMin + u * (sde.tMax - sde.tMin);
          expect(relErr(custom.scale(t), sde.scale(t))).toBeLessThan(1e-8);
          expect(relErr(custom.std(t), sde.std(t))).toBeLessThan(1e-8);
          expect(relErr(custom.timeOfNoiseLevel(noiseLevel(sde, t)), t)).toBeLessThan(1e-8);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe("linearSde validation", () => {
  const base = { name: "OU", f: () => -1, g: () => Math.SQRT2, tMin: 0.01, tMax: 2 };
  const bad = fc.oneof(
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0),
    fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
  );
  it("rejects NaN, ±Infinity, zero and negative tMin, tMax or priorStd with a Left naming the field", () => {
    fc.assert(
      fc.property(fc.constantFrom("tMin", "tMax", "priorStd"), bad, (field, value) => {
        const result = linearSde({ ...base, [field]: value });
        return (
          E.isLeft(result) && result.left.field === field && result.left.message.startsWith("linear SDE: ")
        );
      }),
      { numRuns: 100 },
    );
  });
  it("rejects f or g that return a non-finite value at a probe point, or a negative g", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("f", "g"),
        fc.integer({ min: 0, max: 128 }),
        fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1),
        (field, probe, value) => {
          const t0 = (base.tMax * probe) / 128;
          const broken = (t: number): number => (t === t0 ? value : field === "f" ? -1 : Math.SQRT2);
          const result = linearSde({ ...base, [field]: broken });
          const expected = field === "f" && value === -1 ? "right" : "left";
          return expected === "right" ? E.isRight(result) : E.isLeft(result) && result.left.field === field;
        },
      ),
      { numRuns: 100 },
    );
  });
});
