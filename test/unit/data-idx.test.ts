import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { type IdxArray, mnistDataset, parseIdx } from "../../src/data/idx.js";

/** An unsigned-byte IDX buffer with the given sizes and values. */
const idxBytes = (dims: readonly number[], values: ArrayLike<number>, type = 0x08): Uint8Array => {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  out[2] = type;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, k) => {
    view.setUint32(4 + 4 * k, d, false);
  });
  out.set(Array.from(values), 4 + 4 * dims.length);
  return out;
};

const leftField = (r: E.Either<{ readonly field: string }, unknown>): string | undefined =>
  E.isLeft(r) ? r.left.field : undefined;

describe("parseIdx", () => {
  it("reads big-endian sizes and the values that follow", () => {
    const values = Array.from({ length: 2 * 3 * 300 }, (_, i) => i % 256);
    const a = orThrow(parseIdx(idxBytes([2, 3, 300], values)));
    expect(a.dims).toEqual([2, 3, 300]);
    expect(Array.from(a.data)).toEqual(values);
    expect(orThrow(parseIdx(idxBytes([0], []))).dims).toEqual([0]);
    expect(orThrow(parseIdx(idxBytes([65536 + 2], new Uint8Array(65538)))).dims).toEqual([65538]);
  });

  it("reads a buffer that is a view at an odd offset of a larger one", () => {
    const inner = idxBytes([3], [5, 6, 7]);
    const outer = new Uint8Array(inner.length + 3);
    outer.set(inner, 1);
    const a = orThrow(parseIdx(outer.subarray(1, 1 + inner.length)));
    expect(a.dims).toEqual([3]);
    expect(Array.from(a.data)).toEqual([5, 6, 7]);
  });

  it("gives a Left for bad magic, another type, no dimensions, a short header, truncated or oversized data", () => {
    const good = idxBytes([2, 2], [1, 2, 3, 4]);
    const withByte = (i: number, v: number) => {
      const b = good.slice();
      b[i] = v;
      return b;
    };
    expect(leftField(parseIdx(withByte(0, 1)))).toBe("magic");
    expect(leftField(parseIdx(withByte(1, 8)))).toBe("magic");
    const float = parseIdx(idxBytes([1], [0, 0, 0, 0].slice(0, 1), 0x0d));
    expect(leftField(float)).toBe("type");
    expect(E.isLeft(float) && float.left.message).toContain("0x08");
    expect(leftField(parseIdx(idxBytes([], [])))).toBe("ndim");
    expect(leftField(parseIdx(new Uint8Array([0, 0, 8])))).toBe("length");
    expect(leftField(parseIdx(good.subarray(0, 9)))).toBe("length");
    const truncated = parseIdx(good.subarray(0, good.length - 1));
    expect(E.isLeft(truncated) && truncated.left.message).toContain("truncated");
    const long = new Uint8Array(good.length + 1);
    long.set(good);
    const oversized = parseIdx(long);
    expect(E.isLeft(oversized) && oversized.left.message).toContain("trailing");
  });
});

describe("mnistDataset", () => {
  // Two 28 × 28 images: image k has pixel (i, j) = (k·100 + i·28 + j) mod 256.
  const pixels = Array.from({ length: 2 * 784 }, (_, p) => (Math.floor(p / 784) * 100 + (p % 784)) % 256);
  const images: IdxArray = { dims: [2, 28, 28], data: Uint8Array.from(pixels) };
  const labels: IdxArray = { dims: [2], data: Uint8Array.from([3, 9]) };
  const unit = (v: number) => v / 127.5 - 1;

  it("maps bytes to v/127.5 − 1 in [N, 1, 28, 28] and copies the labels", () => {
    const d = orThrow(mnistDataset(images, labels));
    expect(d.images.shape).toEqual([2, 1, 28, 28]);
    expect(d.images.data).toEqual(Float32Array.from(pixels, unit));
    expect(Array.from(d.labels)).toEqual([3, 9]);
    expect(d.labels.buffer).not.toBe(labels.data.buffer);
  });

  it("pads with background −1 after a 2 × 2 average", () => {
    const d = orThrow(mnistDataset(images, labels, { pad: 3, downsample: 2 }));
    expect(d.images.shape).toEqual([2, 1, 20, 20]);
    const at = (k: number, i: number, j: number) => d.images.data[k * 400 + i * 20 + j];
    for (const [i, j] of [
      [0, 0],
      [2, 10],
      [19, 19],
      [10, 17],
    ]) {
      expect(at(1, i, j)).toBe(-1);
    }
    for (const [k, i, j] of [
      [0, 0, 0],
      [1, 5, 7],
      [1, 13, 13],
    ]) {
      const src = (a: number, b: number) => pixels[k * 784 + (2 * i + a) * 28 + 2 * j + b];
      const mean = (src(0, 0) + src(0, 1) + src(1, 0) + src(1, 1)) / 4;
      expect(at(k, i + 3, j + 3)).toBeCloseTo(unit(mean), 6);
    }
    expect(orThrow(mnistDataset(images, labels, { pad: 2 })).images.shape).toEqual([2, 1, 32, 32]);
  });

  it("rejects other sizes, mismatched counts, labels above 9 and invalid options", () => {
    expect(leftField(mnistDataset({ dims: [1, 28, 27], data: new Uint8Array(756) }, labels))).toBe(
      "images.dims",
    );
    expect(leftField(mnistDataset({ dims: [784], data: new Uint8Array(784) }, labels))).toBe("images.dims");
    expect(leftField(mnistDataset(images, { dims: [3], data: new Uint8Array(3) }))).toBe("labels.dims");
    expect(leftField(mnistDataset(images, { dims: [2, 1], data: new Uint8Array(2) }))).toBe("labels.dims");
    expect(leftField(mnistDataset(images, { dims: [2], data: Uint8Array.from([1, 10]) }))).toBe("labels[1]");
    expect(leftField(mnistDataset(images, labels, { pad: -1 }))).toBe("pad");
    expect(leftField(mnistDataset(images, labels, { pad: 1.5 }))).toBe("pad");
    expect(leftField(mnistDataset(images, labels, { downsample: 3 as 2 }))).toBe("downsample");
  });
});
