import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { float64Space, type Tensor64, tensorSpace } from "../../src/core/tensor.js";
import { virtualBrownianTree } from "../../src/solvers/index.js";

const leftMessage = <A>(r: E.Either<{ readonly message: string }, A>): string =>
  E.isLeft(r) ? r.left.message : "<Right>";

/** N independent scalar Brownian motions: the components of one Float64Array path. */
const N = 10_000;
const key = orThrow(rngKey(2024));
const tree = (tLo = 0, tHi = 1, tol = 1e-6) =>
  orThrow(virtualBrownianTree(float64Space, key, new Float64Array(N), tLo, tHi, tol));

const meanOf = (x: ArrayLike<number>, f: (v: number, i: number) => number = (v) => v): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += f(x[i], i);
  return s / x.length;
};

describe("virtualBrownianTree: the law of Brownian increments (N = 10⁴ independent components, 4 s.e.)", () => {
  it.each([
    [0, 1],
    [0.1, 0.35],
    [0.3, 0.3001],
    [0.9, 0.2],
    [0.123456789, 0.87654321],
    [1, 0],
  ])("W(%d) → W(%d): mean 0, variance |t1 − t0|", (t0, t1) => {
    const dW = tree().increment(t0, t1);
    const v = Math.abs(t1 - t0);
    // mean: s.e. √(v/N); E[dW²] = v with s.e. v·√(2/N) (fourth moment 3v²)
    expect(Math.abs(meanOf(dW))).toBeLessThan(4 * Math.sqrt(v / N));
    expect(Math.abs(meanOf(dW, (x) => x * x) - v)).toBeLessThan(4 * v * Math.sqrt(2 / N));
  });

  it("on a domain [ε, T] away from 0", () => {
    const dW = tree(1e-3, 1).increment(1e-3, 0.5);
    expect(Math.abs(meanOf(dW, (x) => x * x) - (0.5 - 1e-3))).toBeLessThan(4 * 0.499 * Math.sqrt(2 / N));
  });

  it("W(t) has the exact N(0, t − tLo) marginal even inside a coarse leaf (tol = 0.25)", () => {
    for (const t of [0.3, 0.61, 0.999]) {
      const w = tree(0, 1, 0.25).increment(0, t);
      expect(Math.abs(meanOf(w, (x) => x * x) - t)).toBeLessThan(4 * t * Math.sqrt(2 / N));
    }
  });

  it("increments over disjoint intervals are uncorrelated (|r| < 4/√N)", () => {
    const path = tree();
    const pairs: ReadonlyArray<readonly [number, number, number, number]> = [
      [0.1, 0.4, 0.4, 0.9],
      [0, 0.05, 0.95, 1],
      [0.5, 0.5001, 0.3, 0.4],
      [0.25, 0.5, 0.5, 0.75],
    ];
    for (const [a, b, c, d] of pairs) {
      const x = path.increment(a, b);
      const y = path.increment(c, d);
      const r = meanOf(x, (v, i) => v * y[i]) / Math.sqrt(meanOf(x, (v) => v * v) * meanOf(y, (v) => v * v));
      expect(Math.abs(r)).toBeLessThan(4 / Math.sqrt(N));
    }
  });

  it("Cov(W(s), W(t)) = min(s, t)", () => {
    const path = tree();
    const ws = path.increment(0, 0.3);
    const wt = path.increment(0, 0.8);
    // Var of the product estimator: E[W_s²W_t²] − s² = 3s² + s(t − s) − s² = 0.3·(0.6 + 0.5) = 0.33
    expect(Math.abs(meanOf(ws, (v, i) => v * wt[i]) - 0.3)).toBeLessThan(4 * Math.sqrt(0.33 / N));
  });
});

