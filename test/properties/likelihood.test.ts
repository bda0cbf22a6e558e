import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { float64Space, type Tensor64 } from "../../src/core/tensor.js";
import {
  binWidth,
  dequantize,
  discreteBitsPerDim,
  quantization,
  quantize,
} from "../../src/ode/dequantize.js";
import {
  finiteDifferenceDivergence,
  hutchinsonDivergence,
  hutchinsonProbes,
} from "../../src/ode/divergence.js";
import { probabilityFlowLikelihood } from "../../src/ode/likelihood.js";
import { productSpace } from "../../src/ode/product-space.js";
import { gaussianMixture, mixtureOracle, mixtureScore, randomMixture } from "../../src/oracle/index.js";
import { mixtureScoreDivergence } from "../../src/oracle/marginal.js";
import { veSde, vpSde } from "../../src/sde/index.js";

const finite = (lo: number, hi: number) =>
  fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const keyOf = (s: number) => ({ k0: s >>> 0, k1: 0x5eed });

/** A batch of n points in [−3, 3]^d. */
const batch = (n: number, d: number) =>
  fc
    .array(finite(-3, 3), { minLength: n * d, maxLength: n * d })
    .map((values): Tensor64 => ({ shape: [n, d], data: Float64Array.from(values) }));

describe("finiteDifferenceDivergence (properties)", () => {
  // A quadratic field v_j(x) = Σ_k A_jk·x_k + b_j·x_j² + c_j·x_{j+1}² has divergence tr A + 2·Σ_j b_j·x_j, and a
  // central difference is exact on quadratics: only rounding remains, ~ε·|v|/h ≈ 10⁻¹⁰·|v|.
  it("is exact on quadratic fields up to rounding", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((d) =>
          fc.record({
            d: fc.constant(d),
            a: fc.array(finite(-2, 2), { minLength: d * d, maxLength: d * d }),
            b: fc.array(finite(-2, 2), { minLength: d, maxLength: d }),
            c: fc.array(finite(-2, 2), { minLength: d, maxLength: d }),
            x: batch(3, d),
          }),
        ),
        ({ d, a, b, c, x }) => {
          const field = (y: Tensor64): Tensor64 => {
            const out = new Float64Array(y.data.length);
            for (let r = 0; r < y.shape[0]; r++) {
              const row = y.data.subarray(r * d, (r + 1) * d);
              for (let j = 0; j < d; j++) {
                let v = b[j] * row[j] * row[j] + c[j] * row[(j + 1) % d] ** 2 * (d > 1 ? 1 : 0);
                for (let k = 0; k < d; k++) v += a[j * d + k] * row[k];
                out[r * d + j] = v;
              }
            }
            return { shape: y.shape, data: out };
          };
          const numeric = finiteDifferenceDivergence(field, x, 0);
          return Array.from(numeric).every((value, r) => {
            let exact = 0;
            for (let j = 0; j < d; j++) exact += a[j * d + j] + 2 * b[j] * x.data[r * d + j];
            return Math.abs(value - exact) <= 1e-7 * (1 + Math.abs(exact) + 2 * d * d);
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it("equals the closed-form Laplacian of a random mixture's log-density to 1e-6 relative", () => {
    fc.assert(
      fc.property(
        seed,
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }).chain((d) => fc.tuple(fc.constant(d), batch(2, d))),
        (s, _, components, [d, x]) => {
          const gm = orThrow(randomMixture(keyOf(s), { dim: d, components }));
          const numeric = finiteDifferenceDivergence((y) => mixtureScore(gm, y), x, 0);
          const analytic = mixtureScoreDivergence(gm, x);
          return Array.from(numeric).every(
            (v, r) => Math.abs(v - analytic[r]) <= 1e-6 * Math.max(1, Math.abs(analytic[r])),
          );
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("hutchinsonDivergence (properties)", () => {
  it("is εᵀAε for a linear field v = A·x, for any probe", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 6 })
          .chain((d) =>
            fc.tuple(
              fc.constant(d),
              fc.array(finite(-2, 2), { minLength: d * d, maxLength: d * d }),
              batch(3, d),
            ),
          ),
        seed,
        fc.constantFrom("rademacher" as const, "gaussian" as const),
        ([d, a, x], s, probe) => {
          const field = (y: Tensor64): Tensor64 => {
            const out = new Float64Array(y.data.length);
            for (let r = 0; r < y.shape[0]; r++)
              for (let j = 0; j < d; j++)
                for (let k = 0; k < d; k++) out[r * d + j] += a[j * d + k] * y.data[r * d + k];
            return { shape: y.shape, data: out };
          };
          const probes = hutchinsonProbes(keyOf(s), probe, 3, d);
          const estimate = hutchinsonDivergence(field, x, 0, probes);
          return Array.from(estimate).every((value, r) => {
            const e = probes.data.subarray(r * d, (r + 1) * d);
            let quadratic = 0;
            let scale = 0;
            for (let j = 0; j < d; j++)
              for (let k = 0; k < d; k++) {
                quadratic += e[j] * a[j * d + k] * e[k];
                scale += Math.abs(e[j] * a[j * d + k] * e[k]);
              }
            return Math.abs(value - quadratic) <= 1e-7 * (1 + scale);
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  // With a diagonal Jacobian, εᵀJε = Σ_j J_jj·ε_j² = tr J for every Rademacher probe (ε_j² = 1): no variance.
  it("is exact for every Rademacher probe when the Jacobian is diagonal", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 6 })
          .chain((d) =>
            fc.tuple(
              fc.constant(d),
              fc.array(finite(-2, 2), { minLength: d, maxLength: d }),
              fc.array(finite(-2, 2), { minLength: d, maxLength: d }),
              batch(3, d),
            ),
          ),
        seed,
        ([d, a, b, x], s) => {
          const field = (y: Tensor64): Tensor64 => ({
            shape: y.shape,
            data: y.data.map((v, i) => a[i % d] * v + b[i % d] * Math.sin(v)),
          });
          const estimate = hutchinsonDivergence(field, x, 0, hutchinsonProbes(keyOf(s), "rademacher", 3, d));
          return Array.from(estimate).every((value, r) => {
            let trace = 0;
            for (let j = 0; j < d; j++) trace += a[j] + b[j] * Math.cos(x.data[r * d + j]);
            return Math.abs(value - trace) <= 1e-7 * (1 + d);
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("productSpace (properties)", () => {
  it("combines componentwise and lists the components of both factors in order", () => {
    const space = productSpace(float64Space, float64Space);
    const vec = (n: number) =>
      fc.array(finite(-10, 10), { minLength: n, maxLength: n }).map((v) => Float64Array.from(v));
    fc.assert(
      fc.property(vec(3), vec(2), vec(3), vec(2), finite(-5, 5), finite(-5, 5), (a1, b1, a2, b2, c1, c2) => {
        const [a, b] = space.combine([
          [c1, [a1, b1]],
          [c2, [a2, b2]],
        ]);
        // Accumulated from 0 as float64Space does (so −0 terms sum to +0).
        const expected = [
          ...a1.map((v, i) => 0 + c1 * v + c2 * a2[i]),
          ...b1.map((v, i) => 0 + c1 * v + c2 * b2[i]),
        ];
        expect(Array.from(space.components([a, b]))).toEqual(expected);
        expect(Array.from(space.components([a1, b1]))).toEqual([...a1, ...b1]);
      }),
      { numRuns: 100 },
    );
  });
});

describe("dequantization (properties)", () => {
  it("round-trips every level through dequantize then quantize, landing in [low, high)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }),
        finite(-100, 100),
        finite(1e-3, 100),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), {
          minLength: 12,
          maxLength: 12,
        }),
        seed,
        (bits, low, width, fractions, s) => {
          const q = orThrow(quantization({ bits, low, high: low + width }));
          const data = Float64Array.from(fractions, (f) => Math.floor(f * 2 ** bits));
          const levels: Tensor64 = { shape: [3, 4], data };
          const y = orThrow(dequantize(q, levels, keyOf(s)));
          expect(orThrow(quantize(q, y)).data).toEqual(data);
          return y.data.every((v) => v >= q.low && v < q.high + binWidth(q) * 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("gives `bits` bits/dim for the uniform density on [low, high]^d", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }),
        finite(-100, 100),
        finite(1e-3, 100),
        fc.integer({ min: 1, max: 10_000 }),
        (bits, low, width, d) => {
          const q = orThrow(quantization({ bits, low, high: low + width }));
          const uniform = -d * Math.log(q.high - q.low);
          return Math.abs(discreteBitsPerDim(q, uniform, d) - bits) <= 1e-9 * bits;
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("probabilityFlowLikelihood (properties)", () => {
  // Centered Gaussian data N(0, c²I): with the exact log p_T swapped in for the prior (see the error budget in
  // test/unit/likelihood.test.ts), the ODE alone must give log p_{t₀} to the solver's tolerance. The tolerance
  // rtol = 10⁻⁶ acts relative to the state, of which Δ ≈ log p is a part, so the global error grows with |log p|:
  // measured ≤ 3·10⁻⁶·(d + |log p|) down to 13σ in the tails (x = 3, c = 0.2, where log p ≈ −112).
  it("recovers log p_t0 of Gaussian data under VP and VE", () => {
    const vp = orThrow(vpSde());
    const ve = orThrow(veSde());
    fc.assert(
      fc.property(
        fc.constantFrom(vp, ve),
        finite(0.2, 2),
        fc.integer({ min: 1, max: 3 }).chain((d) => fc.tuple(fc.constant(d), batch(2, d))),
        (sde, c, [d, x]) => {
          const gm = orThrow(
            gaussianMixture({ weights: [1], means: [new Array<number>(d).fill(0)], variances: c * c }),
          );
          const oracle = mixtureOracle(sde, gm);
          const result = orThrow(
            probabilityFlowLikelihood(sde, oracle.score, x, { t0: 1e-5, rtol: 1e-6, atol: 1e-6 }),
          );
          const terminal = oracle.logDensity(result.latent, sde.tMax);
          const exact = oracle.logDensity(x, 1e-5);
          return Array.from(result.logLikelihood).every(
            (lp, r) =>
              Math.abs(lp - result.logPrior[r] + terminal[r] - exact[r]) <= 1e-5 * (d + Math.abs(exact[r])),
          );
        },
      ),
      { numRuns: 20 },
    );
  });
});
