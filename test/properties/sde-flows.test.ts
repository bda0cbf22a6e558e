import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { float64Space } from "../../src/core/tensor.js";
import { probabilityFlow } from "../../src/ode/index.js";
import { edmSde, reverseSde, subVpSde, toSde, veSde, vpCosineSde, vpSde } from "../../src/sde/index.js";

const builtins = [vpSde(), vpCosineSde(), subVpSde(), veSde(), edmSde()].map(orThrow);

/** A built-in SDE, a data scale c (data N(0, c²I)), a time u ∈ [0.05, 0.95] of its domain and a point x. */
const input = fc.record({
  sde: fc.constantFrom(...builtins),
  c: fc.double({ min: 0.05, max: 20, noNaN: true }),
  u: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
  x: fc.float64Array({ minLength: 1, maxLength: 4, min: -10, max: 10, noNaN: true }),
});

describe("reverse SDE and probability flow for Gaussian data (score −x/v_t, v_t = s²c² + σ²)", () => {
  it("reverse drift = f − g²·score, flow = f − ½g²·score, and the flow's variance law is the SDE's", () => {
    fc.assert(
      fc.property(input, ({ sde, c, u, x }) => {
        const t = sde.tMin + u * (sde.tMax - sde.tMin);
        const variance = (s: number): number => sde.scale(s) ** 2 * c * c + sde.std(s) ** 2;
        const score = (y: Float64Array, s: number): Float64Array => y.map((yi) => -yi / variance(s));
        const forward = toSde(float64Space)(sde);
        const g2 = sde.g(t) ** 2;
        const reverse = reverseSde(float64Space, forward, score).drift(x, t);
        const field = probabilityFlow(float64Space, forward, score).vectorField(x, t);
        for (let i = 0; i < x.length; i++) {
          const size = Math.abs(sde.f(t) * x[i]) + (g2 * Math.abs(x[i])) / variance(t) + 1e-300;
          expect(Math.abs(reverse[i] - (sde.f(t) + g2 / variance(t)) * x[i])).toBeLessThan(1e-14 * size);
          expect(Math.abs(field[i] - (sde.f(t) + (0.5 * g2) / variance(t)) * x[i])).toBeLessThan(
            1e-14 * size,
          );
        }
        // dv/dt = c²·d(s²)/dt + dσ²/dt by central differences, each term differenced on its own so that the
        // constant c² of VE/EDM does not swamp it; h = 10⁻⁴·min(t, 1, distance to cosine's pole at t = 1)
        // keeps truncation ≲ 2·10⁻⁹ and roundoff ≲ 10⁻¹⁰ relative.
        const pole = sde.name === "VP cosine" ? 1 - t : Number.POSITIVE_INFINITY;
        const h = 1e-4 * Math.min(t, 1, pole);
        const diff = (q: (s: number) => number): number => (q(t + h) - q(t - h)) / (2 * h);
        const dvdt = c * c * diff((s) => sde.scale(s) ** 2) + diff((s) => sde.std(s) ** 2);
        const implied = 2 * (sde.f(t) + (0.5 * g2) / variance(t)) * variance(t);
        expect(Math.abs(implied - dvdt)).toBeLessThan(1e-6 * (Math.abs(2 * sde.f(t) * variance(t)) + g2));
      }),
      { numRuns: 300 },
    );
  });
});
