import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import type { Parameters } from "../../src/nets/network.js";
import {
  type AdamConfig,
  adamConfig,
  adamInit,
  adamStep,
  clipGradNorm,
  emaHalfLifeDecay,
  emaUpdate,
  learningRate,
  warmupCosineSchedule,
} from "../../src/nets/optim/index.js";

/** A float32 value in [−r, r] (fast-check's `float` draws 32-bit floats). */
const f32 = (r: number) => fc.float({ min: -r, max: r, noNaN: true, noDefaultInfinity: true });

const toMap = (entries: ReadonlyArray<readonly [string, readonly number[]]>): Parameters =>
  new Map(entries.map(([k, v]) => [k, { shape: [v.length], data: Float32Array.from(v) } satisfies Tensor]));

/** Sizes of two parameter tensors, then `count` same-shaped maps of values in [−r, r]. */
const mapsArb = (count: number, r: number) =>
  fc
    .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }))
    .chain(([n1, n2]) =>
      fc.array(
        fc.tuple(
          fc.array(f32(r), { minLength: n1, maxLength: n1 }),
          fc.array(f32(r), { minLength: n2, maxLength: n2 }),
        ),
        {
          minLength: count,
          maxLength: count,
        },
      ),
    )
    .map((pairs) =>
      pairs.map(([a, b]) =>
        toMap([
          ["w", a],
          ["b", b],
        ]),
      ),
    );

const configArb: fc.Arbitrary<AdamConfig> = fc
  .record({
    lr: fc.double({ min: 1e-4, max: 0.1, noNaN: true }),
    beta1: fc.double({ min: 0, max: 0.99, noNaN: true }),
    beta2: fc.double({ min: 0, max: 0.9999, noNaN: true }),
    eps: fc.double({ min: 1e-10, max: 1e-6, noNaN: true }),
    weightDecay: fc.double({ min: 0, max: 0.1, noNaN: true }),
    decoupled: fc.boolean(),
  })
  .map((partial) => orThrow(adamConfig(partial)));

/**
 * Step t of PyTorch's Adam/AdamW algorithm box (amsgrad off), transcribed literally in float64 on one
 * coordinate, first half: weight decay (decoupled: θ ← θ − γλθ; L2: g ← g + λθ), then the moments.
 */
const referenceMoments = (c: AdamConfig, theta: number, m: number, v: number, g0: number) => {
  const decoupled = c.weightDecay !== 0 && c.decoupled;
  const g = c.weightDecay !== 0 && !c.decoupled ? g0 + c.weightDecay * theta : g0;
  return {
    theta: decoupled ? theta - c.lr * c.weightDecay * theta : theta,
    m: c.beta1 * m + (1 - c.beta1) * g,
    v: c.beta2 * v + (1 - c.beta2) * g * g,
  };
};

/** Second half of the algorithm box: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), θ ← θ − γ·m̂/(√v̂ + ε). */
const referenceUpdate = (c: AdamConfig, t: number, theta: number, m: number, v: number): number => {
  const mHat = m / (1 - c.beta1 ** t);
  const vHat = v / (1 - c.beta2 ** t);
  return theta - (c.lr * mHat) / (Math.sqrt(vHat) + c.eps);
};

/**
 * |a − b| within `ulps` float32 roundings at magnitude `scale`: each rounding errs by at most 2⁻²⁴·|x| or, among
 * subnormals, by the spacing 2⁻¹⁴⁹.
 */
const close32 = (a: number, b: number, scale: number, ulps: number): boolean =>
  Math.abs(a - b) <= ulps * (2 ** -24 * scale + 2 ** -149);

/** All values of a map, in insertion order. */
const flat = (map: Parameters): number[] => [...map.values()].flatMap((t) => Array.from(t.data));

