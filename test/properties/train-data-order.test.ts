import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import {
  DATA_ORDER_START,
  type DataOrder,
  type DataOrderState,
  dataOrder,
  nextBatch,
} from "../../src/train/data-order.js";

/** The indices of `batches` consecutive batches from `state`, and the state after them. */
const run = (order: DataOrder, state: DataOrderState, batches: number) => {
  const indices: number[] = [];
  let current = state;
  for (let i = 0; i < batches; i++) {
    const b = nextBatch(order, current);
    indices.push(...b.indices);
    current = b.state;
  }
  return { indices, state: current };
};

const orderArb = fc
  .record({
    seed: fc.nat(),
    examples: fc.integer({ min: 1, max: 40 }),
    batchSize: fc.integer({ min: 1, max: 50 }),
  })
  .map(({ seed, examples, batchSize }) => orThrow(dataOrder(orThrow(rngKey(seed)), examples, batchSize)));

describe("data order properties", () => {
  it("each epoch visits every index exactly once", () => {
    fc.assert(
      fc.property(orderArb, fc.integer({ min: 1, max: 4 }), (order, epochs) => {
        const m = order.examples;
        const { indices } = run(order, DATA_ORDER_START, Math.ceil((epochs * m) / order.batchSize));
        const identity = Array.from({ length: m }, (_, i) => i);
        for (let e = 0; e < epochs; e++)
          expect(indices.slice(e * m, (e + 1) * m).sort((a, b) => a - b)).toEqual(identity);
      }),
    );
  });

  it("resuming from a saved (JSON round-tripped) state gives the same sequence as running straight", () => {
    fc.assert(
      fc.property(
        orderArb,
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 12 }),
        (order, k, rest) => {
          const straight = run(order, DATA_ORDER_START, k + rest);
          const first = run(order, DATA_ORDER_START, k);
          const saved = JSON.parse(JSON.stringify(first.state)) as DataOrderState;
          const second = run(order, saved, rest);
          expect([...first.indices, ...second.indices]).toEqual(straight.indices);
          expect(second.state).toEqual(straight.state);
          // The state is the position in the concatenated sequence.
          const pos = (k + rest) * order.batchSize;
          return (
            straight.state.epoch === Math.floor(pos / order.examples) &&
            straight.state.offset === pos % order.examples
          );
        },
      ),
    );
  });
});
