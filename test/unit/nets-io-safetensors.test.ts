import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import { readSafetensors, writeSafetensors } from "../../src/nets/io/safetensors.js";

/** A file from a header text (length written as given, no padding) and a data buffer. */
const craft = (header: string, data: ArrayLike<number> = []): Uint8Array => {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(Array.from(data), 8 + json.length);
  return out;
};
const message = (r: E.Either<{ readonly message: string }, unknown>): string =>
  E.isLeft(r) ? r.left.message : "";
const f32 = (shape: number[], values: number[]): Tensor => ({ shape, data: Float32Array.from(values) });

describe("writeSafetensors: the reference implementation's bytes", () => {
  // huggingface/safetensors safetensors/src/tensor.rs tests `test_serialization`, `test_empty`,
  // `test_serialization_forced_alignement`: the exact byte vectors they assert.
  const data = [0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64];
  it("one F32 tensor, header already 8-aligned", () => {
    const out = orThrow(writeSafetensors({ "attn.0": f32([1, 2, 3], [0, 1, 2, 3, 4, 5]) }));
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(Array.from(out)).toEqual([64, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode(header), ...data]);
  });
  it("pads the header with spaces to a multiple of 8", () => {
    const out = orThrow(writeSafetensors(new Map([["attn0", f32([1, 1, 2, 3], [0, 1, 2, 3, 4, 5])]])));
    const header = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ';
    expect(Array.from(out)).toEqual([72, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode(header), ...data]);
  });
  it("no tensors, with and without metadata", () => {
    expect(Array.from(orThrow(writeSafetensors({})))).toEqual([
      8,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      123,
      125,
      ...Array(6).fill(32),
    ]);
    const header = '{"__metadata__":{"framework":"pt"}}     ';
    expect(Array.from(orThrow(writeSafetensors({}, { framework: "pt" })))).toEqual([
      40,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...new TextEncoder().encode(header),
    ]);
  });
  it("orders tensors by name (code points) and metadata keys likewise", () => {
    const t = f32([1], [1]);
    const out = orThrow(writeSafetensors({ b: t, "\u{1F600}": t, "\uFFFD": t, a: t }, { z: "1", y: "2" }));
    const read = orThrow(readSafetensors(out));
    // UTF-16 order would put U+1F600 (a surrogate pair) before U+FFFD; UTF-8 / code-point order puts it after.
    expect([...read.tensors.keys()]).toEqual(["a", "b", "\uFFFD", "\u{1F600}"]);
    expect(Object.keys(read.metadata)).toEqual(["y", "z"]);
  });
});

