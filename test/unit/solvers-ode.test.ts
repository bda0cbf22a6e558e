import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { float64Space, type Tensor, tensorSpace } from "../../src/core/tensor.js";
import {
  type ButcherTableau,
  explicitRungeKutta,
  gridUniform,
  isFsal,
  odeDopri5,
  odeEuler,
  odeHeun,
  odeRk4,
  odeSteps,
  type RungeKuttaMethod,
  rungeKuttaStep,
  type SolverStep,
  solveOde,
} from "../../src/solvers/index.js";

const leftMessage = <A>(r: E.Either<{ readonly message: string }, A>): string =>
  E.isLeft(r) ? r.left.message : "<Right>";

/** y1' = −(1 + t)·y2, y2' = (1 + t)·y1: a rotation by θ(t) = t + t²/2. */
const rotation = {
  vectorField: (y: Float64Array, t: number): Float64Array => Float64Array.of(-(1 + t) * y[1], (1 + t) * y[0]),
};
const rotationExact = (t: number): Float64Array =>
  Float64Array.of(Math.cos(t + (t * t) / 2), Math.sin(t + (t * t) / 2));

// ---------------------------------------------------------------------------------------------------------------
// Order conditions (Hairer I, §II.2, Table 2.2): Σ b_i Φ_i(τ) = 1/γ(τ) for every rooted tree τ of order ≤ p.
// ---------------------------------------------------------------------------------------------------------------
const dot = (x: readonly number[], y: readonly number[]): number => x.reduce((s, xi, i) => s + xi * y[i], 0);
const times = (x: readonly number[], y: readonly number[]): number[] => x.map((xi, i) => xi * y[i]);
const applyA = (tab: ButcherTableau, v: readonly number[]): number[] => tab.a.map((row) => dot(row, v));

/** [order, Φ(τ) as a stage vector, 1/γ(τ)] for the 17 trees of order ≤ 5. */
const trees = (tab: ButcherTableau): ReadonlyArray<readonly [number, number[], number]> => {
  const c = [...tab.c];
  const one = c.map(() => 1);
  const c2 = times(c, c);
  const c3 = times(c2, c);
  const ac = applyA(tab, c);
  const ac2 = applyA(tab, c2);
  const aac = applyA(tab, ac);
  return [
    [1, one, 1],
    [2, c, 1 / 2],
    [3, c2, 1 / 3],
    [3, ac, 1 / 6],
    [4, c3, 1 / 4],
    [4, times(c, ac), 1 / 8],
    [4, ac2, 1 / 12],
    [4, aac, 1 / 24],
    [5, times(c3, c), 1 / 5],
    [5, times(c2, ac), 1 / 10],
    [5, times(c, ac2), 1 / 15],
    [5, times(c, aac), 1 / 30],
    [5, times(ac, ac), 1 / 20],
    [5, applyA(tab, c3), 1 / 20],
    [5, applyA(tab, times(c, ac)), 1 / 40],
    [5, applyA(tab, ac2), 1 / 60],
    [5, applyA(tab, aac), 1 / 120],
  ];
};

/** The highest p ≤ 5 such that weights w satisfy every order condition up to p. */
const orderOf = (tab: ButcherTableau, w: readonly number[]): number => {
  let p = 0;
  for (let order = 1; order <= 5; order++) {
    const ok = trees(tab)
      .filter(([q]) => q === order)
      .every(([, phi, inverseGamma]) => Math.abs(dot(w, phi) - inverseGamma) < 1e-14);
    if (!ok) break;
    p = order;
  }
  return p;
};

describe("Butcher tableaux satisfy the order conditions of their declared order (and no more)", () => {
  it.each([
    ["Euler", odeEuler, 1],
    ["Heun", odeHeun, 2],
    ["RK4", odeRk4, 4],
    ["Dopri5", odeDopri5, 5],
  ] as const)("%s", (_name: string, method: RungeKuttaMethod, p: number) => {
    expect(method.order).toBe(p);
    expect(orderOf(method.tableau, method.tableau.b)).toBe(p);
    expect(E.isRight(explicitRungeKutta(method.name, method.order, method.tableau))).toBe(true);
  });

  it("Dormand–Prince's embedded weights b̂ are of order 4 (errorOrder)", () => {
    expect(odeDopri5.errorOrder).toBe(4);
    expect(orderOf(odeDopri5.tableau, odeDopri5.bHat)).toBe(4);
  });

  it("only Dormand–Prince is FSAL", () => {
    expect([odeEuler, odeHeun, odeRk4, odeDopri5].map((m) => isFsal(m.tableau))).toEqual([
      false,
      false,
      false,
      true,
    ]);
  });
});