describe("virtualBrownianTree: one path, answered consistently", () => {
  it("increments over a partition sum to the whole increment (1e-12)", () => {
    const path = orThrow(virtualBrownianTree(float64Space, key, new Float64Array(8), 0, 1, 1e-9));
    const cuts = [0.05, 0.0500001, 0.1, 0.2371, 0.25, 0.5, 0.5 + 1e-10, 0.61, 0.7777, 0.95];
    const sum = new Float64Array(8);
    for (let k = 1; k < cuts.length; k++) {
      const dW = path.increment(cuts[k - 1], cuts[k]);
      for (let i = 0; i < 8; i++) sum[i] += dW[i];
    }
    const whole = path.increment(0.05, 0.95);
    for (let i = 0; i < 8; i++) expect(Math.abs(sum[i] - whole[i])).toBeLessThan(1e-12);
  });

  it("the same key gives the same path whatever the order of queries; another key another path", () => {
    const intervals: ReadonlyArray<readonly [number, number]> = [
      [0, 0.5],
      [0.31, 0.32],
      [0.9, 0.1],
      [0.75, 0.7500001],
      [0.2, 0.6],
      [0.6, 1],
    ];
    const make = (k = key) => orThrow(virtualBrownianTree(float64Space, k, new Float64Array(4), 0, 1, 1e-7));
    const first = make();
    const forwards = intervals.map(([a, b]) => first.increment(a, b));
    const second = make();
    const backwards = [...intervals]
      .reverse()
      .map(([a, b]) => second.increment(a, b))
      .reverse();
    expect(backwards).toEqual(forwards);
    // and the same path object re-queried gives the same answers
    expect(intervals.map(([a, b]) => first.increment(a, b))).toEqual(forwards);
    const other = make(orThrow(rngKey(7)));
    expect(other.increment(0, 0.5)).not.toEqual(forwards[0]);
  });

  it("a sample's path does not depend on the batch size (tensorSpace: row i from foldIn(key, i))", () => {
    const space = tensorSpace<Float64Array>();
    const like = (rows: number): Tensor64 => ({ shape: [rows, 3], data: new Float64Array(rows * 3) });
    const small = orThrow(virtualBrownianTree(space, key, like(2), 0, 1, 1e-6)).increment(0.2, 0.7);
    const large = orThrow(virtualBrownianTree(space, key, like(5), 0, 1, 1e-6)).increment(0.2, 0.7);
    expect(large.shape).toEqual([5, 3]);
    expect(Array.from(large.data.subarray(0, 6))).toEqual(Array.from(small.data));
  });

  it("clamps times to [tLo, tHi]; a zero-length interval is zero", () => {
    const path = orThrow(virtualBrownianTree(float64Space, key, new Float64Array(3), 0, 1, 1e-6));
    expect(path.increment(-5, 7)).toEqual(path.increment(0, 1));
    expect(Array.from(path.increment(0.4, 0.4))).toEqual([0, 0, 0]);
  });

  it("rejects bad input", () => {
    const like = new Float64Array(2);
    expect(leftMessage(virtualBrownianTree(float64Space, key, like, 1, 0, 1e-3))).toBe(
      "virtualBrownianTree: tHi must be > tLo, got tLo=1, tHi=0",
    );
    expect(leftMessage(virtualBrownianTree(float64Space, key, like, 0, 0, 1e-3))).toContain(
      "tHi must be > tLo",
    );
    expect(leftMessage(virtualBrownianTree(float64Space, key, like, 0, 1, 0))).toBe(
      "virtualBrownianTree: tol must be a finite number > 0, got tol=0",
    );
    expect(
      leftMessage(virtualBrownianTree(float64Space, key, like, Number.NEGATIVE_INFINITY, 1, 1e-3)),
    ).toContain("tLo must be a finite number");
    expect(
      leftMessage(virtualBrownianTree(float64Space, key, Float64Array.of(0, Number.NaN), 0, 1, 1e-3)),
    ).toBe("virtualBrownianTree: like[1] must be finite, got like[1]=NaN");
  });
});