describe("readSafetensors", () => {
  it("reads F32 little-endian, any header length (no alignment needed), from an offset view or an ArrayBuffer", () => {
    const file = craft(
      '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
      [0, 0, 128, 63, 0, 0, 0, 192],
    );
    const inner = new Uint8Array(file.length + 3);
    inner.set(file, 3);
    for (const input of [file, inner.subarray(3), file.slice().buffer]) {
      const r = orThrow(readSafetensors(input));
      expect(Array.from(r.tensors.get("x")!.data)).toEqual([1, -2]);
      expect(r.dtypes.get("x")).toBe("F32");
      expect(r.metadata).toEqual({});
    }
  });

  it("keeps scalars, empty tensors and metadata", () => {
    const file = craft(
      '{"__metadata__":{"format":"pt","__proto__":"x"},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
        '"e":{"dtype":"F16","shape":[2,0],"data_offsets":[4,4]}}',
      [0, 0, 64, 64],
    );
    const r = orThrow(readSafetensors(file));
    expect(r.tensors.get("s")).toEqual({ shape: [], data: Float32Array.of(3) });
    expect(r.tensors.get("e")).toEqual({ shape: [2, 0], data: new Float32Array(0) });
    expect(Object.getPrototypeOf(r.metadata)).toBe(Object.prototype);
    expect(Object.entries(r.metadata)).toEqual([
      ["format", "pt"],
      ["__proto__", "x"],
    ]);
  });

  it("F16 → float32 is exact for all 65 536 bit patterns (subnormals, ±0, ±∞, NaN payloads)", () => {
    const bytes = new Uint8Array(2 * 65536);
    const view = new DataView(bytes.buffer);
    for (let h = 0; h < 65536; h++) view.setUint16(2 * h, h, true);
    const r = orThrow(
      readSafetensors(craft('{"h":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}}', bytes)),
    );
    const got = r.tensors.get("h")!.data;
    const gotBits = new Uint32Array(got.buffer);
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const sign = h >> 15 ? -1 : 1;
      const e = (h >> 10) & 31;
      const m = h & 1023;
      // ±∞ and NaN: exponent all ones, the 10 mantissa bits moved to the top of float32's 23 (payload kept).
      const ok =
        e === 31
          ? gotBits[h] === (((h >> 15) << 31) | 0x7f800000 | (m << 13)) >>> 0
          : Object.is(got[h], sign * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15)));
      if (!ok) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it("BF16 → float32 is exact for all 65 536 bit patterns", () => {
    const bytes = new Uint8Array(2 * 65536);
    const view = new DataView(bytes.buffer);
    for (let h = 0; h < 65536; h++) view.setUint16(2 * h, h, true);
    const r = orThrow(
      readSafetensors(craft('{"b":{"dtype":"BF16","shape":[65536],"data_offsets":[0,131072]}}', bytes)),
    );
    const got = r.tensors.get("b")!.data;
    const gotBits = new Uint32Array(got.buffer);
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const e = (h >> 7) & 255;
      const m = h & 127;
      const ok =
        e === 255
          ? gotBits[h] === (h << 16) >>> 0
          : Object.is(
              got[h],
              (h >> 15 ? -1 : 1) * (e === 0 ? m * 2 ** -133 : (1 + m / 128) * 2 ** (e - 127)),
            );
      if (!ok) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it("F64 rounds to the nearest float32, keeps ±∞ and NaN, refuses finite values beyond the float32 range", () => {
    const values = [Math.PI, -1e-40, 1e-50, Infinity, Number.NaN, 3.4028235e38];
    const bytes = new Uint8Array(8 * values.length);
    values.forEach((v, i) => {
      new DataView(bytes.buffer).setFloat64(8 * i, v, true);
    });
    const header = `{"d":{"dtype":"F64","shape":[${values.length}],"data_offsets":[0,${bytes.length}]}}`;
    const r = orThrow(readSafetensors(craft(header, bytes)));
    expect(Array.from(r.tensors.get("d")!.data)).toEqual(values.map(Math.fround));
    expect(r.dtypes.get("d")).toBe("F64");
    const big = new Uint8Array(8);
    new DataView(big.buffer).setFloat64(0, -1e39, true);
    expect(
      message(readSafetensors(craft('{"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', big))),
    ).toBe(
      "safetensors: d[0] must lie within the float32 range (|x| ≤ 3.4028235e38) to be read as float32, got d[0]=-1e+39",
    );
  });

  it("names what is wrong and returns no partial result", () => {
    const ok = '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    const four = [0, 0, 128, 63];
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(5), /file must hold at least the 8-byte header length, got 5 bytes/],
      [
        Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 0),
        /header length must be ≤ 100000000 bytes, got header length=4294967296/,
      ],
      [craft(`{${ok}}`, four).subarray(0, 30), /header length must fit in the file .* truncated or corrupt/],
      [craft("{}").map((b, i) => (i === 8 ? 0xff : b)), /header must be valid UTF-8/],
      [craft('{"a":'), /header must be valid JSON/],
      [craft("[1, 2]"), /header must be a JSON object/],
      [craft(`{${ok},${ok}}`, four), /header must not repeat a key, got key "a" twice/],
      [craft(`{${ok},"\\u0061":{}}`, four), /must not repeat a key, got key "a" twice/],
      [
        craft('{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', four),
        /key "dtype" twice/,
      ],
      [craft('{"a":[1]}'), /header\["a"\] must be an object \{dtype, shape, data_offsets\}/],
      [
        craft('{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}', four),
        /dtype must be one of F32, F16, BF16, F64/,
      ],
      [
        craft('{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}', four),
        /dtype must be a safetensors dtype/,
      ],
      [
        craft('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', four),
        /shape must be a list of integers ≥ 0/,
      ],
      [
        craft('{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', four),
        /shape must be a list of integers/,
      ],
      [
        craft('{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}'),
        /must have a byte size below 2⁵³/,
      ],
      [
        craft('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', four),
        /data_offsets must be two integers 0 ≤ begin ≤ end/,
      ],
      [
        craft('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', four),
        /data_offsets must span numel\(shape\) · sizeof\(F32\) = 8 bytes, got data_offsets=\[0, 4\] \(4 bytes\)/,
      ],
      [
        craft(`{${ok},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four),
        /header\["b"\]\.data_offsets must begin where the previous tensor ends, at byte 4 \(overlap\)/,
      ],
      [
        craft('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', [...four, ...four]),
        /at byte 0 \(hole\)/,
      ],
      [
        craft(`{${ok}}`, [...four, 1]),
        /data buffer must end exactly where the last tensor ends, at byte 4 \(trailing bytes\)/,
      ],
      [craft(`{${ok}}`, [0, 0]), /at byte 4 \(the file is truncated\), got buffer of 2 bytes/],
      [craft(`{"__metadata__":{"a":1},${ok}}`, four), /__metadata__ must be an object of string values/],
      [craft('{"__metadata__":[]}'), /__metadata__ must be an object of string values/],
    ];
    for (const [file, pattern] of cases) {
      const r = readSafetensors(file);
      expect(E.isLeft(r), pattern.source).toBe(true);
      expect(message(r)).toMatch(/^safetensors: /);
      expect(message(r)).toMatch(pattern);
    }
  });
});

describe("writeSafetensors: errors", () => {
  it("refuses the reserved name, lone surrogates, bad shapes and mismatched data", () => {
    const t = f32([2], [1, 2]);
    expect(message(writeSafetensors({ __metadata__: t }))).toMatch(
      /name must not be the reserved key __metadata__/,
    );
    expect(message(writeSafetensors({ "a\uD800": t }))).toMatch(/name must be well-formed Unicode/);
    expect(message(writeSafetensors({ a: t }, { k: "\uDC00" }))).toMatch(
      /__metadata__\["k"\] must be well-formed/,
    );
    expect(message(writeSafetensors({ a: f32([2.5], [1, 2]) }))).toMatch(
      /a\.shape must be a list of integers ≥ 0/,
    );
    expect(message(writeSafetensors({ a: f32([3], [1, 2]) }))).toBe(
      "safetensors: a.data length must equal the product of the shape [3] = 3, got data.length=2",
    );
  });
});