describe("explicitRungeKutta", () => {
  it("builds the explicit midpoint rule (order 2), which then integrates like any method", () => {
    const midpoint = orThrow(
      explicitRungeKutta("midpoint", 2, { a: [[], [1 / 2]], b: [0, 1], c: [0, 1 / 2] }),
    );
    expect(orderOf(midpoint.tableau, midpoint.tableau.b)).toBe(2);
    const sol = orThrow(
      solveOde(float64Space, midpoint, rotation, rotationExact(0), orThrow(gridUniform(0, 1, 200))),
    );
    expect(Math.hypot(sol.y[0] - rotationExact(1)[0], sol.y[1] - rotationExact(1)[1])).toBeLessThan(1e-4);
  });

  it("rejects inconsistent or malformed tableaux", () => {
    expect(leftMessage(explicitRungeKutta("bad", 2, { a: [[], [1]], b: [1 / 2, 1 / 2], c: [0, 0.5] }))).toBe(
      "explicitRungeKutta (bad): c[1] must equal Σ_j a[1][j] = 1, got c[1]=0.5",
    );
    expect(leftMessage(explicitRungeKutta("bad", 1, { a: [[], [1]], b: [1, 1], c: [0, 1] }))).toBe(
      "explicitRungeKutta (bad): b must sum to 1, got Σ b=2",
    );
    expect(leftMessage(explicitRungeKutta("bad", 1, { a: [[], [1, 0]], b: [1, 0], c: [0, 1] }))).toContain(
      "a[1].length must equal 1",
    );
    expect(leftMessage(explicitRungeKutta("bad", 1, { a: [[]], b: [1], c: [0, 1] }))).toContain(
      "must have a, b, c of one length",
    );
    expect(
      leftMessage(explicitRungeKutta("bad", 1, { a: [[], [Number.NaN]], b: [1, 0], c: [0, 1] })),
    ).toContain("a[1][0] must be a finite number");
    expect(leftMessage(explicitRungeKutta("bad", 0, { a: [[]], b: [1], c: [0] }))).toContain(
      "order must be an integer ≥ 1",
    );
    expect(leftMessage(explicitRungeKutta("bad", 1, { a: [], b: [], c: [] }))).toContain(
      "b.length must be an integer ≥ 1",
    );
  });
});

describe("rungeKuttaStep", () => {
  it("RK4 on y' = y is the degree-4 Taylor polynomial of e^h, with s evaluations (s − 1 given k₁)", () => {
    const h = 0.3;
    const field = (x: Float64Array): Float64Array => x;
    const step = rungeKuttaStep(float64Space, odeRk4.tableau, field, Float64Array.of(1), 0, h);
    expect(step.y[0]).toBeCloseTo(1 + h + h ** 2 / 2 + h ** 3 / 6 + h ** 4 / 24, 15);
    expect(step.nfe).toBe(4);
    expect(step.stages.length).toBe(4);
    const reused = rungeKuttaStep(
      float64Space,
      odeRk4.tableau,
      field,
      Float64Array.of(1),
      0,
      h,
      Float64Array.of(1),
    );
    expect(reused.nfe).toBe(3);
    expect(reused.y[0]).toBe(step.y[0]);
  });

  it("evaluates stage i at t + c_i·h (a non-autonomous field y' = t integrates exactly with Heun)", () => {
    const step = rungeKuttaStep(
      float64Space,
      odeHeun.tableau,
      (_x: Float64Array, t: number) => Float64Array.of(t),
      Float64Array.of(0),
      1,
      2,
    );
    // ∫₁³ t dt = 4, exact for the trapezoid rule
    expect(step.y[0]).toBe(4);
  });
});

