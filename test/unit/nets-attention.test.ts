import * as E from "fp-ts/lib/Either.js";
import { GPU } from "gpu.js";
import { afterAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, rngKey } from "../../src/core/rng.js";
import type { Storage, Tensor, Tensor64 } from "../../src/core/tensor.js";
import {
  type AttentionOptions,
  type AttentionWeights,
  attentionFlops,
  attentionShape,
} from "../../src/nets/attention-shape.js";
import { createBackend, disposeBackend } from "../../src/nets/backend.js";
import {
  attention,
  attentionBackward,
  attentionKernels,
  typescriptAttention,
  wasmAttention,
} from "../../src/nets/kernels/attention.js";
import { attentionBackwardReference, attentionReference } from "../../src/nets/reference/attention.js";

const normal32 = (seed: number, shape: number[], scale = 1): Tensor => {
  const data = fillNormal(orThrow(rngKey(seed)), new Float32Array(shape.reduce((a, b) => a * b, 1)));
  for (let i = 0; i < data.length; i++) data[i] *= scale;
  return { shape, data };
};
const to64 = (t: Tensor<Storage>): Tensor64 => ({ shape: t.shape, data: Float64Array.from(t.data) });
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const norm = (a: ArrayLike<number>): number => Math.sqrt(dot(a, a));
const relErr = (a: ArrayLike<number>, ref: ArrayLike<number>): number => {
  const diff = Float64Array.from(ref, (r, i) => a[i] - r);
  return norm(diff) / norm(ref);
};
const parts = ["toQ", "toK", "toV", "toOut"] as const;

/** PyTorch-like initialization scale 1/√C, so that scores are O(1) (random N(0, 1) weights saturate softmax). */
const randomWeights = (seed: number, c: number): AttentionWeights => {
  const projection = (s: number) => ({
    weight: normal32(s, [c, c], 1 / Math.sqrt(c)),
    bias: normal32(s + 1, [c], 0.1),
  });
  return {
    toQ: projection(seed),
    toK: projection(seed + 2),
    toV: projection(seed + 4),
    toOut: projection(seed + 6),
  };
};
const identity = (c: number): Tensor => ({
  shape: [c, c],
  data: Float32Array.from({ length: c * c }, (_, i) => (i % (c + 1) === 0 ? 1 : 0)),
});
const zeros = (shape: number[]): Tensor => ({
  shape,
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
});

const simd = wasmAttention("test")!;
const scalar = typescriptAttention("test");
afterAll(() => {
  simd.dispose();
  scalar.dispose();
});

describe("attentionShape", () => {
  const x = normal32(1, [2, 6, 3, 4]);
  const w = randomWeights(2, 6);
  const opts: AttentionOptions = { headDim: 3, rescaleOutputFactor: 1 };
  const msg = (r: E.Either<{ readonly message: string }, unknown>): string =>
    E.isLeft(r) ? r.left.message : "";

  it("derives tokens, heads, the score scale 1/√d and the FLOP count 8·N·T·C² + 4·N·T²·C", () => {
    const g = orThrow(attentionShape(x, w, undefined, opts));
    expect([g.tokens, g.heads, g.headDim]).toEqual([12, 2, 3]);
    expect(g.scale).toBe(1 / Math.sqrt(3));
    expect(attentionFlops(g)).toBe(8 * 2 * 12 * 36 + 4 * 2 * 144 * 6);
  });

  it("rejects bad operands and options with a message naming field and rule", () => {
    const nan = { shape: x.shape, data: Float32Array.from(x.data, (v, i) => (i === 4 ? Number.NaN : v)) };
    expect(msg(attentionShape(nan, w, undefined, opts))).toBe(
      "attention: x.data[4] must be finite, got x.data[4]=NaN",
    );
    expect(msg(attentionShape(x, w, undefined, { headDim: 4, rescaleOutputFactor: 1 }))).toBe(
      "attention: headDim must divide the channels C (heads = C / headDim), got C=6, headDim=4",
    );
    expect(msg(attentionShape(x, w, undefined, { headDim: 0, rescaleOutputFactor: 1 }))).toMatch(
      /headDim must be an integer ≥ 1/,
    );
    expect(msg(attentionShape(x, w, undefined, { headDim: 3, rescaleOutputFactor: 0 }))).toMatch(
      /rescaleOutputFactor must be a finite number > 0/,
    );
    const badK = { ...w, toK: { ...w.toK, weight: normal32(3, [6, 5]) } };
    expect(msg(attentionShape(x, badK, undefined, opts))).toMatch(/toK\.weight\.shape must be \[6, 6\]/);
    const badBias = { ...w, toOut: { ...w.toOut, bias: normal32(3, [5]) } };
    expect(msg(attentionShape(x, badBias, undefined, opts))).toMatch(/toOut\.bias\.shape must be \[6\]/);
    const infBias = {
      ...w,
      toV: {
        ...w.toV,
        bias: { shape: [6], data: Float32Array.from(w.toV.bias.data, (v, i) => (i ? v : Infinity)) },
      },
    };
    expect(msg(attentionShape(x, infBias, undefined, opts))).toMatch(/toV\.bias\.data\[0\] must be finite/);
    expect(msg(attentionShape(x, w, normal32(4, [2, 6, 4, 3]), opts))).toMatch(
      /residual\.shape must be \[2, 6, 3, 4\]/,
    );
    expect(msg(attentionShape(normal32(5, [6, 3, 4]), w, undefined, opts))).toMatch(/x\.shape must be 4/);
    expect(msg(attentionBackward(simd, x, w, undefined, normal32(6, [2, 6, 3, 3]), opts))).toMatch(
      /dy\.shape must be \[2, 6, 3, 4\]/,
    );
  });
});

