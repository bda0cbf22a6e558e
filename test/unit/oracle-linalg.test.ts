import { describe, expect, it } from "vitest";
import {
  cholesky,
  hasPositivePivots,
  matVec,
  solveLower,
  solveLowerTransposed,
} from "../../src/oracle/linalg.js";

/** The classic example with an integer factor (Golub & Van Loan style): A = L·Lᵀ exactly. */
const A = Float64Array.of(4, 12, -16, 12, 37, -43, -16, -43, 98);
const L = Float64Array.of(2, 0, 0, 6, 1, 0, -8, 5, 3);

describe("cholesky", () => {
  it("recovers the integer factor of a 3×3 SPD matrix exactly", () => {
    expect(Array.from(cholesky(A, 3))).toEqual(Array.from(L));
    expect(hasPositivePivots(A, cholesky(A, 3), 3)).toBe(true);
  });

  it("factors a 1×1 matrix as its square root", () => {
    expect(cholesky(Float64Array.of(9), 1)[0]).toBe(3);
  });

  it("flags indefinite, singular and NaN matrices", () => {
    const indefinite = Float64Array.of(1, 2, 2, 1);
    const singular = Float64Array.of(1, 1, 1, 1);
    const nan = Float64Array.of(1, 0, 0, Number.NaN);
    for (const m of [indefinite, singular, nan]) expect(hasPositivePivots(m, cholesky(m, 2), 2)).toBe(false);
  });

  it("flags a matrix singular to working precision (pivot below d·ε·A_jj)", () => {
    const nearlySingular = Float64Array.of(1, 1, 1, 1 + Number.EPSILON);
    expect(hasPositivePivots(nearlySingular, cholesky(nearlySingular, 2), 2)).toBe(false);
    const illConditioned = Float64Array.of(1, 1, 1, 1 + 1e-12);
    expect(hasPositivePivots(illConditioned, cholesky(illConditioned, 2), 2)).toBe(true);
  });
});

describe("triangular solves", () => {
  it("solve A·x = b through L then Lᵀ, also in place", () => {
    const b = Float64Array.of(1, -2, 3);
    const x = solveLowerTransposed(L, 3, solveLower(L, 3, b, new Float64Array(3)), new Float64Array(3));
    const ax = matVec(A, 3, x, new Float64Array(3));
    for (let i = 0; i < 3; i++) expect(ax[i]).toBeCloseTo(b[i], 12);
    const inPlace = Float64Array.from(b);
    solveLowerTransposed(L, 3, solveLower(L, 3, inPlace, inPlace), inPlace);
    expect(Array.from(inPlace)).toEqual(Array.from(x));
  });

  it("matVec multiplies row-major", () => {
    expect(Array.from(matVec(L, 3, Float64Array.of(1, 1, 1), new Float64Array(3)))).toEqual([2, 7, 0]);
  });
});
