import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { float64Space } from "../../src/core/tensor.js";
import { reverseSde, toSde, vpSde } from "../../src/sde/index.js";

// Data N(0, c²I) under the VP SDE: p_t = N(0, v_t·I), v_t = s(t)²c² + σ(t)², so ∇ log p_t(x) = −x/v_t.
const vp = orThrow(vpSde());
const c = 1.7;
const variance = (t: number): number => vp.scale(t) ** 2 * c * c + vp.std(t) ** 2;
const score = (x: Float64Array, t: number): Float64Array => x.map((xi) => -xi / variance(t));

describe("reverseSde", () => {
  const reverse = reverseSde(float64Space, toSde(float64Space)(vp), score);
  it("has drift f(x, t) − g(t)²·∇ log p_t(x) = (f + g²/v_t)·x and the forward diffusion", () => {
    const x = new Float64Array([0.3, -1.2, 2.5]);
    for (const t of [vp.tMin, 0.1, 0.5, vp.tMax]) {
      const drift = reverse.drift(x, t);
      const coefficient = vp.f(t) + vp.g(t) ** 2 / variance(t);
      for (let i = 0; i < x.length; i++) expect(drift[i]).toBeCloseTo(coefficient * x[i], 13);
      expect(reverse.diffusion(t)).toBe(vp.g(t));
    }
  });
  it("keeps the time domain and names itself", () => {
    expect([reverse.name, reverse.tMin, reverse.tMax]).toEqual(["reverse VP", vp.tMin, vp.tMax]);
  });
  it("run backwards, its drift carries the marginal variance back: d v/d(−t) = −2(f + g²/v)v + g²", () => {
    // Itô for the reverse SDE in reversed time τ = T − t: dv/dτ = −2·(f + g²/v)·v + g² = −(2f v + g²) = −dv/dt.
    const t = 0.4;
    const h = 1e-5;
    const dvdt = (variance(t + h) - variance(t - h)) / (2 * h);
    const coefficient = vp.f(t) + vp.g(t) ** 2 / variance(t);
    const dvdtau = -2 * coefficient * variance(t) + vp.g(t) ** 2;
    expect(Math.abs(dvdtau + dvdt)).toBeLessThan(1e-7 * Math.abs(dvdt));
  });
});
