import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { parseIdx } from "../../src/data/idx.js";

/** True when `bytes` is a well-formed unsigned-byte IDX buffer, decided independently of the parser. */
const consistent = (bytes: Uint8Array): boolean => {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 8 || bytes[3] === 0) return false;
  const ndim = bytes[3];
  if (bytes.length < 4 + 4 * ndim) return false;
  let count = 1;
  for (let k = 0; k < ndim; k++) {
    const o = 4 + 4 * k;
    count *= bytes[o] * 2 ** 24 + bytes[o + 1] * 2 ** 16 + bytes[o + 2] * 2 ** 8 + bytes[o + 3];
  }
  return bytes.length === 4 + 4 * ndim + count;
};

/** A well-formed IDX buffer with up to three axes of size 0–4. */
const validIdx = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }).chain((dims) =>
  fc
    .uint8Array({ minLength: dims.reduce((a, b) => a * b, 1), maxLength: dims.reduce((a, b) => a * b, 1) })
    .map((values) => {
      const out = new Uint8Array(4 + 4 * dims.length + values.length);
      out[2] = 8;
      out[3] = dims.length;
      dims.forEach((d, k) => {
        out[7 + 4 * k] = d;
      });
      out.set(values, 4 + 4 * dims.length);
      return out;
    }),
);

/** A byte mutation: overwrite one byte, truncate, or append bytes. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("append" as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

const mutate = (bytes: Uint8Array, m: Mutation): Uint8Array => {
  if (m.kind === "set") {
    if (bytes.length === 0) return bytes;
    const b = bytes.slice();
    b[m.at % b.length] = m.value;
    return b;
  }
  if (m.kind === "cut") return bytes.slice(0, m.at % (bytes.length + 1));
  const b = new Uint8Array(bytes.length + m.extra.length);
  b.set(bytes);
  b.set(m.extra, bytes.length);
  return b;
};

describe("parseIdx properties", () => {
  it("valid buffers parse to their sizes and values", () => {
    fc.assert(
      fc.property(validIdx, (bytes) => {
        const r = parseIdx(bytes);
        expect(E.isRight(r)).toBe(true);
        if (E.isRight(r))
          expect(Array.from(r.right.data)).toEqual(Array.from(bytes.subarray(4 + 4 * bytes[3])));
      }),
    );
  });

  it("under random byte mutations it never throws, and is Right exactly when the buffer is consistent", () => {
    fc.assert(
      fc.property(validIdx, fc.array(mutation, { minLength: 1, maxLength: 4 }), (bytes, ms) => {
        const mutated = ms.reduce(mutate, bytes);
        const r = parseIdx(mutated);
        if (E.isRight(r)) expect(4 + 4 * r.right.dims.length + r.right.data.length).toBe(mutated.length);
        return E.isRight(r) === consistent(mutated);
      }),
      { numRuns: 500 },
    );
  });

  it("random bytes (some behind a valid magic and type) never throw, and are Right exactly when consistent", () => {
    const headed = fc
      .tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 24 }))
      .map(([ndim, rest]) => Uint8Array.of(0, 0, 8, ndim, ...rest));
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 40 }), headed),
        (bytes) => E.isRight(parseIdx(bytes)) === consistent(bytes),
      ),
      { numRuns: 500 },
    );
  });
});
