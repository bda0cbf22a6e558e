/**
 * The micro-kernels split across helper threads (src/nets/wasm/threads.ts, src/node/kernel-threads.ts): every
 * split call, every op and a whole U-Net pass give exactly the bits of one thread, and the threads report
 * failures, refuse bad counts and stop.
 */

import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { foldIn, rngKey } from "../../src/core/rng.js";
import { createBackend } from "../../src/nets/backend.js";
import { conv2dShape } from "../../src/nets/conv2d-shape.js";
import { wasmConv2d } from "../../src/nets/kernels/conv2d-wasm.js";
import { wasmLinear } from "../../src/nets/kernels/linear-wasm.js";
import { linearShape } from "../../src/nets/linear-shape.js";
import { initParameters, type LossAndGradient, networkGradients } from "../../src/nets/network.js";
import { netKernels } from "../../src/nets/tape.js";
import { instantiateMicroKernels } from "../../src/nets/wasm/micro-kernels.js";
import { type KernelThreads, threadedMicroKernels } from "../../src/nets/wasm/threads.js";
import { createKernelThreads } from "../../src/node/kernel-threads.js";
import { normalTensor, smallUnet } from "../support/nets-fixtures.js";

/** Same length and the same bits everywhere (Object.is: −0 ≠ +0, NaN = NaN). */
const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

const key = orThrow(rngKey(11));

