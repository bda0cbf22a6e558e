import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, rngKey } from "../../src/core/rng.js";
import type { Tensor } from "../../src/core/tensor.js";
import { type AttentionWeights, attentionShape } from "../../src/nets/attention-shape.js";
import {
  type AttentionKernels,
  attention,
  attentionBackward,
  typescriptAttention,
  wasmAttention,
} from "../../src/nets/kernels/attention.js";
import { attentionBackwardReference, attentionReference } from "../../src/nets/reference/attention.js";

const normal32 = (seed: number, shape: number[], scale = 1): Tensor => {
  const data = fillNormal(orThrow(rngKey(seed)), new Float32Array(shape.reduce((a, b) => a * b, 1)));
  for (let i = 0; i < data.length; i++) data[i] *= scale;
  return { shape, data };
};
const norm = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
};
const distance = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  norm(Float64Array.from(b, (v, i) => a[i] - v));

/** One random case: a geometry, options and the seed of its data. */
interface Case {
  readonly n: number;
  readonly heads: number;
  readonly headDim: number;
  readonly h: number;
  readonly w: number;
  readonly residual: boolean;
  readonly factor: number;
  readonly seed: number;
}

/** Small random geometries: 1–3 heads of 1–6 channels (padded and unpadded head widths), 1×1 to 5×5 images. */
const geometry: fc.Arbitrary<Case> = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  heads: fc.integer({ min: 1, max: 3 }),
  headDim: fc.integer({ min: 1, max: 6 }),
  h: fc.integer({ min: 1, max: 5 }),
  w: fc.integer({ min: 1, max: 5 }),
  residual: fc.boolean(),
  factor: fc.constantFrom(1, 0.5, Math.SQRT2),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

/** The operands of a case; weights scaled by 1/√C (PyTorch's Linear init scale) so that scores are O(1). */
const operands = (s: Case) => {
  const c = s.heads * s.headDim;
  const shape = [s.n, c, s.h, s.w];
  const projection = (k: number) => ({
    weight: normal32(s.seed + k, [c, c], 1 / Math.sqrt(c)),
    bias: normal32(s.seed + k + 1, [c], 0.1),
  });
  const weights: AttentionWeights = {
    toQ: projection(1),
    toK: projection(3),
    toV: projection(5),
    toOut: projection(7),
  };
  return {
    x: normal32(s.seed, shape),
    weights,
    residual: s.residual ? normal32(s.seed + 9, shape) : undefined,
    dy: normal32(s.seed + 10, shape),
    options: { headDim: s.headDim, rescaleOutputFactor: s.factor },
  };
};

/**
 * Float32 kernels against the float64 reference, normwise: ‖a − ref‖ ≤ tol·scale. Products have at most
 * C·T ≤ 450 terms, so float32 rounding gives ~√(C·T)·2⁻²⁴ ≈ 1e-6 relative; tol = 1e-4 for the output, ∂x, ∂r
 * and the value/output projections (measured ≤ 7e-6 over 2000 cases). The query/key gradients go through
 * ∂S = P ⊙ (∂P − rowsum(P ⊙ ∂P)), a difference that cancels in float32 (measured up to 3e-5 relative): tol =
 * 1e-3, the op's float32 gradient budget. Gradients that vanish identically (∂b_k always, by the softmax shift
 * invariance; the query/key path when T = 1) get a floor of 1e-3 times their value-path counterpart.
 */
