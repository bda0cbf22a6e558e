import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { parseExpression } from "../../web/expression.js";
import { sdeOf } from "../../web/sdes.js";

const value = (text: string, t: number): number => {
  const parsed = parseExpression(text);
  if (E.isLeft(parsed)) throw new Error(parsed.left.message);
  return parsed.right(t);
};

const error = (text: string): string => {
  const parsed = parseExpression(text);
  return E.isLeft(parsed) ? parsed.left.message : "parsed";
};

describe("the β(t) expression parser of the playground", () => {
  it("follows the usual precedence: ^ over unary minus over × / over + −, ^ right-associative", () => {
    expect(value("1 + 2 * 3", 0)).toBe(7);
    expect(value("(1 + 2) * 3", 0)).toBe(9);
    expect(value("2^3^2", 0)).toBe(512);
    expect(value("-2^2", 0)).toBe(-4);
    expect(value("2^-1", 0)).toBe(0.5);
    expect(value("8 / 4 / 2", 0)).toBe(1);
    expect(value("1 - 2 - 3", 0)).toBe(-4);
  });

  it("reads t, numbers in every form, constants, functions, Unicode operators and implicit products", () => {
    expect(value("0.1 + 19.9t", 0.5)).toBeCloseTo(0.1 + 19.9 * 0.5, 14);
    expect(value("0.1 + 19.9 t^2", 0.5)).toBeCloseTo(0.1 + 19.9 * 0.25, 14);
    expect(value("1e-3 + .5 + 2.5E+1", 0)).toBeCloseTo(25.501, 14);
    expect(value("20 × t − 1 ÷ 4 · 2", 1)).toBeCloseTo(19.5, 14);
    expect(value("2(t + 1)", 1)).toBe(4);
    expect(value("exp(log(3)) + sqrt(16) + sin(0) + cos(0)", 0)).toBeCloseTo(8, 14);
    expect(value("2 pi", 0)).toBeCloseTo(2 * Math.PI, 14);
    expect(value("2e", 0)).toBeCloseTo(2 * Math.E, 14);
    expect(value("t**2", 3)).toBe(9);
  });

  it("names the first error and its column, and never evaluates anything but the grammar", () => {
    expect(error("")).toMatch(/expected a number, t, a function or \(, found the end at column 1/);
    expect(error("0.1 + * t")).toMatch(/found "\*" at column 7/);
    expect(error("(1 + t")).toMatch(/expected "\)" to close the "\(" at column 1/);
    expect(error("tt + 1")).toMatch(/unknown name "tt" at column 1/);
    expect(error("sin t")).toMatch(/expected "\(" after sin/);
    expect(error("1 + t)")).toMatch(/expected an operator or the end, found "\)" at column 6/);
    expect(error("alert(1)")).toMatch(/unknown name "alert"/);
    expect(error("t; 1")).toMatch(/unexpected ";" at column 2/);
    expect(error("constructor")).toMatch(/unknown name "constructor"/);
  });

  it("builds the custom VP-type SDE, and turns a rate that is negative somewhere into one sentence", () => {
    const sde = sdeOf("custom", "0.1 + 19.9 t");
    const vp = sdeOf("vp", "");
    if (E.isLeft(sde) || E.isLeft(vp)) throw new Error("no SDE");
    // β(t) = 0.1 + 19.9 t is the VP SDE's own rate: the integrated marginals agree with the closed form.
    for (const t of [0.1, 0.5, 1]) {
      expect(sde.right.scale(t)).toBeCloseTo(vp.right.scale(t), 10);
      expect(sde.right.std(t)).toBeCloseTo(vp.right.std(t), 10);
    }
    const negative = sdeOf("custom", "1 - 2 t");
    expect(E.isLeft(negative) && negative.left).toMatch(/g must be finite and ≥ 0/);
    const broken = sdeOf("custom", "1 +");
    expect(E.isLeft(broken) && broken.left).toMatch(/^β\(t\): expected a number/);
  });
});
