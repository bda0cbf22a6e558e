import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { decodePng, encodePng } from "../../src/data/png.js";

/** A [C, H, W] image (C = 1 or 3, H, W ≤ 12) of 8-bit values, as bytes and as the tensor v/127.5 − 1. */
const image = fc
  .tuple(fc.constantFrom(1, 3), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }))
  .chain(([c, h, w]) =>
    fc
      .uint8Array({ minLength: c * h * w, maxLength: c * h * w })
      .map((bytes) => ({ shape: [c, h, w], data: Float32Array.from(bytes, (v) => v / 127.5 - 1) })),
  );

describe("PNG properties", () => {
  it("encode then decode gives back every 8-bit value exactly", () => {
    fc.assert(
      fc.property(image, (t) => {
        expect(orThrow(decodePng(orThrow(encodePng(t))))).toEqual(t);
      }),
      { numRuns: 200 },
    );
  });

  it("corrupting bytes of a valid PNG never throws; a Right is still an image of the encoded shape", () => {
    fc.assert(
      fc.property(
        image,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (t, edits) => {
          const png = orThrow(encodePng(t)).slice();
          for (const [at, v] of edits) png[at % png.length] = v;
          const r = decodePng(png);
          // With CRCs checked, only edits to bytes the decoder ignores (or no-op edits) can leave a Right.
          return E.isLeft(r) || r.right.data.length === t.data.length;
        },
      ),
      { numRuns: 300 },
    );
  });
});
