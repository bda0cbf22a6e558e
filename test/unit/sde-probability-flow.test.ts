import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { float64Space } from "../../src/core/tensor.js";
import { probabilityFlow } from "../../src/ode/index.js";
import { toSde, vpSde } from "../../src/sde/index.js";

// Data N(0, c²I) under the VP SDE: p_t = N(0, v_t·I), v_t = s(t)²c² + σ(t)², so ∇ log p_t(x) = −x/v_t.
const vp = orThrow(vpSde());
const c = 0.6;
const variance = (t: number): number => vp.scale(t) ** 2 * c * c + vp.std(t) ** 2;
const score = (x: Float64Array, t: number): Float64Array => x.map((xi) => -xi / variance(t));
const flow = probabilityFlow(float64Space, toSde(float64Space)(vp), score);

describe("probabilityFlow", () => {
  it("has vector field f(x, t) − ½g(t)²·∇ log p_t(x) = (f + ½g²/v_t)·x", () => {
    const x = new Float64Array([0.3, -1.2]);
    for (const t of [vp.tMin, 0.3, vp.tMax]) {
      const field = flow.vectorField(x, t);
      const coefficient = vp.f(t) + (0.5 * vp.g(t) ** 2) / variance(t);
      for (let i = 0; i < x.length; i++) expect(field[i]).toBeCloseTo(coefficient * x[i], 13);
    }
    expect([flow.name, flow.tMin, flow.tMax]).toEqual(["probability flow VP", vp.tMin, vp.tMax]);
  });

  it("transports the marginal: dv/dt = 2·(f + ½g²/v)·v, and would not without the ½", () => {
    for (const t of [0.05, 0.3, 0.8]) {
      const h = 1e-5;
      const dvdt = (variance(t + h) - variance(t - h)) / (2 * h);
      const implied = 2 * flow.vectorField(new Float64Array([1]), t)[0] * variance(t);
      expect(Math.abs(implied - dvdt)).toBeLessThan(1e-7 * Math.abs(dvdt));
      const withoutHalf = 2 * (vp.f(t) + vp.g(t) ** 2 / variance(t)) * variance(t);
      expect(Math.abs(withoutHalf - dvdt)).toBeGreaterThan(0.1 * Math.abs(dvdt));
    }
  });

  it("RK4 along the flow carries a point at √v(tMin) to √v(tMax) (linear flow: x_t/√v_t is constant)", () => {
    const steps = 2000;
    let x = new Float64Array([Math.sqrt(variance(vp.tMin))]);
    const at = (k: number): number => vp.tMin + ((vp.tMax - vp.tMin) * k) / steps;
    const axpy = (a: Float64Array, k: number, b: Float64Array): Float64Array =>
      a.map((ai, i) => ai + k * b[i]);
    for (let k = 0; k < steps; k++) {
      const [t0, t1] = [at(k), at(k + 1)];
      const h = t1 - t0;
      const k1 = flow.vectorField(x, t0);
      const k2 = flow.vectorField(axpy(x, h / 2, k1), t0 + h / 2);
      const k3 = flow.vectorField(axpy(x, h / 2, k2), t0 + h / 2);
      const k4 = flow.vectorField(axpy(x, h, k3), t1);
      x = x.map((xi, i) => xi + (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
    }
    expect(Math.abs(x[0] / Math.sqrt(variance(vp.tMax)) - 1)).toBeLessThan(1e-10);
  });
});
