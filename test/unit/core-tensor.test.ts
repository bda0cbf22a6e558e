import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow, scoreflowError } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import {
  allFinite,
  axpy,
  float64Space,
  linearCombination,
  normalLike,
  scale,
  tensor,
  tensorSpace,
  zeros32,
  zeros64,
} from "../../src/core/tensor.js";
import { checkOrdered } from "../../src/core/validate.js";

describe("tensor", () => {
  it("validates shape, length and finiteness", () => {
    expect(E.isRight(tensor([2, 3], new Float32Array(6)))).toBe(true);
    const wrong = tensor([2, 3], new Float32Array(5));
    expect(E.isLeft(wrong) && wrong.left.message).toBe(
      "tensor: data length must equal the product of the shape [2, 3] = 6, got data.length=5",
    );
    expect(E.isLeft(tensor([], new Float32Array(1)))).toBe(true);
    expect(E.isLeft(tensor([0, 3], new Float32Array(0)))).toBe(true);
    expect(E.isLeft(tensor([1.5], new Float32Array(1)))).toBe(true);
    const nan = tensor([2], Float64Array.of(1, Number.NaN));
    expect(E.isLeft(nan) && nan.left.message).toBe("tensor: data[1] must be finite, got data[1]=NaN");
  });

  it("combines linearly in both storages, keeping the storage type", () => {
    const x = orThrow(tensor([2], Float32Array.of(1, 2)));
    const y = orThrow(tensor([2], Float32Array.of(10, 20)));
    const z = linearCombination([
      [2, x],
      [-0.5, y],
    ]);
    expect(z.data).toBeInstanceOf(Float32Array);
    expect(Array.from(z.data)).toEqual([-3, -6]);
    const space = tensorSpace<Float64Array>();
    const a = zeros64([3]);
    expect(Array.from(axpy(space, 2, { shape: [3], data: Float64Array.of(1, 2, 3) }, a).data)).toEqual([
      2, 4, 6,
    ]);
    expect(Array.from(scale(float64Space, 3, Float64Array.of(1, -1)))).toEqual([3, -3]);
    expect(allFinite(space, a)).toBe(true);
    expect(allFinite(float64Space, Float64Array.of(1, Number.POSITIVE_INFINITY))).toBe(false);
  });

  it("draws noise per batch row, independent of batch size", () => {
    const key = orThrow(rngKey(7));
    const small = normalLike(key, zeros32([2, 4]));
    const large = normalLike(key, zeros32([9, 4]));
    expect(small.data).toBeInstanceOf(Float32Array);
    expect(Array.from(large.data.subarray(0, 8))).toEqual(Array.from(small.data));
  });
});

describe("errors", () => {
  it("name the context, the field, the value and the rule", () => {
    expect(scoreflowError("VP SDE", "betaMin", -1, "must be > 0").message).toBe(
      "VP SDE: betaMin must be > 0, got betaMin=-1",
    );
    const r = checkOrdered("VP SDE", ["betaMin", 20], ["betaMax", 0.1], false);
    expect(E.isLeft(r) && r.left.message).toBe(
      "VP SDE: betaMax must be ≥ betaMin, got betaMin=20, betaMax=0.1",
    );
    expect(() => orThrow(r)).toThrow("VP SDE: betaMax must be ≥ betaMin");
  });
});
