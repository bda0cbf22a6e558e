import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { gridKarras, gridQuadratic, gridUniform, gridUniformIn } from "../../src/solvers/index.js";

/** Distinct finite endpoints of moderate size and a step count. */
const interval = fc
  .record({
    t0: fc.double({ min: -1e3, max: 1e3, noNaN: true }),
    span: fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
    backwards: fc.boolean(),
    n: fc.integer({ min: 1, max: 300 }),
  })
  .map(({ t0, span, backwards, n }) => ({ t0, t1: backwards ? t0 - span : t0 + span, n }));

/** Length n + 1, exact endpoints, strictly monotone from t0 towards t1. */
const isGridFrom = (ts: Float64Array, t0: number, t1: number, n: number): boolean => {
  const direction = Math.sign(t1 - t0);
  if (ts.length !== n + 1 || ts[0] !== t0 || ts[n] !== t1) return false;
  for (let k = 1; k <= n; k++) if (Math.sign(ts[k] - ts[k - 1]) !== direction) return false;
  return true;
};

describe("time grids (properties)", () => {
  it("gridUniform: n + 1 points, exact endpoints, monotone, t_k = t0 + (t1 − t0)·k/n", () => {
    fc.assert(
      fc.property(interval, ({ t0, t1, n }) => {
        const r = gridUniform(t0, t1, n);
        if (E.isLeft(r)) return false;
        const ts = r.right;
        return isGridFrom(ts, t0, t1, n) && ts.every((t, k) => k === n || t === t0 + ((t1 - t0) * k) / n);
      }),
      { numRuns: 200 },
    );
  });

  it("gridQuadratic: n + 1 points, exact endpoints, monotone, steps growing away from t0", () => {
    fc.assert(
      fc.property(interval, ({ t0, t1, n }) => {
        const r = gridQuadratic(t0, t1, n);
        if (E.isLeft(r)) return false;
        const ts = r.right;
        const slack = 1e-9 * Math.abs(t1 - t0);
        for (let k = 2; k <= n; k++) {
          if (Math.abs(ts[k] - ts[k - 1]) + slack < Math.abs(ts[k - 1] - ts[k - 2])) return false;
        }
        return isGridFrom(ts, t0, t1, n);
      }),
      { numRuns: 200 },
    );
  });

  it("gridKarras: decreasing from σ_max to σ_min, σ_i^{1/ρ} linear in i (eq. 5), optional final 0", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        fc.double({ min: 1.01, max: 1e3, noNaN: true }),
        fc.double({ min: 0.5, max: 10, noNaN: true }),
        fc.integer({ min: 2, max: 200 }),
        fc.boolean(),
        (sigmaMin, ratio, rho, n, appendZero) => {
          const sigmaMax = sigmaMin * ratio;
          const r = gridKarras({ sigmaMin, sigmaMax, rho, n, appendZero });
          if (E.isLeft(r)) return false;
          const s = r.right;
          const N = appendZero ? n : n + 1;
          const a = sigmaMax ** (1 / rho);
          const b = sigmaMin ** (1 / rho);
          let ok =
            s.length === n + 1 && s[0] === sigmaMax && s[N - 1] === sigmaMin && (!appendZero || s[n] === 0);
          // Compared in ρ-space, where eq. 5 is linear: a + (b − a) loses ε·a absolutely, which the σ-space
          // relative error near σ_min ≪ σ_max would magnify.
          for (let i = 0; i < N; i++)
            ok &&= Math.abs(s[i] ** (1 / rho) - (a + (i / (N - 1)) * (b - a))) <= 1e-12 * a;
          for (let i = 1; i <= n; i++) ok &&= s[i] < s[i - 1];
          return ok;
        },
      ),
      { numRuns: 200 },
    );
  });

  it("gridUniformIn: φ(t_k) is uniform for φ = log (t > 0), either direction", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1, noNaN: true }),
        fc.double({ min: 1.5, max: 1e6, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        fc.boolean(),
        (lo, ratio, n, backwards) => {
          const [t0, t1] = backwards ? [lo * ratio, lo] : [lo, lo * ratio];
          const r = gridUniformIn(Math.log, Math.exp, t0, t1, n);
          if (E.isLeft(r)) return false;
          const p0 = Math.log(t0);
          const p1 = Math.log(t1);
          return (
            isGridFrom(r.right, t0, t1, n) &&
            r.right.every(
              (t, k) =>
                Math.abs(Math.log(t) - (p0 + ((p1 - p0) * k) / n)) <= 1e-12 * Math.max(1, Math.abs(p1 - p0)),
            )
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("any non-finite endpoint or bad n is a Left, never a NaN grid", () => {
    const bad = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
    fc.assert(
      fc.property(
        bad,
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.integer({ min: -5, max: 0 }),
        (x, t, n) => {
          expect(E.isLeft(gridUniform(x, t, 4))).toBe(true);
          expect(E.isLeft(gridQuadratic(t, x, 4))).toBe(true);
          expect(E.isLeft(gridUniform(t, t + 1, n))).toBe(true);
          expect(E.isLeft(gridKarras({ sigmaMin: 0.1, sigmaMax: x, n: 4 }))).toBe(true);
          expect(E.isLeft(gridKarras({ sigmaMin: 0.1, sigmaMax: 1, rho: x, n: 4 }))).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });
});
