import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { float64Space } from "../../src/core/tensor.js";
import { virtualBrownianTree } from "../../src/solvers/index.js";

const seed = fc.integer({ min: 0, max: 2 ** 31 });
const tolerance = fc.double({ min: 1e-9, max: 1e-2, noNaN: true });
const time = fc.double({ min: 0, max: 1, noNaN: true });

const tree = (s: number, tol: number, dim = 3) =>
  orThrow(virtualBrownianTree(float64Space, orThrow(rngKey(s)), new Float64Array(dim), 0, 1, tol));

describe("virtual Brownian tree (properties)", () => {
  it("increments over any partition sum to the whole increment (1e-12)", () => {
    fc.assert(
      fc.property(seed, tolerance, fc.array(time, { minLength: 2, maxLength: 30 }), (s, tol, cuts) => {
        const ts = [...cuts].sort((a, b) => a - b);
        const path = tree(s, tol);
        const sum = new Float64Array(3);
        for (let k = 1; k < ts.length; k++) {
          const dW = path.increment(ts[k - 1], ts[k]);
          for (let i = 0; i < 3; i++) sum[i] += dW[i];
        }
        const whole = path.increment(ts[0], ts[ts.length - 1]);
        return whole.every((w, i) => Math.abs(sum[i] - w) <= 1e-12 * (1 + Math.abs(w)));
      }),
      { numRuns: 100 },
    );
  });

  it("the answers do not depend on the order of the queries (two paths, one key)", () => {
    fc.assert(
      fc.property(
        seed,
        tolerance,
        fc.array(fc.tuple(time, time), { minLength: 1, maxLength: 12 }),
        fc.infiniteStream(fc.nat()),
        (s, tol, intervals, randomness) => {
          const order = intervals.map((_, i) => i);
          const it = randomness[Symbol.iterator]();
          for (let i = order.length - 1; i > 0; i--) {
            const j = (it.next().value as number) % (i + 1);
            [order[i], order[j]] = [order[j], order[i]];
          }
          const inOrder = intervals.map(([a, b]) => Array.from(tree(s, tol).increment(a, b)));
          const second = tree(s, tol);
          const shuffled: number[][] = new Array(intervals.length);
          for (const i of order) shuffled[i] = Array.from(second.increment(intervals[i][0], intervals[i][1]));
          expect(shuffled).toEqual(inOrder);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("reversing an interval negates its increment; W(t) − W(s) = (W(t) − W(0)) − (W(s) − W(0))", () => {
    fc.assert(
      fc.property(seed, tolerance, time, time, (s, tol, a, b) => {
        const path = tree(s, tol);
        const forwards = path.increment(a, b);
        const backwards = path.increment(b, a);
        const wa = path.increment(0, a);
        const wb = path.increment(0, b);
        return forwards.every(
          (f, i) => f === -backwards[i] && Math.abs(f - (wb[i] - wa[i])) <= 1e-14 * (1 + Math.abs(f)),
        );
      }),
      { numRuns: 100 },
    );
  });
});