const agreesWithReference =
  (kern: AttentionKernels) =>
  (s: Case): boolean => {
    const { x, weights, residual, dy, options } = operands(s);
    const g = orThrow(attentionShape(x, weights, residual, options));
    const y = orThrow(attention(kern, x, weights, residual, options));
    const grads = orThrow(attentionBackward(kern, x, weights, residual, dy, options));
    const ref = attentionReference(g, x, weights, residual);
    const refGrads = attentionBackwardReference(g, x, weights, dy, residual);
    const close = (a: ArrayLike<number>, b: ArrayLike<number>, scale: number, tol = 1e-4): boolean =>
      distance(a, b) <= tol * scale;
    const rd = refGrads.dWeights;
    const gd = grads.dWeights;
    const wScale = norm(rd.toV.weight.data);
    const bScale = norm(rd.toV.bias.data);
    return (
      close(y.data, ref.data, norm(ref.data)) &&
      close(grads.dx.data, refGrads.dx.data, norm(refGrads.dx.data)) &&
      (residual === undefined
        ? grads.dResidual === undefined
        : close(grads.dResidual!.data, refGrads.dResidual!.data, norm(refGrads.dResidual!.data))) &&
      close(gd.toQ.weight.data, rd.toQ.weight.data, norm(rd.toQ.weight.data) + 1e-3 * wScale, 1e-3) &&
      close(gd.toK.weight.data, rd.toK.weight.data, norm(rd.toK.weight.data) + 1e-3 * wScale, 1e-3) &&
      close(gd.toV.weight.data, rd.toV.weight.data, wScale) &&
      close(gd.toOut.weight.data, rd.toOut.weight.data, norm(rd.toOut.weight.data)) &&
      close(gd.toQ.bias.data, rd.toQ.bias.data, norm(rd.toQ.bias.data) + 1e-3 * bScale, 1e-3) &&
      close(gd.toK.bias.data, rd.toK.bias.data, norm(rd.toQ.bias.data) + 1e-3 * bScale, 1e-3) &&
      close(gd.toV.bias.data, rd.toV.bias.data, bScale) &&
      close(gd.toOut.bias.data, rd.toOut.bias.data, norm(rd.toOut.bias.data))
    );
  };

const simd = wasmAttention("property test")!;
const scalar = typescriptAttention("property test");
afterAll(() => {
  simd.dispose();
  scalar.dispose();
});

describe("attention kernels vs the float64 reference", () => {
  it("wasm-simd: forward and every gradient, random geometries", () => {
    fc.assert(fc.property(geometry, agreesWithReference(simd)), { numRuns: 150 });
  });

  it("typescript: forward and every gradient, random geometries", () => {
    fc.assert(fc.property(geometry, agreesWithReference(scalar)), { numRuns: 60 });
  });
});

describe("attention reference identities (float64)", () => {
  // Self-attention has no positional information: permuting the tokens permutes the output the same way.
  it("is equivariant under reversing the token order", () => {
    fc.assert(
      fc.property(geometry, (s) => {
        const { x, weights, residual, options } = operands(s);
        const g = orThrow(attentionShape(x, weights, residual, options));
        const T = g.tokens;
        const reverse = (t: Tensor): Tensor => ({
          shape: t.shape,
          data: Float32Array.from(t.data, (_, i) => t.data[i - (i % T) + (T - 1 - (i % T))]),
        });
        const y = attentionReference(g, x, weights, residual).data;
        const yr = attentionReference(g, reverse(x), weights, residual && reverse(residual)).data;
        const back = Float64Array.from(yr, (_, i) => yr[i - (i % T) + (T - 1 - (i % T))]);
        expect(distance(back, y)).toBeLessThanOrEqual(1e-12 * (1 + norm(y)));
      }),
      { numRuns: 60 },
    );
  });

  // Adding β to b_k adds s·qᵢ·β to every score of row i; softmax is invariant to a constant shift of a row.
  it("is invariant to the key bias", () => {
    fc.assert(
      fc.property(geometry, fc.double({ min: -3, max: 3, noNaN: true }), (s, beta) => {
        const { x, weights, options } = operands(s);
        const shifted = {
          ...weights,
          toK: {
            ...weights.toK,
            bias: { shape: weights.toK.bias.shape, data: weights.toK.bias.data.map((b) => b + beta) },
          },
        };
        const g = orThrow(attentionShape(x, weights, undefined, options));
        const y = attentionReference(g, x, weights).data;
        const ys = attentionReference(g, x, shifted).data;
        expect(distance(ys, y)).toBeLessThanOrEqual(1e-12 * (1 + norm(y)));
      }),
      { numRuns: 60 },
    );
  });
});
