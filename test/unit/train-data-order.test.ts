import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import {
  DATA_ORDER_START,
  dataOrder,
  dataOrderState,
  epochPermutation,
  gatherRows,
  nextBatch,
} from "../../src/train/data-order.js";

const key = orThrow(rngKey(3));

describe("dataOrder", () => {
  it("validates M and B", () => {
    expect(E.isRight(dataOrder(key, 10, 4))).toBe(true);
    const bad = dataOrder(key, 0, 4);
    expect(E.isLeft(bad) && bad.left.message).toBe(
      "data order: examples must be an integer ≥ 1, got examples=0",
    );
    expect(E.isLeft(dataOrder(key, 10, 2.5))).toBe(true);
  });

  it("checks a saved position against M", () => {
    const order = orThrow(dataOrder(key, 10, 4));
    expect(orThrow(dataOrderState(order, { epoch: 2, offset: 9 }))).toEqual({ epoch: 2, offset: 9 });
    const beyond = dataOrderState(order, { epoch: 2, offset: 10 });
    expect(E.isLeft(beyond) && beyond.left.message).toMatch(/offset must be < the number of examples M = 10/);
    expect(E.isLeft(dataOrderState(order, { epoch: -1, offset: 0 }))).toBe(true);
  });
});

describe("epochPermutation", () => {
  it("is a permutation, fixed by (key, M, epoch), different across epochs", () => {
    const a = epochPermutation(key, 100, 0);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(epochPermutation(key, 100, 0)).toEqual(a);
    expect(epochPermutation(key, 100, 1)).not.toEqual(a);
    expect(epochPermutation(orThrow(rngKey(4)), 100, 0)).not.toEqual(a);
  });

  it("puts each index at each position about equally often (M = 4, 24 000 epochs)", () => {
    const counts = Array.from({ length: 4 }, () => new Array(4).fill(0));
    const epochs = 24_000;
    for (let e = 0; e < epochs; e++)
      for (const [pos, v] of epochPermutation(key, 4, e).entries()) counts[pos][v] += 1;
    // Each count ~ Binomial(24 000, 1/4): mean 6000, sd ≈ 67; 5 sd.
    for (const row of counts) for (const c of row) expect(Math.abs(c - 6000)).toBeLessThan(340);
  });
});

describe("nextBatch", () => {
  it("slices the epochs' permutations in order and straddles epoch boundaries", () => {
    const order = orThrow(dataOrder(key, 5, 3));
    const seq = [...epochPermutation(key, 5, 0), ...epochPermutation(key, 5, 1)];
    const b1 = nextBatch(order, DATA_ORDER_START);
    expect([...b1.indices]).toEqual(seq.slice(0, 3));
    expect(b1.state).toEqual({ epoch: 0, offset: 3 });
    const b2 = nextBatch(order, b1.state);
    expect([...b2.indices]).toEqual(seq.slice(3, 6));
    expect(b2.state).toEqual({ epoch: 1, offset: 1 });
  });

  it("rolls an exactly used-up epoch over to the next one", () => {
    const order = orThrow(dataOrder(key, 6, 3));
    expect(nextBatch(order, { epoch: 0, offset: 3 }).state).toEqual({ epoch: 1, offset: 0 });
  });

  it("handles batches larger than the dataset (several epochs per batch)", () => {
    const order = orThrow(dataOrder(key, 3, 8));
    const b = nextBatch(order, DATA_ORDER_START);
    const seq = [0, 1, 2].flatMap((e) => [...epochPermutation(key, 3, e)]);
    expect([...b.indices]).toEqual(seq.slice(0, 8));
    expect(b.state).toEqual({ epoch: 2, offset: 2 });
  });
});

describe("gatherRows", () => {
  it("gathers rows of a [M, ...] tensor, keeping the storage type", () => {
    const x = { shape: [3, 2, 2], data: Float64Array.from({ length: 12 }, (_, i) => i) };
    const g = gatherRows(x, [2, 0, 2]);
    expect(g.shape).toEqual([3, 2, 2]);
    expect(g.data).toBeInstanceOf(Float64Array);
    expect([...g.data]).toEqual([8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11]);
    const y = gatherRows({ shape: [2, 1], data: Float32Array.from([5, 7]) }, Uint32Array.from([1]));
    expect(y).toEqual({ shape: [1, 1], data: Float32Array.from([7]) });
  });
});
