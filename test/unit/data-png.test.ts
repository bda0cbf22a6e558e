import { encode } from "fast-png";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import { intensityToUnit, unitToByte } from "../../src/data/pixels.js";
import { decodePng, encodePng, imageStack } from "../../src/data/png.js";

const unit = (v: number) => v / 127.5 - 1;
/** A tensor [C, H, W] whose planar value at flat index p is f(p). */
const planar = (shape: [number, number, number], f: (p: number) => number): Tensor => ({
  shape,
  data: Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, (_, p) => f(p)),
});

describe("pixel convention", () => {
  it("maps every byte to v/127.5 − 1 and back exactly, in float64 and float32", () => {
    for (let v = 0; v < 256; v++) {
      expect(intensityToUnit(v)).toBe(unit(v));
      expect(unitToByte(intensityToUnit(v))).toBe(v);
      expect(unitToByte(Math.fround(intensityToUnit(v)))).toBe(v);
    }
  });

  it("rounds to the nearest byte and clamps", () => {
    expect(unitToByte(0)).toBe(128);
    expect(unitToByte(-1)).toBe(0);
    expect(unitToByte(1)).toBe(255);
    expect(unitToByte(-7)).toBe(0);
    expect(unitToByte(3)).toBe(255);
    expect(unitToByte(unit(100) + 0.3 / 127.5)).toBe(100);
    expect(unitToByte(unit(100) + 0.7 / 127.5)).toBe(101);
    expect(unitToByte(Number.NaN)).toBe(0);
  });
});

describe("PNG encode and decode", () => {
  it("round-trips every 8-bit value exactly, gray and RGB", () => {
    const gray = planar([1, 16, 16], (p) => unit(p));
    expect(orThrow(decodePng(orThrow(encodePng(gray))))).toEqual(gray);
    const rgb = planar([3, 8, 32], (p) => unit((p * 37) % 256));
    expect(orThrow(decodePng(orThrow(encodePng(rgb))))).toEqual(rgb);
  });

  it("encodes planar [C, H, W] as interleaved RGB pixels, clamped and rounded", () => {
    const t = planar([3, 1, 2], (p) => [-1, 1, 0, 5, 0.5, -2][p]);
    const png = orThrow(encodePng(t));
    expect(Array.from(orThrow(decodePng(png)).data)).toEqual(
      [-1, 1, 0, 1, 0.5, -1].map((x) => Math.fround(unit(unitToByte(x)))),
    );
  });

  it("drops alpha: gray + alpha → 1 channel, RGBA → 3 channels", () => {
    const ga = encode({
      width: 2,
      height: 1,
      data: Uint8Array.from([10, 255, 20, 0]),
      channels: 2,
      depth: 8,
    });
    expect(orThrow(decodePng(ga))).toEqual({ shape: [1, 1, 2], data: Float32Array.from([10, 20], unit) });
    const rgba = encode({
      width: 1,
      height: 2,
      data: Uint8Array.from([1, 2, 3, 0, 4, 5, 6, 99]),
      channels: 4,
      depth: 8,
    });
    expect(orThrow(decodePng(rgba))).toEqual({
      shape: [3, 2, 1],
      data: Float32Array.from([1, 4, 2, 5, 3, 6], unit),
    });
  });

  it("scales 16-bit samples by 65535", () => {
    const png = encode({
      width: 3,
      height: 1,
      data: Uint16Array.from([0, 32768, 65535]),
      channels: 1,
      depth: 16,
    });
    const t = orThrow(decodePng(png));
    expect(t.shape).toEqual([1, 1, 3]);
    expect(Array.from(t.data)).toEqual([-1, 65536 / 65535 - 1, 1].map(Math.fround));
  });

  it("reads palette images as RGB and 1-bit grayscale as ±1", () => {
    const palette = [
      [255, 0, 0],
      [0, 0, 255],
    ];
    const indexed = encode({
      width: 3,
      height: 1,
      data: Uint8Array.from([1, 0, 1]),
      channels: 1,
      depth: 8,
      palette,
    });
    expect(Array.from(orThrow(decodePng(indexed)).data)).toEqual([0, 255, 0, 0, 0, 0, 255, 0, 255].map(unit));
    // One row of 10 one-bit pixels, packed most significant bit first: 1011000011.
    const bits = encode({
      width: 10,
      height: 1,
      data: Uint8Array.from([0b10110000, 0b11000000]),
      channels: 1,
      depth: 1,
    });
    expect(Array.from(orThrow(decodePng(bits)).data)).toEqual([1, -1, 1, 1, -1, -1, -1, -1, 1, 1]);
  });

  it("gives a Left, never a throw, for junk, truncation and a corrupted chunk", () => {
    const png = orThrow(encodePng(planar([1, 4, 4], (p) => unit(p * 16))));
    const flipped = png.slice();
    flipped[png.length - 20] ^= 0x40;
    for (const bad of [
      new Uint8Array(0),
      Uint8Array.from([1, 2, 3]),
      png.subarray(0, 8),
      png.subarray(0, png.length - 13),
      flipped,
    ]) {
      const r = decodePng(bad);
      expect(E.isLeft(r) && r.left.context).toBe("decodePng");
    }
  });

  it("refuses to encode other shapes and non-finite values", () => {
    expect(E.isLeft(encodePng(planar([2, 2, 2], () => 0)))).toBe(true);
    expect(E.isLeft(encodePng({ shape: [4, 4], data: new Float32Array(16) }))).toBe(true);
    const r = encodePng(planar([1, 2, 2], (p) => (p === 3 ? Number.NaN : 0)));
    expect(E.isLeft(r) && r.left.field).toBe("data[3]");
  });
});

describe("imageStack", () => {
  const a = planar([3, 2, 2], (p) => p / 12);
  const b = planar([3, 2, 2], (p) => -p / 12);
  const small = planar([3, 2, 1], () => 0);

  it("stacks [C, H, W] images into [N, C, H, W] in order", () => {
    const s = orThrow(imageStack([a, b, a]));
    expect(s.shape).toEqual([3, 3, 2, 2]);
    expect(Array.from(s.data)).toEqual([...a.data, ...b.data, ...a.data]);
  });

  it("names the first image of another size, by index or by the names given", () => {
    const r = imageStack([a, b, small, planar([1, 2, 2], () => 0)]);
    expect(E.isLeft(r) && r.left.field).toBe("images[2]");
    const named = imageStack([a, small], ["a.png", "b.png"]);
    expect(E.isLeft(named) && named.left.field).toBe("b.png");
    expect(E.isLeft(named) && named.left.message).toContain("a.png");
    expect(E.isLeft(imageStack([]))).toBe(true);
    expect(E.isLeft(imageStack([{ shape: [4], data: new Float32Array(4) }]))).toBe(true);
  });
});