describe("attention reference", () => {
  it("zero query and key weights give uniform attention: with identity value/output maps, z is the token mean", () => {
    const c = 4;
    const x = normal32(11, [2, c, 3, 3]);
    const r = normal32(12, [2, c, 3, 3]);
    const zero = { weight: zeros([c, c]), bias: zeros([c]) };
    const id = { weight: identity(c), bias: zeros([c]) };
    const w = { toQ: zero, toK: zero, toV: id, toOut: id };
    const g = orThrow(attentionShape(x, w, r, { headDim: 2, rescaleOutputFactor: 2 }));
    const y = attentionReference(g, x, w, r);
    for (let nc = 0; nc < 2 * c; nc++) {
      const mean = x.data.subarray(nc * 9, nc * 9 + 9).reduce((a, b) => a + b, 0) / 9;
      for (let t = 0; t < 9; t++) expect(y.data[nc * 9 + t]).toBeCloseTo((mean + r.data[nc * 9 + t]) / 2, 12);
    }
  });

  it("one token attends only to itself: z = W_out·(W_v·x + b_v) + b_out, independent of q and k", () => {
    const c = 3;
    const x = normal32(13, [2, c, 1, 1]);
    const w = randomWeights(14, c);
    const g = orThrow(attentionShape(x, w, undefined, { headDim: 1, rescaleOutputFactor: 1 }));
    const y = attentionReference(g, x, w);
    for (let n = 0; n < 2; n++) {
      const xs = x.data.subarray(n * c, n * c + c);
      const v = Array.from(
        { length: c },
        (_, o) => w.toV.bias.data[o] + dot(w.toV.weight.data.subarray(o * c, o * c + c), xs),
      );
      for (let o = 0; o < c; o++) {
        const z = w.toOut.bias.data[o] + dot(w.toOut.weight.data.subarray(o * c, o * c + c), v);
        expect(y.data[n * c + o]).toBeCloseTo(z, 12);
      }
    }
  });

  // The loss L = Σ r ⊙ y is smooth; the central difference (L(θ + h) − L(θ − h))/2h has error h²·L‴/6 ≈ 1e-12
  // at h = 1e-6 plus rounding ≈ 1e-16·|L|/h ≈ 1e-10, both far below the 1e-6 relative tolerance.
  it.each([
    [[2, 4, 2, 3], 2, 1],
    [[1, 6, 3, 2], 3, 1.5],
    [[2, 3, 2, 2], 3, 0.7],
  ])(
    "backward equals central finite differences in float64 (x %o, headDim %i, f %d)",
    (shape, headDim, f) => {
      const [, c] = shape;
      const x = to64(normal32(21, shape));
      const r = to64(normal32(22, shape));
      const dy = to64(normal32(23, shape));
      const w32 = randomWeights(24, c);
      const w: AttentionWeights<Float64Array> = {
        toQ: { weight: to64(w32.toQ.weight), bias: to64(w32.toQ.bias) },
        toK: { weight: to64(w32.toK.weight), bias: to64(w32.toK.bias) },
        toV: { weight: to64(w32.toV.weight), bias: to64(w32.toV.bias) },
        toOut: { weight: to64(w32.toOut.weight), bias: to64(w32.toOut.bias) },
      };
      const opts = { headDim, rescaleOutputFactor: f };
      const g = orThrow(attentionShape(x, w, r, opts));
      const grads = attentionBackwardReference(g, x, w, dy, r);
      const h = 1e-6;
      const fd = (bump: (d: number) => void): number => {
        bump(h);
        const up = dot(attentionReference(g, x, w, r).data, dy.data);
        bump(-2 * h);
        const down = dot(attentionReference(g, x, w, r).data, dy.data);
        bump(h);
        return (up - down) / (2 * h);
      };
      const checkAt = (t: Tensor64, grad: ArrayLike<number>, scale: number): void => {
        for (const i of [0, Math.floor(t.data.length / 3), t.data.length - 1]) {
          const est = fd((d) => {
            t.data[i] += d;
          });
          expect(Math.abs(est - grad[i])).toBeLessThan(1e-6 * (scale + Math.abs(est)));
        }
      };
      checkAt(x, grads.dx.data, norm(grads.dx.data));
      checkAt(r, grads.dResidual!.data, 1);
      for (const p of parts) {
        checkAt(w[p].weight, grads.dWeights[p].weight.data, norm(grads.dWeights.toV.weight.data));
        checkAt(w[p].bias, grads.dWeights[p].bias.data, norm(grads.dWeights.toV.bias.data));
      }
      // softmax is invariant to a shift of each row of scores, and b_k shifts row i by s·qᵢ·b_k: ∂b_k = 0
      expect(norm(grads.dWeights.toK.bias.data)).toBeLessThan(1e-12 * norm(grads.dWeights.toQ.bias.data));
    },
  );
});

