import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { edmSde, marginal, subVpSde, transition, veSde, vpCosineSde, vpSde } from "../../src/sde/index.js";

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
const builtins = [vpSde(), vpCosineSde(), subVpSde(), veSde(), edmSde()].map(orThrow);

/** 0 ≤ s < t ≤ tMax, with s sometimes within 10⁻¹² of t (where the variance difference would cancel). */
const pairs = fc
  .tuple(
    fc.constantFrom(...builtins),
    fc.double({ min: 1e-6, max: 1, noNaN: true }),
    fc.oneof(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer({ min: 1, max: 12 }).map((k) => 1 - 10 ** -k),
    ),
  )
  .map(([sde, u, w]) => {
    const t = u * sde.tMax;
    return { sde, s: w * t, t };
  });

describe("transition ∘ marginal = marginal", () => {
  it("scales multiply and variances add after scaling: s(t) = a·s(s), σ(t)² = a²σ(s)² + v", () => {
    fc.assert(
      fc.property(pairs, ({ sde, s, t }) => {
        const tr = transition(sde, s, t);
        const ms = marginal(sde, s);
        const mt = marginal(sde, t);
        expect(relErr(tr.scale * ms.scale, mt.scale)).toBeLessThan(1e-14);
        expect(relErr(tr.scale ** 2 * ms.std ** 2 + tr.std ** 2, mt.std ** 2)).toBeLessThan(1e-12);
      }),
      { numRuns: 400 },
    );
  });
  it("transitions compose: (s → u) then (u → t) equals (s → t)", () => {
    fc.assert(
      fc.property(pairs, fc.double({ min: 0, max: 1, noNaN: true }), ({ sde, s, t }, w) => {
        const u = s + w * (t - s);
        const first = transition(sde, s, u);
        const second = transition(sde, u, t);
        const whole = transition(sde, s, t);
        expect(relErr(first.scale * second.scale, whole.scale)).toBeLessThan(1e-13);
        if (whole.std > 0) {
          const composed = second.scale ** 2 * first.std ** 2 + second.std ** 2;
          expect(relErr(composed, whole.std ** 2)).toBeLessThan(1e-9);
        }
      }),
      { numRuns: 300 },
    );
  });
});
