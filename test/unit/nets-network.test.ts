import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { foldIn, rngKey } from "../../src/core/rng.js";
import type { Tensor } from "../../src/core/tensor.js";
import { addNode, linearNode, scaleRowsNode, siluNode } from "../../src/nets/layers.js";
import { mlpConfig, mlpNetwork } from "../../src/nets/mlp.js";
import {
  checkParameters,
  forwardNetwork,
  initParameters,
  type Network,
  networkGradients,
} from "../../src/nets/network.js";
import {
  backward,
  constantNode,
  createTape,
  type NetKernels,
  parameterNode,
  runOnTape,
} from "../../src/nets/tape.js";
import { directionalError, dot, normalTensor, smallMlp, webasmKernels } from "../support/nets-fixtures.js";

let kernels: NetKernels;
beforeAll(async () => {
  kernels = await webasmKernels();
});

const key = orThrow(rngKey(3));
const batch = (n: number): Tensor => normalTensor(foldIn(key, 100 + n), [n, 2]);
const noise = (n: number) => Float64Array.from({ length: n }, (_, i) => -1 + (2 * i) / n);

/** L(y) = ⟨y, r⟩ for a fixed random r: its gradient is r. */
const innerProduct = (r: Float32Array) => (y: Tensor) => ({ loss: dot(y.data, r), dOutput: r });

describe("tape", () => {
  it("sums the gradients of a value used twice (y = W·x + W·x has ∂W twice as large)", () => {
    const tape = createTape(kernels, true);
    const w = parameterNode(tape, "w", normalTensor(foldIn(key, 1), [3, 2]));
    const b = parameterNode(tape, "b", { shape: [3], data: new Float32Array(3) });
    const x = constantNode(tape, normalTensor(foldIn(key, 2), [4, 2]));
    const once = linearNode(tape, x, w, b);
    const y = addNode(tape, once, linearNode(tape, x, w, b));
    const dy = normalTensor(foldIn(key, 3), [4, 3]).data;
    const g = orThrow(backward(tape, y, dy));
    // ∂L/∂W[o, c] = 2·Σ_r dy[r, o]·x[r, c]
    const want = new Float64Array(6);
    for (let r = 0; r < 4; r++)
      for (let o = 0; o < 3; o++)
        for (let c = 0; c < 2; c++) want[o * 2 + c] += 2 * dy[r * 3 + o] * x.value.data[r * 2 + c];
    const got = g.get("w")?.data ?? new Float32Array();
    for (const [i, v] of want.entries()) expect(got[i]).toBeCloseTo(v, 4);
  });

  it("gives zeros to a parameter the output does not depend on, and nothing to constants", () => {
    const tape = createTape(kernels, true);
    const unused = parameterNode(tape, "unused", { shape: [2], data: Float32Array.of(1, 2) });
    const x = constantNode(tape, { shape: [1, 2], data: Float32Array.of(0.5, -1) });
    const y = siluNode(tape, scaleRowsNode(tape, x, [2]));
    expect(y.trainable).toBe(false);
    expect(tape.steps).toHaveLength(0);
    const g = orThrow(backward(tape, y, Float32Array.of(1, 1)));
    expect([...(g.get("unused")?.data ?? [])]).toEqual([0, 0]);
    expect(unused.trainable).toBe(true);
  });

  it("refuses a backward pass on an inference tape, a mis-sized or non-finite seed", () => {
    const infer = createTape(kernels, false);
    const x = constantNode(infer, { shape: [1, 1], data: Float32Array.of(1) });
    expect(E.isLeft(backward(infer, x, Float32Array.of(1)))).toBe(true);
    const rec = createTape(kernels, true);
    const p = parameterNode(rec, "p", { shape: [1, 1], data: Float32Array.of(1) });
    const y = siluNode(rec, p);
    expect(E.isLeft(backward(rec, y, Float32Array.of(1, 2)))).toBe(true);
    expect(E.isLeft(backward(rec, y, Float32Array.of(Number.NaN)))).toBe(true);
  });

  it("turns an op's Left inside a pass into the pass's Left", () => {
    const r = runOnTape(() => {
      const tape = createTape(kernels, false);
      const x = constantNode(tape, { shape: [1, 2], data: Float32Array.of(Number.NaN, 0) });
      return siluNode(tape, x);
    });
    expect(E.isLeft(r) && r.left.field).toBe("x.data[0]");
  });
});