describe("kernel threads", () => {
  let threads: KernelThreads;

  beforeAll(() => {
    threads = orThrow(createKernelThreads(2));
  });

  afterAll(async () => {
    await threads.dispose();
  });

  it("split panel products and row dots give one thread's bits, over uneven block ranges", () => {
    // Every call splits (no minimum work), up to 3 ways; the same memory is read by one thread and by three.
    const split = threadedMicroKernels(threads, 0)!;
    const single = instantiateMicroKernels(threads.memory)!;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 1000 }),
        (mBlocks, nk, n8, seed) => {
          const n = 8 * n8;
          const pairs = Math.ceil(nk / 2);
          const rows = Math.max(nk, 4 * mBlocks); // B's rows; rowDots reads its first 4·mBlocks as A
          const cFloats = 4 * mBlocks * Math.max(n, 2 * pairs);
          const a = 16;
          const b = a + mBlocks * nk * 16;
          const offs = b + rows * n * 4;
          const cOne = offs + 2 * pairs * 4;
          const cSplit = cOne + cFloats * 4;
          const need = cSplit + cFloats * 4;
          if (threads.memory.buffer.byteLength < need) threads.memory.grow(Math.ceil(need / 65536));
          const f32 = new Float32Array(threads.memory.buffer);
          const i32 = new Int32Array(threads.memory.buffer);
          f32.set(normalTensor(foldIn(key, seed), [(offs - a) / 4]).data, a / 4);
          for (let k = 0; k < 2 * pairs; k++) i32[offs / 4 + k] = b + Math.min(k, nk - 1) * n * 4;
          f32.fill(0, cOne / 4, cSplit / 4 + cFloats); // both C regions start equal
          const agree = (): boolean =>
            sameBits(f32.slice(cOne / 4, cOne / 4 + cFloats), f32.slice(cSplit / 4, cSplit / 4 + cFloats));
          single.panelProduct(a, offs, nk, cOne, n * 4, mBlocks, n * 4);
          split.panelProduct(a, offs, nk, cSplit, n * 4, mBlocks, n * 4);
          const products = agree();
          single.rowDots(b, n * 4, offs, pairs, cOne, 2 * pairs * 4, mBlocks, n * 4);
          split.rowDots(b, n * 4, offs, pairs, cSplit, 2 * pairs * 4, mBlocks, n * 4);
          return products && agree();
        },
      ),
      { numRuns: 60 },
    );
  });

  it("conv2d and linear, forward and backward, give one thread's bits on layers large enough to split", () => {
    const conv = { one: wasmConv2d("one")!, split: wasmConv2d("split", threads)! };
    for (const [n, cin, cout, size, stride] of [
      [2, 16, 32, 16, 1],
      [3, 8, 20, 15, 2],
      [1, 32, 1, 16, 1],
    ] as const) {
      const x = normalTensor(foldIn(key, 1), [n, cin, size, size]);
      const w = normalTensor(foldIn(key, 2), [cout, cin, 3, 3]);
      const g = orThrow(conv2dShape(x, w, undefined, { stride, padding: 1 }));
      const y = conv.one.forward(g, x.data, w.data, undefined);
      expect(sameBits(conv.split.forward(g, x.data, w.data, undefined), y)).toBe(true);
      const one = conv.one.backward(g, x.data, w.data, y);
      const split = conv.split.backward(g, x.data, w.data, y);
      for (const part of ["dx", "dw", "db"] as const)
        expect(sameBits(split[part], one[part]), part).toBe(true);
    }
    const lin = { one: wasmLinear("one")!, split: wasmLinear("split", threads)! };
    const x = normalTensor(foldIn(key, 3), [300, 96]);
    const w = normalTensor(foldIn(key, 4), [130, 96]);
    const g = orThrow(linearShape(x, w, undefined));
    const y = lin.one.forward(g, x.data, w.data, undefined);
    expect(sameBits(lin.split.forward(g, x.data, w.data, undefined), y)).toBe(true);
    const one = lin.one.backward(g, x.data, w.data, y);
    const split = lin.split.backward(g, x.data, w.data, y);
    for (const part of ["dx", "dw", "db"] as const) expect(sameBits(split[part], one[part]), part).toBe(true);
  });

  it("a U-Net training pass gives the same loss, output and gradients, bit for bit", async () => {
    const network = smallUnet(16);
    const parameters = initParameters(network, foldIn(key, 5));
    const x = normalTensor(foldIn(key, 6), [4, 1, 16, 16]);
    const mse = (y: { readonly data: Float32Array }): LossAndGradient => ({
      loss: y.data.reduce((s, v) => s + v * v, 0) / y.data.length,
      dOutput: Float32Array.from(y.data, (v) => (2 * v) / y.data.length),
    });
    const backend = orThrow(await createBackend("webasm"));
    const passes = [orThrow(netKernels(backend)), orThrow(netKernels(backend, threads))].map((k) =>
      orThrow(networkGradients(k, network, parameters, x, [1, 200, 500, 999], mse)),
    );
    expect(passes[1].loss).toBe(passes[0].loss);
    expect(sameBits(passes[1].output.data, passes[0].output.data)).toBe(true);
    for (const [name, g] of passes[0].gradients)
      expect(sameBits(passes[1].gradients.get(name)!.data, g.data), name).toBe(true);
    expect(orThrow(netKernels(backend, threads)).conv2d.reason).toMatch(/, on 3 threads$/);
  });

  it("a helper's failed call is an Error on the calling thread, and the helper serves the next call", () => {
    const split = threadedMicroKernels(threads, 0)!;
    const size = threads.memory.buffer.byteLength;
    const f32 = new Float32Array(threads.memory.buffer);
    // A: 2 panels of one column (8 ones at byte 0); B: one row of 8 ones at byte 48, its offset at byte 32.
    f32.fill(1, 0, 8);
    f32.fill(1, 12, 20);
    new Int32Array(threads.memory.buffer)[8] = 48;
    // C's rows ⌊(size − 224)/3⌋ bytes apart from byte 128: block 0 (here) fits, block 1 (the helper) does not.
    const far = 16 * Math.floor((size - 224) / 48);
    expect(() => split.panelProduct(0, 32, 1, 128, far, 2, 32)).toThrow(/helper 0 failed its call/);
    f32.fill(0, 32, 96);
    split.panelProduct(0, 32, 1, 128, 32, 2, 32);
    expect(Array.from(f32.subarray(32, 96))).toEqual(new Array(64).fill(1));
  });
});

describe("createKernelThreads", () => {
  it("refuses a count that is not an integer ≥ 0, naming it", () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      const t = createKernelThreads(bad);
      expect(E.isLeft(t) && t.left.message).toMatch(/kernel threads: helpers must be an integer ≥ 0/);
    }
  });

  it("with no helper, runs every call on the calling thread and names no thread count", async () => {
    const none = orThrow(createKernelThreads(0));
    const backend = orThrow(await createBackend("webasm"));
    expect(orThrow(netKernels(backend, none)).conv2d.reason).not.toMatch(/threads/);
    const x = normalTensor(foldIn(key, 7), [2, 8, 8, 8]);
    const w = normalTensor(foldIn(key, 8), [8, 8, 3, 3]);
    const g = orThrow(conv2dShape(x, w, undefined, { stride: 1, padding: 1 }));
    const y = wasmConv2d("none", none)!.forward(g, x.data, w.data, undefined);
    expect(sameBits(y, wasmConv2d("one")!.forward(g, x.data, w.data, undefined))).toBe(true);
    await none.dispose();
  });
});
