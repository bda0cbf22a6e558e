import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import type { Parameters } from "../../src/nets/network.js";
import {
  adamConfig,
  adamInit,
  adamStep,
  adamWConfig,
  clipGradNorm,
  edmEmaDecay,
  edmEmaOptions,
  emaDecay,
  emaDecayOptions,
  emaHalfLifeDecay,
  emaUpdate,
  learningRate,
  warmupConstantSchedule,
  warmupCosineSchedule,
} from "../../src/nets/optim/index.js";

const t32 = (values: readonly number[], shape: readonly number[] = [values.length]): Tensor => ({
  shape,
  data: Float32Array.from(values),
});

const params = (entries: Record<string, readonly number[]>): Parameters =>
  new Map(Object.entries(entries).map(([k, v]) => [k, t32(v)]));

const values = (map: Parameters, name: string): number[] => Array.from(map.get(name)?.data ?? []);

/** Deep copy of a parameter map, to check that nothing was mutated. */
const snapshot = (map: Parameters): Record<string, number[]> =>
  Object.fromEntries([...map].map(([k, v]) => [k, Array.from(v.data)]));

describe("adamConfig / adamWConfig", () => {
  it("uses PyTorch's defaults", () => {
    expect(orThrow(adamConfig())).toEqual({
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      decoupled: false,
    });
    expect(orThrow(adamWConfig())).toEqual({
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.01,
      decoupled: true,
    });
  });

  it("overrides only the given fields; an explicit undefined keeps the default", () => {
    const c = orThrow(adamConfig({ lr: 2e-4, beta2: undefined, weightDecay: 0.1 }));
    expect(c.lr).toBe(2e-4);
    expect(c.beta2).toBe(0.999);
    expect(c.weightDecay).toBe(0.1);
    expect(c.decoupled).toBe(false);
  });

  it.each([
    ["lr", { lr: 0 }],
    ["lr", { lr: Number.NaN }],
    ["lr", { lr: Number.POSITIVE_INFINITY }],
    ["beta1", { beta1: 1 }],
    ["beta1", { beta1: -0.1 }],
    ["beta2", { beta2: 1 }],
    ["eps", { eps: 0 }],
    ["weightDecay", { weightDecay: -1e-3 }],
  ])("rejects a bad %s", (field, partial) => {
    const result = adamWConfig(partial);
    expect(E.isLeft(result) && result.left.field).toBe(field);
    expect(E.isLeft(result) && result.left.context).toBe("AdamW");
  });

  it("accepts β = 0", () => {
    expect(E.isRight(adamConfig({ beta1: 0, beta2: 0 }))).toBe(true);
  });
});