describe("network parameters", () => {
  const net = smallMlp();

  it("initializes as PyTorch: Linear weights and biases uniform within ±1/√fan_in with variance bound²/3", () => {
    const params = initParameters(net, key);
    const w = params.get("blocks.0.linear_1.weight");
    expect(w?.shape).toEqual([16, 16]);
    const bound = 1 / Math.sqrt(16);
    const data = w?.data ?? new Float32Array();
    expect(Math.max(...data.map(Math.abs))).toBeLessThanOrEqual(bound);
    const variance = dot(data, data) / data.length;
    // Var(U[−b, b]) = b²/3; Var(x²) = b⁴/5 − b⁴/9 = 4b⁴/45, standard error √(4b⁴/45/n).
    expect(Math.abs(variance - bound ** 2 / 3)).toBeLessThan(
      4 * Math.sqrt((4 * bound ** 4) / 45 / data.length),
    );
    expect(initParameters(net, key).get("output.bias")?.data).toEqual(params.get("output.bias")?.data);
  });

  it("draws the frozen Fourier frequencies from N(0, s²) and trains no frozen parameter", () => {
    const wide = mlpNetwork(orThrow(mlpConfig({ dataDim: 2, frequencies: 4000, fourierScale: 3 })));
    const w = initParameters(wide, key).get("time_proj.weight");
    const data = w?.data ?? new Float32Array();
    const variance = dot(data, data) / data.length;
    // Var(x²) = 2s⁴ for x ~ N(0, s²).
    expect(Math.abs(variance - 9)).toBeLessThan(4 * Math.sqrt((2 * 81) / data.length));
    const params = initParameters(net, key);
    const g = orThrow(
      networkGradients(kernels, net, params, batch(4), noise(4), innerProduct(new Float32Array(8).fill(1))),
    );
    expect(g.gradients.has("time_proj.weight")).toBe(false);
    expect(g.gradients.size).toBe(net.parameters.filter((p) => p.trainable).length);
  });

  it("checks a state dict: missing, mis-shaped, non-finite and unknown parameters each name the parameter", () => {
    const params = initParameters(net, key);
    expect(E.isRight(checkParameters(net, params))).toBe(true);
    const without = new Map(params);
    without.delete("output.bias");
    const miss = checkParameters(net, without);
    expect(E.isLeft(miss) && miss.left.field).toBe("output.bias");
    const bent = new Map(params).set("output.bias", { shape: [3], data: new Float32Array(3) });
    const shape = checkParameters(net, bent);
    expect(E.isLeft(shape) && shape.left.field).toBe("output.bias.shape");
    const nan = new Map(params).set("output.bias", { shape: [2], data: Float32Array.of(0, Number.NaN) });
    const bad = checkParameters(net, nan);
    expect(E.isLeft(bad) && bad.left.rule).toBe("must be finite");
    const extra = checkParameters(
      net,
      new Map(params).set("conv.weight", { shape: [1], data: Float32Array.of(0) }),
    );
    expect(E.isLeft(extra) && extra.left.field).toBe("conv.weight");
  });
});

describe("forward and training passes", () => {
  const net: Network = smallMlp();
  const params = initParameters(net, key);

  it("validates the input: shape, batch size of the noise, finiteness", () => {
    expect(E.isLeft(forwardNetwork(kernels, net, params, normalTensor(key, [4, 3]), noise(4)))).toBe(true);
    expect(E.isLeft(forwardNetwork(kernels, net, params, batch(4), noise(3)))).toBe(true);
    expect(E.isLeft(forwardNetwork(kernels, net, params, batch(2), [0, Number.NaN]))).toBe(true);
    const y = orThrow(forwardNetwork(kernels, net, params, batch(4), noise(4)));
    expect(y.shape).toEqual([4, 2]);
  });

  it("gives the same output on a recording tape as on an inference tape", () => {
    const x = batch(5);
    const y = orThrow(forwardNetwork(kernels, net, params, x, noise(5)));
    const g = orThrow(
      networkGradients(kernels, net, params, x, noise(5), innerProduct(new Float32Array(10))),
    );
    expect([...g.output.data]).toEqual([...y.data]);
  });

  it("matches central finite differences of ⟨y, r⟩ in every trainable parameter (relative error < 1e-3)", () => {
    const x = batch(6);
    const r = normalTensor(foldIn(key, 9), [6, 2]).data;
    const loss = innerProduct(r);
    const g = orThrow(networkGradients(kernels, net, params, x, noise(6), loss));
    const f = (p: typeof params) => loss(orThrow(forwardNetwork(kernels, net, p, x, noise(6)))).loss;
    for (const spec of net.parameters.filter((s) => s.trainable)) {
      const e = directionalError(f, params, g.gradients, [spec.name]);
      expect(e.relative, spec.name).toBeLessThan(1e-3);
    }
  });

  it("refuses a non-finite loss", () => {
    const r = networkGradients(kernels, net, params, batch(2), noise(2), () => ({
      loss: Number.POSITIVE_INFINITY,
      dOutput: new Float32Array(4),
    }));
    expect(E.isLeft(r) && r.left.field).toBe("loss");
  });
});