describe("attention kernels", () => {
  it.each([
    [[2, 6, 3, 5], 3, true],
    [[1, 8, 4, 4], 8, false],
    [[2, 12, 5, 3], 4, true],
    [[1, 5, 1, 1], 5, true],
    [[1, 16, 8, 8], 8, true],
  ])(
    "wasm-simd and typescript agree with the reference (x %o, headDim %i, residual %s)",
    (shape, headDim, withResidual) => {
      const c = shape[1];
      const x = normal32(31, shape);
      const w = randomWeights(32, c);
      const r = withResidual ? normal32(33, shape) : undefined;
      const dy = normal32(34, shape);
      const opts = { headDim, rescaleOutputFactor: 1.25 };
      const g = orThrow(attentionShape(x, w, r, opts));
      const ref = attentionReference(g, x, w, r);
      const refGrad = attentionBackwardReference(g, x, w, dy, r);
      const results = [simd, scalar].map((k) => ({
        y: orThrow(attention(k, x, w, r, opts)),
        grads: orThrow(attentionBackward(k, x, w, r, dy, opts)),
      }));
      // float32 products of ≤ C·T terms: measured relative errors are ~1e-7 to 1e-6; 1e-4 leaves a wide margin.
      for (const { y, grads } of results) {
        expect(y.shape).toEqual(shape);
        expect(relErr(y.data, ref.data)).toBeLessThan(1e-4);
        expect(relErr(grads.dx.data, refGrad.dx.data)).toBeLessThan(1e-4);
        expect(grads.dResidual === undefined).toBe(!withResidual);
        if (r) expect(relErr(grads.dResidual!.data, refGrad.dResidual!.data)).toBeLessThan(1e-6);
        for (const p of parts) {
          const tokens = g.tokens > 1 || p === "toV" || p === "toOut";
          if (tokens)
            expect(relErr(grads.dWeights[p].weight.data, refGrad.dWeights[p].weight.data)).toBeLessThan(1e-4);
          else expect(norm(grads.dWeights[p].weight.data)).toBe(0);
        }
        for (const p of ["toQ", "toV", "toOut"] as const) {
          if (g.tokens > 1 || p !== "toQ")
            expect(relErr(grads.dWeights[p].bias.data, refGrad.dWeights[p].bias.data)).toBeLessThan(1e-4);
        }
        expect(norm(grads.dWeights.toK.bias.data)).toBeLessThan(
          1e-5 * (1 + norm(refGrad.dWeights.toV.bias.data)),
        );
      }
      expect(relErr(results[0].y.data, results[1].y.data)).toBeLessThan(1e-5);
      expect(relErr(results[0].grads.dx.data, results[1].grads.dx.data)).toBeLessThan(1e-5);
    },
  );

  it("kernels keep working after dispose and across growing and shrinking shapes", () => {
    const k = wasmAttention("test")!;
    for (const [n, c, hw] of [
      [1, 4, 2],
      [2, 16, 9],
      [1, 2, 3],
    ]) {
      const x = normal32(40 + hw, [n, c, hw, hw]);
      const w = randomWeights(41, c);
      const opts = { headDim: 2, rescaleOutputFactor: 1 };
      const g = orThrow(attentionShape(x, w, undefined, opts));
      expect(
        relErr(orThrow(attention(k, x, w, undefined, opts)).data, attentionReference(g, x, w).data),
      ).toBeLessThan(1e-4);
      k.dispose();
    }
  });

  it("attentionKernels picks wasm-simd on webasm, typescript on cpu, and refuses webgpu", async () => {
    const webasm = orThrow(await createBackend("webasm"));
    const cpu = orThrow(await createBackend("cpu"));
    expect(orThrow(attentionKernels(webasm)).implementation).toBe("wasm-simd");
    expect(orThrow(attentionKernels(cpu)).implementation).toBe("typescript");
    const gpu = new GPU({ mode: "cpu" });
    const webgpu = attentionKernels({
      gpu,
      mode: "webgpu",
      report: { requested: "webgpu", chosen: "webgpu", fallbacks: [] },
    });
    expect(E.isLeft(webgpu) && webgpu.left.message).toMatch(/attention: backend\.mode .* not supported yet/);
    await Promise.all([disposeBackend(webasm), disposeBackend(cpu), gpu.destroy()]);
  });
});