describe("solveOde", () => {
  it("returns the final state, the grid as ts, nfe = s·n, steps = n", () => {
    const grid = orThrow(gridUniform(0, 1, 10));
    for (const method of [odeEuler, odeHeun, odeRk4]) {
      const sol = orThrow(solveOde(float64Space, method, rotation, rotationExact(0), grid));
      expect(Array.from(sol.ts)).toEqual(Array.from(grid));
      expect(sol.nfe).toBe(method.tableau.b.length * 10);
      expect(sol.steps).toBe(10);
      expect(sol.ys).toBeUndefined();
    }
  });

  it("reuses the last stage of an FSAL tableau: fixed-step Dormand–Prince costs 1 + 6n evaluations", () => {
    let calls = 0;
    const counted = {
      vectorField: (y: Float64Array, t: number): Float64Array => {
        calls += 1;
        return rotation.vectorField(y, t);
      },
    };
    const sol = orThrow(
      solveOde(float64Space, odeDopri5, counted, rotationExact(0), orThrow(gridUniform(0, 2, 20))),
    );
    expect(sol.nfe).toBe(1 + 6 * 20);
    expect(calls).toBe(sol.nfe);
    expect(Math.hypot(sol.y[0] - rotationExact(2)[0], sol.y[1] - rotationExact(2)[1])).toBeLessThan(1e-6);
  });

  it("saves the trajectory at every grid time when asked", () => {
    const grid = orThrow(gridUniform(0, 1, 5));
    const sol = orThrow(
      solveOde(float64Space, odeRk4, rotation, rotationExact(0), grid, { saveTrajectory: true }),
    );
    expect(sol.ys?.length).toBe(6);
    expect(sol.ys?.[0]).toEqual(rotationExact(0));
    expect(sol.ys?.[5]).toEqual(sol.y);
    sol.ys?.forEach((y, k) => {
      expect(Math.hypot(y[0] - rotationExact(grid[k])[0], y[1] - rotationExact(grid[k])[1])).toBeLessThan(
        1e-3,
      );
    });
  });

  it("is the iterator drained: odeSteps yields every step, then returns the last one", () => {
    const grid = orThrow(gridUniform(1, 0, 4));
    const it = odeSteps(float64Space, odeHeun, rotation, rotationExact(1), grid);
    const yielded: SolverStep<Float64Array>[] = [];
    let next = it.next();
    while (next.done !== true) {
      yielded.push(next.value);
      next = it.next();
    }
    expect(yielded.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(yielded.map((s) => s.t)).toEqual(Array.from(grid.subarray(1)));
    expect(yielded.map((s) => s.nfe)).toEqual([2, 4, 6, 8]);
    const last = orThrow(next.value);
    expect(last).toBe(yielded[3]);
    expect(orThrow(solveOde(float64Space, odeHeun, rotation, rotationExact(1), grid)).y).toEqual(last.y);
  });

  it("integrates a Tensor state (float64 and float32) exactly as a Float64Array one", () => {
    const grid = orThrow(gridUniform(0, 1.5, 30));
    const reference = orThrow(solveOde(float64Space, odeRk4, rotation, rotationExact(0), grid)).y;
    const tensorRotation = <A extends Float32Array | Float64Array>(make: (n: number) => A) => ({
      vectorField: (y: Tensor<A>, t: number): Tensor<A> => {
        const out = make(2);
        out[0] = -(1 + t) * y.data[1];
        out[1] = (1 + t) * y.data[0];
        return { shape: y.shape, data: out };
      },
    });
    const y64 = orThrow(
      solveOde(
        tensorSpace<Float64Array>(),
        odeRk4,
        tensorRotation((n): Float64Array => new Float64Array(n)),
        { shape: [1, 2], data: rotationExact(0) },
        grid,
      ),
    ).y;
    expect(Array.from(y64.data)).toEqual(Array.from(reference));
    const y32 = orThrow(
      solveOde(
        tensorSpace<Float32Array>(),
        odeRk4,
        tensorRotation((n): Float32Array => new Float32Array(n)),
        { shape: [1, 2], data: Float32Array.from(rotationExact(0)) },
        grid,
      ),
    ).y;
    expect(y32.data).toBeInstanceOf(Float32Array);
    // 120 float32 stores of O(1) values: rounding ≤ 120·2⁻²⁴ ≈ 7e-6
    for (let i = 0; i < 2; i++) expect(Math.abs(y32.data[i] - reference[i])).toBeLessThan(1e-5);
  });

  it("returns Left naming the step and t when the solution blows up, and never throws", () => {
    // y' = y², y(0) = 1 blows up at t = 1; Euler's iterates overflow to ∞ later, at step 64 (t = 1.28)
    const blowUp = { vectorField: (y: Float64Array): Float64Array => Float64Array.of(y[0] * y[0]) };
    const result = solveOde(
      float64Space,
      odeEuler,
      blowUp,
      Float64Array.of(1),
      orThrow(gridUniform(0, 2, 100)),
    );
    expect(E.isLeft(result)).toBe(true);
    if (E.isLeft(result) && result.left._tag === "SolveFailure") {
      expect(result.left.reason).toBe("nonFinite");
      expect(result.left.step).toBe(64);
      expect(result.left.t).toBe(orThrow(gridUniform(0, 2, 100))[64]);
      expect(result.left.message).toBe("solveOde (Euler): the state became non-finite at step 64, t=1.28");
    } else {
      expect.unreachable("expected a SolveFailure");
    }
    // A field returning NaN fails at the first step, and the iterator yields nothing non-finite
    const nan = { vectorField: (): Float64Array => Float64Array.of(Number.NaN) };
    const it = odeSteps(float64Space, odeRk4, nan, Float64Array.of(0), [0, 1]);
    const first = it.next();
    expect(first.done).toBe(true);
    expect(leftMessage(first.value as E.Either<{ message: string }, unknown>)).toBe(
      "solveOde (RK4): the state became non-finite at step 1, t=1",
    );
  });

  it("rejects a bad grid or a non-finite initial state", () => {
    expect(leftMessage(solveOde(float64Space, odeEuler, rotation, rotationExact(0), [0]))).toBe(
      "solveOde (Euler): grid must hold at least 2 times, got grid.length=1",
    );
    expect(leftMessage(solveOde(float64Space, odeEuler, rotation, rotationExact(0), [0, 1, 1]))).toContain(
      "solveOde (Euler): grid[2] must continue the strictly monotone direction",
    );
    expect(
      leftMessage(
        solveOde(float64Space, odeEuler, rotation, Float64Array.of(0, Number.POSITIVE_INFINITY), [0, 1]),
      ),
    ).toBe("solveOde (Euler): y0[1] must be finite, got y0[1]=Infinity");
  });
});
