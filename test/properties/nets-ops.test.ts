import fc from "fast-check";
import { GPU } from "gpu.js";
import { afterAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, rngKey } from "../../src/core/rng.js";
import type { Tensor } from "../../src/core/tensor.js";
import { groupNormShape } from "../../src/nets/group-norm-shape.js";
import { residualAdd } from "../../src/nets/kernels/add.js";
import { concatChannels, concatChannelsBackward } from "../../src/nets/kernels/concat.js";
import { groupNorm, groupNormBackward } from "../../src/nets/kernels/group-norm.js";
import { type LinearKernels, linear, linearBackward } from "../../src/nets/kernels/linear.js";
import { gpujsLinear } from "../../src/nets/kernels/linear-gpujs.js";
import { wasmLinear } from "../../src/nets/kernels/linear-wasm.js";
import { silu, siluBackward } from "../../src/nets/kernels/silu.js";
import { upsampleNearest2x, upsampleNearest2xBackward } from "../../src/nets/kernels/upsample.js";
import { linearShape } from "../../src/nets/linear-shape.js";
import { residualAddReference } from "../../src/nets/reference/add.js";
import { concatChannelsBackwardReference, concatChannelsReference } from "../../src/nets/reference/concat.js";
import { groupNormBackwardReference, groupNormReference } from "../../src/nets/reference/group-norm.js";
import { linearBackwardReference, linearReference } from "../../src/nets/reference/linear.js";
import { siluBackwardReference, siluReference } from "../../src/nets/reference/silu.js";
import {
  upsampleNearest2xBackwardReference,
  upsampleNearest2xReference,
} from "../../src/nets/reference/upsample.js";
import { closeInFloat32 } from "../support/float32-tolerance.js";

const normal32 = (seed: number, shape: readonly number[], scale = 1, shift = 0): Tensor => {
  const data = fillNormal(orThrow(rngKey(seed)), new Float32Array(shape.reduce((a, b) => a * b, 1)));
  return { shape: [...shape], data: data.map((v) => shift + scale * v) };
};
const abs = (t: Tensor): Tensor => ({ shape: t.shape, data: t.data.map(Math.abs) });
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/**
 * Float32 tolerance: a float32 result of a float64-accumulated expression is off by ≤ 2⁻²⁴·|value| from the
 * rounding of the result plus ≤ k·2⁻²⁴·Σ|terms| from float32 accumulation (k terms); we bound every component
 * by tol·(|ref| + scale) with `scale` the sum of the magnitudes of the terms, plus the float32 denormal spacing.
 */
const close = closeInFloat32;
const zerosLike = (a: ArrayLike<number>): Float64Array => new Float64Array(a.length);

/** One random linear case: leading axes, features and the seed of its data. */
interface LinearCase {
  readonly lead: number[];
  readonly inF: number;
  readonly outF: number;
  readonly seed: number;
}

/** Shapes [*, in] with 0–2 leading axes, and an output width. */
const linearCase: fc.Arbitrary<LinearCase> = fc.record({
  lead: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 2 }),
  inF: fc.integer({ min: 1, max: 19 }),
  outF: fc.integer({ min: 1, max: 19 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 8 }),
});

const simd = wasmLinear("property test")!;
const gpus = [new GPU({ mode: "webasm" }), new GPU({ mode: "cpu" })];
const viaWebasm = gpujsLinear(gpus[0], "gpujs-webasm", "property test");
const viaCpu = gpujsLinear(gpus[1], "gpujs-cpu", "property test");
afterAll(async () => {
  for (const k of [simd, viaWebasm, viaCpu]) k.dispose();
  await Promise.all(gpus.map((g) => g.destroy()));
});

const linearAgrees =
  (kern: LinearKernels) =>
  (s: LinearCase): boolean => {
    const x = normal32(s.seed, [...s.lead, s.inF]);
    const w = normal32(s.seed + 1, [s.outF, s.inF]);
    const b = normal32(s.seed + 2, [s.outF]);
    const g = orThrow(linearShape(x, w, b));
    const dy = normal32(s.seed + 3, [...g.batchShape, s.outF]);
    const y = orThrow(linear(kern, x, w, b));
    const grads = orThrow(linearBackward(kern, x, w, dy));
    const ref = linearBackwardReference(g, x, w, dy);
    const scale = linearBackwardReference(g, abs(x), abs(w), abs(dy));
    return (
      close(
        y.data,
        linearReference(g, x, w, b).data,
        linearReference(g, abs(x), abs(w), abs(b)).data,
        1e-5,
      ) &&
      close(grads.dx.data, ref.dx.data, scale.dx.data, 1e-5) &&
      close(grads.dw.data, ref.dw.data, scale.dw.data, 1e-5) &&
      close(grads.db.data, ref.db.data, scale.db.data, 1e-5)
    );
  };

