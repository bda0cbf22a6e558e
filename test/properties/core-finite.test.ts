/**
 * firstNonFinite (src/core/tensor.ts) against the definition: the first index whose value is not finite, for
 * float32 and float64 data of any length, with ±∞ or NaN planted anywhere, huge finite values included (whose
 * product with 0 is still 0).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { firstNonFinite } from "../../src/core/tensor.js";

const reference = (data: ArrayLike<number>): number => Array.from(data).findIndex((v) => !Number.isFinite(v));

describe("firstNonFinite", () => {
  it("finds the first non-finite value exactly where a scan would, for any length and placement", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -3.4e38, max: 3.4e38 }), {
          maxLength: 40,
        }),
        fc.array(
          fc.tuple(fc.nat(), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)),
          {
            maxLength: 3,
          },
        ),
        fc.boolean(),
        (values, planted, single) => {
          const data = single ? Float32Array.from(values) : Float64Array.from(values);
          for (const [at, v] of planted) if (data.length > 0) data[at % data.length] = v;
          return firstNonFinite(data) === reference(data);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("answers −1 for the largest finite values and for −0, and finds a lone NaN at the end", () => {
    const extremes = Float32Array.from([3.4028234663852886e38, -3.4028234663852886e38, -0, 1e-45, 0]);
    expect(firstNonFinite(extremes)).toBe(-1);
    expect(firstNonFinite(Float64Array.of(Number.MAX_VALUE, -Number.MAX_VALUE))).toBe(-1);
    const tail = new Float32Array(4099);
    tail[4098] = Number.NaN;
    expect(firstNonFinite(tail)).toBe(4098);
    expect(firstNonFinite([])).toBe(-1);
  });
});
