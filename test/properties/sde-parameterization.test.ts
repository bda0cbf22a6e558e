import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { convertCoefficients, type Parameterization } from "../../src/sde/index.js";

const all: readonly Parameterization[] = ["eps", "x0", "v", "score"];
const parameterization = fc.constantFrom(...all);
const point = fc.record({
  scale: fc.double({ min: 1e-3, max: 10, noNaN: true }),
  std: fc.double({ min: 1e-3, max: 100, noNaN: true }),
  x0: fc.double({ min: -10, max: 10, noNaN: true }),
  eps: fc.double({ min: -10, max: 10, noNaN: true }),
});

/** Every target at x = s·x₀ + σ·ε, from its definition. */
const targets = (p: {
  scale: number;
  std: number;
  x0: number;
  eps: number;
}): Record<Parameterization, number> => {
  const r = Math.hypot(p.scale, p.std);
  return { eps: p.eps, x0: p.x0, score: -p.eps / p.std, v: (p.scale * p.eps - p.std * p.x0) / r };
};

/**
 * |a − b| against the size of the terms that produced it (float64 rounding of a short affine sum), with an
 * absolute floor for subnormal inputs, whose relative precision is lost.
 */
const close = (a: number, b: number, size: number): boolean =>
  Math.abs(a - b) <= 1e-12 * (size + Math.abs(b)) + 1e-290;

describe("parameterization converters", () => {
  it("match the definitions ε, x₀ = (x − σε)/s, score = −ε/σ, v = (sε − σx₀)/√(s² + σ²)", () => {
    fc.assert(
      fc.property(point, parameterization, parameterization, (p, from, to) => {
        const x = p.scale * p.x0 + p.std * p.eps;
        const t = targets(p);
        const { cx, cp } = convertCoefficients(from, to, p);
        return close(cx * x + cp * t[from], t[to], Math.abs(cx * x) + Math.abs(cp * t[from]));
      }),
      { numRuns: 1000 },
    );
  });
  it("round-trip: from → to → from is the identity", () => {
    fc.assert(
      fc.property(point, parameterization, parameterization, (p, from, to) => {
        const x = p.scale * p.x0 + p.std * p.eps;
        const pred = targets(p)[from];
        const there = convertCoefficients(from, to, p);
        const back = convertCoefficients(to, from, p);
        const mid = there.cx * x + there.cp * pred;
        const size =
          Math.abs(back.cx * x) + Math.abs(back.cp * mid) + Math.abs(back.cp) * Math.abs(there.cx * x);
        expect(close(back.cx * x + back.cp * mid, pred, size)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