describe("linear kernels vs the float64 reference, random shapes", () => {
  it("wasm-simd: forward and every gradient", () => {
    fc.assert(fc.property(linearCase, linearAgrees(simd)), { numRuns: 150 });
  });
  // GPU.js compiles four kernels per geometry, so fewer runs.
  it("GPU.js on webasm and on cpu: forward and every gradient", () => {
    fc.assert(fc.property(linearCase, linearAgrees(viaWebasm)), { numRuns: 25 });
    fc.assert(fc.property(linearCase, linearAgrees(viaCpu)), { numRuns: 25 });
  });
  it("the reference backward is the adjoint of the bilinear forward (float64)", () => {
    fc.assert(
      fc.property(linearCase, (s) => {
        const x = normal32(s.seed, [...s.lead, s.inF]);
        const w = normal32(s.seed + 1, [s.outF, s.inF]);
        const g = orThrow(linearShape(x, w, undefined));
        const r = normal32(s.seed + 3, [...g.batchShape, s.outF]);
        const lhs = dot(linearReference(g, x, w).data, r.data);
        const grads = linearBackwardReference(g, x, w, r);
        const tol = 1e-12 * (1 + dot(linearReference(g, abs(x), abs(w)).data, abs(r).data));
        expect(Math.abs(lhs - dot(x.data, grads.dx.data))).toBeLessThanOrEqual(tol);
        expect(Math.abs(lhs - dot(w.data, grads.dw.data))).toBeLessThanOrEqual(tol);
      }),
      { numRuns: 100 },
    );
  });
});

/** Random group-norm cases: [N, C, *] with 0–2 spatial axes, G | C, ε over 6 decades, shifted/scaled x. */
const groupNormCase = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    groups: fc.integer({ min: 1, max: 4 }),
    perGroup: fc.integer({ min: 1, max: 4 }),
    spatial: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 2 }),
    eps: fc.constantFrom(1e-6, 1e-5, 1e-3, 1e-1),
    shift: fc.double({ min: -10, max: 10, noNaN: true }),
    scale: fc.double({ min: 0.01, max: 10, noNaN: true }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 8 }),
  })
  .map((s) => ({ ...s, shape: [s.n, s.groups * s.perGroup, ...s.spatial] }));

/**
 * The magnitudes of the terms the group-norm results are sums of, per component, in float64:
 * y: |γ_c·x̂ᵢ| + |β_c|;  ∂x: r·(|gᵢ| + mean|g| + |x̂ᵢ|·mean|g ⊙ x̂|);  ∂γ: Σ|∂y·x̂|;  ∂β: Σ|∂y|.
 */
const groupNormScales = (
  s: { shape: number[]; groups: number; eps: number },
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  dy: Tensor,
) => {
  const [n, c] = s.shape;
  const sp = x.data.length / (n * c);
  const m = (c / s.groups) * sp;
  const y = new Float64Array(x.data.length);
  const dx = new Float64Array(x.data.length);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  for (let base = 0; base < x.data.length; base += m) {
    const block = Array.from(x.data.subarray(base, base + m));
    const mu = block.reduce((a, v) => a + v, 0) / m;
    const r = 1 / Math.sqrt(block.reduce((a, v) => a + (v - mu) ** 2, 0) / m + s.eps);
    const ch = (j: number): number => Math.floor((base + j) / sp) % c;
    const xhat = block.map((v) => (v - mu) * r);
    const gi = block.map((_, j) => Math.abs(gamma.data[ch(j)] * dy.data[base + j]));
    const meanG = gi.reduce((a, v) => a + v, 0) / m;
    const meanGX = gi.reduce((a, v, j) => a + v * Math.abs(xhat[j]), 0) / m;
    for (let j = 0; j < m; j++) {
      const k = ch(j);
      y[base + j] = Math.abs(gamma.data[k] * xhat[j]) + Math.abs(beta.data[k]);
      dx[base + j] = r * (gi[j] + meanG + Math.abs(xhat[j]) * meanGX);
      dgamma[k] += Math.abs(dy.data[base + j] * xhat[j]);
      dbeta[k] += Math.abs(dy.data[base + j]);
    }
  }
  return { y, dx, dgamma, dbeta };
};