describe("Adam / AdamW properties", () => {
  it("agrees with a float64 transcription of PyTorch's algorithm, step after step, to float32 rounding", () => {
    fc.assert(
      fc.property(
        configArb,
        fc.integer({ min: 1, max: 6 }).chain((steps) => mapsArb(steps + 1, 4)),
        (config, [p0, ...grads]) => {
          let p = p0;
          let state = adamInit(p0);
          grads.forEach((g, k) => {
            // Each step of the reference starts from the implementation's (float32) state, so rounding does not
            // compound through the sign-like dynamics of Adam near θ = 0; m, v and θ are compared every step.
            const theta = flat(p);
            const m = flat(state.m);
            const v = flat(state.v);
            const gs = flat(g);
            ({ params: p, state } = adamStep(config, state, p, g));
            expect(state.step).toBe(k + 1);
            const [theta1, m1, v1] = [flat(p), flat(state.m), flat(state.v)];
            theta.forEach((th, i) => {
              const r = referenceMoments(config, th, m[i], v[i], gs[i]);
              expect(close32(m1[i], r.m, Math.abs(r.m), 1)).toBe(true);
              expect(close32(v1[i], r.v, Math.abs(r.v), 1)).toBe(true);
              // PyTorch's update reads the float32-stored moments (m1, v1, checked just above); from there one
              // more rounding of θ − Δ, and the float64 ops before it.
              const rTheta = referenceUpdate(config, k + 1, r.theta, m1[i], v1[i]);
              expect(close32(theta1[i], rTheta, Math.abs(r.theta) + Math.abs(rTheta), 2)).toBe(true);
            });
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it("first step (no decay): Δθ = −lr·g/(|g| + ε), so |Δθ| ≈ lr for |g| ≫ ε", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-4, max: 0.1, noNaN: true }), mapsArb(2, 1), (lr, [p, g]) => {
        const config = orThrow(adamConfig({ lr }));
        const next = flat(adamStep(config, adamInit(p), p, g).params);
        const theta = flat(p);
        return flat(g).every((gi, i) => {
          const delta = next[i] - theta[i];
          const rounding = 2 ** -23 * (Math.abs(theta[i]) + lr);
          const exact = Math.abs(delta + (lr * gi) / (Math.abs(gi) + config.eps)) <= rounding;
          const nearLr = Math.abs(gi) < 1e-3 || Math.abs(Math.abs(delta) - lr) <= lr * 1e-5 + rounding;
          return exact && nearLr;
        });
      }),
    );
  });

  it("never mutates parameters, gradients or state", () => {
    fc.assert(
      fc.property(configArb, mapsArb(3, 2), (config, [p, g1, g2]) => {
        const s = adamStep(config, adamInit(p), p, g1).state;
        const before = [flat(p), flat(g2), flat(s.m), flat(s.v), s.step];
        adamStep(config, s, p, g2);
        expect([flat(p), flat(g2), flat(s.m), flat(s.v), s.step]).toEqual(before);
      }),
    );
  });
});

describe("clipGradNorm properties", () => {
  it("norm after clipping ≤ maxNorm·(1 + 10⁻⁶), direction unchanged, no-op below the threshold", () => {
    fc.assert(
      fc.property(mapsArb(1, 100), fc.double({ min: 1e-3, max: 100, noNaN: true }), ([g], maxNorm) => {
        const { gradients, norm } = clipGradNorm(g, maxNorm);
        const before = flat(g);
        const after = flat(gradients);
        const expectedNorm = Math.sqrt(before.reduce((s, x) => s + x * x, 0));
        const clippedNorm = Math.sqrt(after.reduce((s, x) => s + x * x, 0));
        const normOk = Math.abs(norm - expectedNorm) <= 1e-12 * expectedNorm;
        const bounded = clippedNorm <= maxNorm * (1 + 1e-6);
        // Same direction: after = c·before with one c ∈ (0, 1] for every entry (up to float32 rounding).
        const c = Math.min(1, maxNorm / (expectedNorm + 1e-6));
        const direction = after.every((x, i) => close32(x, c * before[i], Math.abs(c * before[i]), 1));
        const noOp = expectedNorm + 1e-6 > maxNorm || gradients === g;
        return normOk && bounded && direction && noOp;
      }),
    );
  });
});

describe("EMA properties", () => {
  it("θ is a fixed point: emaUpdate(θ, θ, β) = θ exactly", () => {
    fc.assert(
      fc.property(mapsArb(1, 1e3), fc.double({ min: 0, max: 1, noNaN: true }), ([p], decay) => {
        expect(flat(emaUpdate(p, p, decay))).toEqual(flat(p));
      }),
    );
  });

  it("converges geometrically to a constant θ at rate β: ema_k − θ = βᵏ·(ema₀ − θ)", () => {
    fc.assert(
      fc.property(
        mapsArb(2, 10),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.integer({ min: 1, max: 30 }),
        ([e0, theta], decay, k) => {
          let ema = e0;
          for (let i = 0; i < k; i++) ema = emaUpdate(ema, theta, decay);
          const start = flat(e0);
          const target = flat(theta);
          return flat(ema).every((x, i) => {
            const expected = target[i] + decay ** k * (start[i] - target[i]);
            return close32(x, expected, Math.abs(start[i]) + Math.abs(target[i]), 4 * k);
          });
        },
      ),
    );
  });

  it("half-life decay: β^(H/B) = ½ for any batch size and half-life", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4096 }),
        fc.double({ min: 0.01, max: 1e4, noNaN: true }),
        (b, ratio) => {
          // H ≥ B/100, so that β ≥ 2⁻¹⁰⁰ does not underflow; β's rounding is amplified by the exponent H/B.
          const h = b * ratio;
          return Math.abs(emaHalfLifeDecay(b, h) ** (h / b) - 0.5) <= 2 ** -50 * (1 + h / b);
        },
      ),
    );
  });
});

describe("learning-rate schedule properties", () => {
  it("warm-up is monotone from 0 to η₀, the cosine part monotone from η₀ down to η_min", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 200 }),
        (baseLr, u, warmupSteps, decaySteps) => {
          const s = orThrow(
            warmupCosineSchedule({
              baseLr,
              warmupSteps,
              totalSteps: warmupSteps + decaySteps,
              minLr: u * baseLr,
            }),
          );
          const rates = Array.from({ length: warmupSteps + decaySteps + 5 }, (_, step) =>
            learningRate(s, step),
          );
          const up = rates.slice(0, warmupSteps + 1).every((r, i, a) => i === 0 || r >= a[i - 1]);
          const down = rates.slice(warmupSteps).every((r, i, a) => i === 0 || r <= a[i - 1]);
          const ends =
            (warmupSteps === 0 || rates[0] === 0) &&
            rates[warmupSteps] === baseLr &&
            rates[warmupSteps + decaySteps] === s.minLr;
          const bounded = rates.every((r) => r >= 0 && r <= baseLr);
          return up && down && ends && bounded;
        },
      ),
    );
  });
});