describe("adamInit", () => {
  it("starts at step 0 with zero moments shaped like the parameters", () => {
    const p = new Map([["w", t32([1, 2, 3, 4, 5, 6], [2, 3])]]);
    const s = adamInit(p);
    expect(s.step).toBe(0);
    expect(s.m.get("w")?.shape).toEqual([2, 3]);
    expect(Array.from(s.v.get("w")?.data ?? [])).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe("adamStep", () => {
  it("first step: θ − lr·g/(|g| + ε), by hand", () => {
    const config = orThrow(adamConfig({ lr: 0.1 }));
    const p = params({ w: [1, -2, 0.5] });
    const g = params({ w: [3, -0.25, 1e-9] });
    const { params: next, state } = adamStep(config, adamInit(p), p, g);
    const expected = [1 - 0.1, -2 + 0.1, 0.5 - (0.1 * 1e-9) / (1e-9 + 1e-8)];
    values(next, "w").forEach((x, i) => {
      expect(x).toBeCloseTo(expected[i], 6);
    });
    expect(state.step).toBe(1);
    // m₁ = (1 − β₁)·g, v₁ = (1 − β₂)·g², stored in float32.
    expect(values(state.m, "w")[0]).toBe(Math.fround(0.1 * 3));
    expect(values(state.v, "w")[0]).toBe(Math.fround(0.001 * 9));
  });

  it("second step by hand (bias corrections 1 − β₁², 1 − β₂²)", () => {
    const config = orThrow(adamConfig({ lr: 0.01 }));
    const p = params({ w: [0] });
    const s1 = adamStep(config, adamInit(p), p, params({ w: [1] }));
    const s2 = adamStep(config, s1.state, s1.params, params({ w: [-1] }));
    const m = 0.9 * 0.1 - 0.1;
    const v = 0.999 * 0.001 + 0.001;
    const mHat = m / (1 - 0.9 ** 2);
    const vHat = v / (1 - 0.999 ** 2);
    const expected = -0.01 - (0.01 * mHat) / (Math.sqrt(vHat) + 1e-8);
    expect(values(s2.params, "w")[0]).toBeCloseTo(expected, 7);
    expect(s2.state.step).toBe(2);
  });

  it("converges on a badly scaled convex quadratic (with a cosine-decayed rate)", () => {
    // f(θ) = ½ Σ aᵢ (θᵢ − cᵢ)², ∇f = a ⊙ (θ − c); condition number 10⁴.
    const a = [1e-2, 1, 10, 100];
    const c = [3, -1, 0.5, 2];
    const config = orThrow(adamConfig());
    const schedule = orThrow(warmupCosineSchedule({ baseLr: 0.1, warmupSteps: 10, totalSteps: 3000 }));
    let p: Parameters = params({ x: [0, 0, 0, 0] });
    let state = adamInit(p);
    for (let step = 0; step < 3000; step++) {
      const x = values(p, "x");
      const g = params({ x: x.map((xi, i) => a[i] * (xi - c[i])) });
      ({ params: p, state } = adamStep(config, state, p, g, learningRate(schedule, step)));
    }
    values(p, "x").forEach((xi, i) => {
      expect(Math.abs(xi - c[i])).toBeLessThan(1e-3);
    });
  });

  it("AdamW = Adam without decay, minus lr·λ·θ", () => {
    const p = params({ w: [1.5, -0.75, 3], b: [0.25] });
    const g = params({ w: [0.2, 0.1, -0.3], b: [2] });
    const lr = 0.05;
    const lambda = 0.3;
    const plain = adamStep(orThrow(adamConfig({ lr })), adamInit(p), p, g);
    const decoupled = adamStep(orThrow(adamWConfig({ lr, weightDecay: lambda })), adamInit(p), p, g);
    for (const name of ["w", "b"]) {
      const theta = values(p, name);
      const a = values(plain.params, name);
      values(decoupled.params, name).forEach((x, i) => {
        expect(Math.abs(x - (a[i] - lr * lambda * theta[i]))).toBeLessThan(1e-6);
      });
    }
    // The moments do not see the decoupled decay.
    expect(snapshot(decoupled.state.m)).toEqual(snapshot(plain.state.m));
    expect(snapshot(decoupled.state.v)).toEqual(snapshot(plain.state.v));
  });

  it("Adam's weight decay is an L2 term added to the gradient", () => {
    const p = params({ w: [1.5, -0.75, 3] });
    const g = params({ w: [0.2, 0.1, -0.3] });
    const lambda = 0.3;
    const l2 = adamStep(orThrow(adamConfig({ lr: 0.05, weightDecay: lambda })), adamInit(p), p, g);
    const theta = values(p, "w");
    const gPlus = params({ w: values(g, "w").map((gi, i) => gi + lambda * theta[i]) });
    const plain = adamStep(orThrow(adamConfig({ lr: 0.05 })), adamInit(p), p, gPlus);
    const expected = values(plain.params, "w");
    values(l2.params, "w").forEach((x, i) => {
      expect(x).toBeCloseTo(expected[i], 6);
    });
  });

  it("`lr` overrides the configured rate, in the decoupled decay too", () => {
    const p = params({ w: [1, 2] });
    const g = params({ w: [0.5, -0.5] });
    const viaOverride = adamStep(
      orThrow(adamWConfig({ lr: 0.1, weightDecay: 0.1 })),
      adamInit(p),
      p,
      g,
      0.02,
    );
    const viaConfig = adamStep(orThrow(adamWConfig({ lr: 0.02, weightDecay: 0.1 })), adamInit(p), p, g);
    expect(snapshot(viaOverride.params)).toEqual(snapshot(viaConfig.params));
  });

  it("leaves frozen parameters (no gradient) and their moments untouched", () => {
    const config = orThrow(adamWConfig({ lr: 0.1 }));
    const p = params({ w: [1, 2], frozen: [5, 6] });
    const s1 = adamStep(config, adamInit(p), p, params({ w: [1, 1], frozen: [1, 1] }));
    const s2 = adamStep(config, s1.state, s1.params, params({ w: [1, 1] }));
    expect(s2.params.get("frozen")).toBe(s1.params.get("frozen"));
    expect(s2.state.m.get("frozen")).toBe(s1.state.m.get("frozen"));
    expect(s2.state.v.get("frozen")).toBe(s1.state.v.get("frozen"));
    expect(values(s2.params, "w")).not.toEqual(values(s1.params, "w"));
    expect(s2.state.step).toBe(2);
  });

  it("does not mutate its inputs", () => {
    const config = orThrow(adamConfig({ weightDecay: 0.1 }));
    const p = params({ w: [1, 2, 3] });
    const g = params({ w: [0.1, -0.2, 0.3] });
    const s = adamStep(config, adamInit(p), p, g).state;
    const before = [snapshot(p), snapshot(g), snapshot(s.m), snapshot(s.v), s.step];
    adamStep(config, s, p, g);
    expect([snapshot(p), snapshot(g), snapshot(s.m), snapshot(s.v), s.step]).toEqual(before);
  });
});

describe("clipGradNorm", () => {
  it("scales by maxNorm/(‖g‖ + 10⁻⁶) above the threshold (PyTorch)", () => {
    const g = params({ a: [3], b: [0, 4] });
    const { gradients, norm } = clipGradNorm(g, 1);
    expect(norm).toBe(5);
    const c = 1 / (5 + 1e-6);
    expect(values(gradients, "a")).toEqual([Math.fround(3 * c)]);
    expect(values(gradients, "b")).toEqual([0, Math.fround(4 * c)]);
    expect(gradients.get("b")?.shape).toEqual([2]);
    expect(snapshot(g)).toEqual({ a: [3], b: [0, 4] });
  });

  it("returns the same gradients below the threshold", () => {
    const g = params({ a: [0.3], b: [0.4] });
    const clipped = clipGradNorm(g, 1);
    expect(clipped.gradients).toBe(g);
    expect(clipped.norm).toBeCloseTo(0.5, 7);
  });

  it("handles no gradients at all", () => {
    const g: Parameters = new Map();
    expect(clipGradNorm(g, 1)).toEqual({ gradients: g, norm: 0 });
  });
});

describe("emaUpdate", () => {
  it("ema ← β·ema + (1 − β)·θ", () => {
    const next = emaUpdate(params({ w: [1, 2] }), params({ w: [3, -2] }), 0.75);
    expect(values(next, "w")).toEqual([1.5, 1]);
  });

  it("β = 0 copies θ, β = 1 keeps ema; names missing from θ pass through", () => {
    const ema = params({ w: [0.1, 0.2], buffer: [7] });
    const theta = params({ w: [0.3, -0.7] });
    expect(values(emaUpdate(ema, theta, 0), "w")).toEqual(values(theta, "w"));
    expect(values(emaUpdate(ema, theta, 1), "w")).toEqual(values(ema, "w"));
    expect(emaUpdate(ema, theta, 0.5).get("buffer")).toBe(ema.get("buffer"));
    expect(snapshot(ema)).toEqual({ w: [Math.fround(0.1), Math.fround(0.2)], buffer: [7] });
  });
});

describe("emaDecay (diffusers EMAModel.get_decay)", () => {
  it("without warm-up: 0 for the first update, then the fixed decay", () => {
    const o = orThrow(emaDecayOptions());
    expect(emaDecay(o, 1)).toBe(0);
    expect(emaDecay(o, 2)).toBe(0.9999);
    expect(emaDecay(o, 10 ** 6)).toBe(0.9999);
  });

  it("with warm-up: 1 − (1 + s/γ)^−p at hand-computed steps", () => {
    const o = orThrow(emaDecayOptions({ useWarmup: true }));
    expect(emaDecay(o, 2)).toBeCloseTo(1 - 2 ** (-2 / 3), 15); // s = 1: 0.370039…
    expect(emaDecay(o, 2)).toBeCloseTo(0.3700394750525634, 15);
    expect(emaDecay(o, 1001)).toBeCloseTo(1 - 1001 ** (-2 / 3), 15); // s = 1000: ≈ 0.99000
    // crowsonkb's notes: power 2/3 reaches 0.999 at ≈ 31.6k steps, power 3/4 at 10k steps.
    expect(emaDecay(o, 31_623)).toBeCloseTo(0.999, 5);
    const o34 = orThrow(emaDecayOptions({ useWarmup: true, power: 3 / 4 }));
    expect(emaDecay(o34, 10_001)).toBeCloseTo(0.999, 5);
    // Capped at `decay` far out.
    expect(emaDecay(o, 10 ** 9)).toBe(0.9999);
  });

  it("waits `updateAfterStep` updates and honours minDecay and invGamma", () => {
    const o = orThrow(emaDecayOptions({ useWarmup: true, updateAfterStep: 5, minDecay: 0.5, invGamma: 2 }));
    for (let step = 1; step <= 6; step++) expect(emaDecay(o, step)).toBe(0);
    expect(emaDecay(o, 7)).toBe(0.5); // 1 − 1.5^(−2/3) ≈ 0.237 < minDecay
    expect(emaDecay(o, 106)).toBeCloseTo(1 - 51 ** (-2 / 3), 15); // s = 100, s/γ = 50
  });

  it.each([
    ["decay", { decay: 1.5 }],
    ["minDecay", { minDecay: -0.1 }],
    ["decay", { decay: 0.5, minDecay: 0.6 }],
    ["updateAfterStep", { updateAfterStep: 1.5 }],
    ["invGamma", { invGamma: 0 }],
    ["power", { power: -1 }],
  ])("rejects a bad %s", (field, partial) => {
    const result = emaDecayOptions(partial);
    expect(E.isLeft(result) && result.left.field).toBe(field);
  });
});

describe("EDM half-life EMA", () => {
  it("β = 0.5^(B/H)", () => {
    expect(emaHalfLifeDecay(512, 512)).toBe(0.5);
    expect(emaHalfLifeDecay(512, 500_000)).toBe(0.5 ** (512 / 500_000));
    expect(emaHalfLifeDecay(512, 0)).toBe(0);
  });

  it("ramps the half-life up as min(H, r·samples seen)", () => {
    const o = orThrow(edmEmaOptions());
    expect(o).toEqual({ halfLifeSamples: 500_000, rampupRatio: 0.05 });
    expect(edmEmaDecay(o, 512, 0)).toBe(0);
    expect(edmEmaDecay(o, 512, 1_000_000)).toBe(0.5 ** (512 / 50_000));
    expect(edmEmaDecay(o, 512, 100_000_000)).toBe(0.5 ** (512 / 500_000));
    const noRampup = orThrow(edmEmaOptions({ halfLifeSamples: 1000, rampupRatio: undefined }));
    expect(edmEmaDecay(noRampup, 100, 0)).toBe(0.5 ** 0.1);
  });

  it("rejects bad options", () => {
    const h = edmEmaOptions({ halfLifeSamples: 0 });
    expect(E.isLeft(h) && h.left.field).toBe("halfLifeSamples");
    const r = edmEmaOptions({ rampupRatio: -1 });
    expect(E.isLeft(r) && r.left.field).toBe("rampupRatio");
  });
});

describe("learning-rate schedules", () => {
  it("DDPM warm-up: 0 → 2·10⁻⁴ over 5000 steps, then constant", () => {
    const s = orThrow(warmupConstantSchedule({ baseLr: 2e-4, warmupSteps: 5000 }));
    expect(learningRate(s, 0)).toBe(0);
    expect(learningRate(s, 2500)).toBeCloseTo(1e-4, 18);
    expect(learningRate(s, 4999)).toBeCloseTo((2e-4 * 4999) / 5000, 18);
    expect(learningRate(s, 5000)).toBe(2e-4);
    expect(learningRate(s, 800_000)).toBe(2e-4);
  });

  it("no warm-up: the base rate from step 0", () => {
    const s = orThrow(warmupConstantSchedule({ baseLr: 1e-3, warmupSteps: 0 }));
    expect(learningRate(s, 0)).toBe(1e-3);
  });

  it("cosine: peak at W, midpoint at (W + T)/2, floor at T and after", () => {
    const s = orThrow(warmupCosineSchedule({ baseLr: 1, warmupSteps: 10, totalSteps: 110, minLr: 0.1 }));
    expect(learningRate(s, 5)).toBe(0.5);
    expect(learningRate(s, 10)).toBe(1);
    expect(learningRate(s, 60)).toBeCloseTo(0.55, 15);
    expect(learningRate(s, 110)).toBeCloseTo(0.1, 15);
    expect(learningRate(s, 1000)).toBeCloseTo(0.1, 15);
    expect(orThrow(warmupCosineSchedule({ baseLr: 1, warmupSteps: 0, totalSteps: 4 })).minLr).toBe(0);
  });

  it("rejects bad schedules", () => {
    const cases = [
      [warmupConstantSchedule({ baseLr: 0, warmupSteps: 1 }), "baseLr"],
      [warmupConstantSchedule({ baseLr: 1, warmupSteps: -1 }), "warmupSteps"],
      [warmupConstantSchedule({ baseLr: 1, warmupSteps: 2.5 }), "warmupSteps"],
      [warmupCosineSchedule({ baseLr: 1, warmupSteps: 10, totalSteps: 10 }), "totalSteps"],
      [warmupCosineSchedule({ baseLr: 1, warmupSteps: 0, totalSteps: 10, minLr: 2 }), "baseLr"],
      [warmupCosineSchedule({ baseLr: 1, warmupSteps: 0, totalSteps: 10, minLr: -1 }), "minLr"],
    ] as const;
    for (const [result, field] of cases) expect(E.isLeft(result) && result.left.field).toBe(field);
  });
});