describe("element-wise, normalization and data-movement kernels vs the float64 reference", () => {
  it("group norm: forward, ∂x, ∂γ, ∂β", () => {
    fc.assert(
      fc.property(groupNormCase, (s) => {
        const x = normal32(s.seed, s.shape, s.scale, s.shift);
        const c = s.shape[1];
        const gamma = normal32(s.seed + 1, [c]);
        const beta = normal32(s.seed + 2, [c]);
        const dy = normal32(s.seed + 3, s.shape);
        const options = { groups: s.groups, eps: s.eps };
        const g = orThrow(groupNormShape(x, gamma, beta, options));
        const y = orThrow(groupNorm(x, gamma, beta, options));
        const grads = orThrow(groupNormBackward(x, gamma, dy, options));
        const ref = groupNormBackwardReference(g, x, gamma, dy);
        const sc = groupNormScales(s, x, gamma, beta, dy);
        return (
          close(y.data, groupNormReference(g, x, gamma, beta).data, sc.y, 1e-6) &&
          close(grads.dx.data, ref.dx.data, sc.dx, 1e-6) &&
          close(grads.dgamma.data, ref.dgamma.data, sc.dgamma, 1e-6) &&
          close(grads.dbeta.data, ref.dbeta.data, sc.dbeta, 1e-6)
        );
      }),
      { numRuns: 200 },
    );
  });

  const anyShape = fc.record({
    shape: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
    scale: fc.constantFrom(1, 30, 200),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 8 }),
  });

  it("silu: forward and backward, including the saturated tails", () => {
    fc.assert(
      fc.property(anyShape, (s) => {
        const x = normal32(s.seed, s.shape, s.scale);
        const dy = normal32(s.seed + 1, s.shape);
        const y = orThrow(silu(x));
        const dx = orThrow(siluBackward(x, dy));
        return (
          close(y.data, siluReference(x).data, zerosLike(y.data), 1e-6) &&
          close(dx.data, siluBackwardReference(x, dy).data, siluBackwardReference(abs(x), abs(dy)).data, 1e-6)
        );
      }),
      { numRuns: 200 },
    );
  });

  it("residual add", () => {
    fc.assert(
      fc.property(anyShape, (s) => {
        const a = normal32(s.seed, s.shape, s.scale);
        const b = normal32(s.seed + 1, s.shape);
        const ref = residualAddReference(a, b);
        return close(
          orThrow(residualAdd(a, b)).data,
          ref.data,
          residualAddReference(abs(a), abs(b)).data,
          1e-7,
        );
      }),
      { numRuns: 100 },
    );
  });

  const nchw = fc.record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 4 }),
    h: fc.integer({ min: 1, max: 6 }),
    w: fc.integer({ min: 1, max: 6 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 8 }),
  });

  it("upsample nearest 2×: forward exact, backward within one rounding, and the adjoint identity", () => {
    fc.assert(
      fc.property(nchw, (s) => {
        const x = normal32(s.seed, [s.n, s.c, s.h, s.w]);
        const dy = normal32(s.seed + 1, [s.n, s.c, 2 * s.h, 2 * s.w]);
        const y = orThrow(upsampleNearest2x(x));
        const dx = orThrow(upsampleNearest2xBackward(dy));
        expect(y.shape).toEqual([s.n, s.c, 2 * s.h, 2 * s.w]);
        expect(Array.from(y.data)).toEqual(Array.from(upsampleNearest2xReference(x).data));
        const ref = upsampleNearest2xBackwardReference(dy);
        expect(close(dx.data, ref.data, upsampleNearest2xBackwardReference(abs(dy)).data, 1e-7)).toBe(true);
        // ⟨up(x), r⟩ = ⟨x, up*(r)⟩ in float64 (every product appears once on each side)
        const lhs = dot(upsampleNearest2xReference(x).data, dy.data);
        expect(Math.abs(lhs - dot(x.data, ref.data))).toBeLessThanOrEqual(
          1e-12 * (1 + dot(abs(x).data, ref.data.map(Math.abs))),
        );
      }),
      { numRuns: 100 },
    );
  });

  it("concat channels: exact forward, exact split, and split ∘ concat = identity", () => {
    fc.assert(
      fc.property(
        nchw,
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        (s, channels) => {
          const xs = channels.map((ck, k) => normal32(s.seed + k, [s.n, ck, s.h, s.w]));
          const y = orThrow(concatChannels(xs));
          expect(Array.from(y.data)).toEqual(Array.from(concatChannelsReference(xs).data));
          const parts = orThrow(concatChannelsBackward(y, channels));
          expect(parts).toEqual(xs);
          const refParts = concatChannelsBackwardReference(y, channels);
          parts.forEach((p, k) => {
            expect(Array.from(p.data)).toEqual(Array.from(refParts[k].data));
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});
