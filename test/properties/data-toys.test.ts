import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { TOY_NAMES, TOYS } from "../../src/data/toys.js";

const seed = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const toy = fc.constantFrom(...TOY_NAMES);

describe("toy sampler properties", () => {
  it("the same key gives the same points", () => {
    fc.assert(
      fc.property(toy, seed, fc.integer({ min: 1, max: 40 }), (name, s, n) => {
        const key = orThrow(rngKey(s));
        expect(TOYS[name](key, n)).toEqual(TOYS[name](key, n));
      }),
      { numRuns: 100 },
    );
  });

  it("a draw of m points is the first m rows of a draw of n ≥ m points", () => {
    fc.assert(
      fc.property(
        toy,
        seed,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        (name, s, m, extra) => {
          const key = orThrow(rngKey(s));
          const short = TOYS[name](key, m);
          const long = TOYS[name](key, m + extra);
          expect(long.shape).toEqual([m + extra, 2]);
          expect(Array.from(long.data.subarray(0, 2 * m))).toEqual(Array.from(short.data));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("different keys give different points", () => {
    fc.assert(
      fc.property(toy, seed, seed, (name, a, b) => {
        fc.pre(a !== b);
        const x = TOYS[name](orThrow(rngKey(a)), 4);
        const y = TOYS[name](orThrow(rngKey(b)), 4);
        return x.data.some((v, i) => v !== y.data[i]);
      }),
      { numRuns: 100 },
    );
  });
});
