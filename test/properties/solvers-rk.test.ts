import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { float64Space } from "../../src/core/tensor.js";
import {
  decideStep,
  defaultPiController,
  explicitRungeKutta,
  gridUniform,
  odeDopri5,
  odeEuler,
  odeHeun,
  odeRk4,
  type RungeKuttaMethod,
  rungeKuttaStep,
  solveOde,
  solveOdeAdaptive,
} from "../../src/solvers/index.js";

/** The truncated exponential Σ_{k ≤ p} z^k/k!: the stability function of every explicit s-stage RK of order p = s ≤ 4. */
const taylorExp = (z: number, p: number): number => {
  let term = 1;
  let sum = 1;
  for (let k = 1; k <= p; k++) {
    term *= z / k;
    sum += term;
  }
  return sum;
};

const linear = (lambda: number) => ({
  vectorField: (y: Float64Array): Float64Array => y.map((v) => lambda * v),
});

describe("explicit Runge–Kutta (properties)", () => {
  it("one step on y' = λy multiplies by R(hλ) = Σ_{k≤p} (hλ)^k/k! (Euler, Heun, RK4; Hairer II, §IV.2)", () => {
    const methods: readonly RungeKuttaMethod[] = [odeEuler, odeHeun, odeRk4];
    fc.assert(
      fc.property(
        fc.constantFrom(...methods),
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.double({ min: -10, max: 10, noNaN: true }),
        (method, z, y0) => {
          const y1 = rungeKuttaStep(
            float64Space,
            method.tableau,
            linear(z).vectorField,
            Float64Array.of(y0),
            0,
            1,
          ).y[0];
          const expected = taylorExp(z, method.order) * y0;
          return Math.abs(y1 - expected) <= 1e-13 * Math.max(1, Math.abs(expected), Math.abs(y0));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("every member of the two-stage order-2 family (a₂₁ = α, b = (1 − 1/2α, 1/2α)) validates and has R(z) = 1 + z + z²/2", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 1, noNaN: true }),
        fc.double({ min: -2, max: 2, noNaN: true }),
        (alpha, z) => {
          const method = explicitRungeKutta("two-stage", 2, {
            a: [[], [alpha]],
            b: [1 - 1 / (2 * alpha), 1 / (2 * alpha)],
            c: [0, alpha],
          });
          if (E.isLeft(method)) return false;
          const y1 = rungeKuttaStep(
            float64Space,
            method.right.tableau,
            linear(z).vectorField,
            Float64Array.of(1),
            0,
            1,
          ).y[0];
          return Math.abs(y1 - taylorExp(z, 2)) <= 1e-13 * 10;
        },
      ),
      { numRuns: 200 },
    );
  });

  it("on y' = λy over any monotone grid, solveOde returns Π_k R(h_k λ)·y₀", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: 2, maxLength: 30 }),
        fc.double({ min: -2, max: 1, noNaN: true }),
        fc.boolean(),
        (points, lambda, backwards) => {
          const sorted = Float64Array.from(points).sort();
          const grid = backwards ? sorted.reverse() : sorted;
          fc.pre(grid.every((t, k) => k === 0 || t !== grid[k - 1])); // −0 and 0 are distinct to uniqueArray
          let expected = 1;
          for (let k = 1; k < grid.length; k++) expected *= taylorExp((grid[k] - grid[k - 1]) * lambda, 4);
          const y = orThrow(solveOde(float64Space, odeRk4, linear(lambda), Float64Array.of(1), grid)).y[0];
          return Math.abs(y - expected) <= 1e-12 * Math.max(1, Math.abs(expected));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("RK4 forwards then backwards on the reversed grid returns y₀ to O(h⁴)", () => {
    const rotation = {
      vectorField: (y: Float64Array, t: number): Float64Array =>
        Float64Array.of(-(1 + t) * y[1], (1 + t) * y[0]),
    };
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        fc.integer({ min: 100, max: 300 }),
        fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
        (T, n, phase) => {
          const y0 = Float64Array.of(Math.cos(phase), Math.sin(phase));
          const grid = orThrow(gridUniform(0, T, n));
          const forwards = orThrow(solveOde(float64Space, odeRk4, rotation, y0, grid)).y;
          const back = orThrow(solveOde(float64Space, odeRk4, rotation, forwards, grid.slice().reverse())).y;
          // global error ≤ C·h⁴ each way (measured C ≈ 1 for this rotation on T ≤ 2; 20 leaves a margin)
          expect(Math.hypot(back[0] - y0[0], back[1] - y0[1])).toBeLessThan(20 * (T / n) ** 4);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe("adaptive Dormand–Prince and the PI controller (properties)", () => {
  it("the controller accepts iff err ≤ 1, keeps the factor in [0.2, 10], ≤ 1 on or right after a rejection, non-increasing in err", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        fc.boolean(),
        (e1, e2, errPrev, rejectedLast) => {
          const [lo, hi] = e1 <= e2 ? [e1, e2] : [e2, e1];
          const a = decideStep(defaultPiController, lo, errPrev, rejectedLast);
          const b = decideStep(defaultPiController, hi, errPrev, rejectedLast);
          const inRange = (f: number, accept: boolean) => f >= 0.2 && f <= (accept && !rejectedLast ? 10 : 1);
          return (
            a.accept === lo <= 1 &&
            b.accept === hi <= 1 &&
            inRange(a.factor, a.accept) &&
            inRange(b.factor, b.accept) &&
            a.factor >= b.factor
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("global error ≤ 10·tol for any tolerance in [1e-9, 1e-3], horizon and direction (rotation)", () => {
    const rotation = {
      vectorField: (y: Float64Array, t: number): Float64Array =>
        Float64Array.of(-(1 + t) * y[1], (1 + t) * y[0]),
    };
    const exact = (t: number) => [Math.cos(t + (t * t) / 2), Math.sin(t + (t * t) / 2)];
    fc.assert(
      fc.property(
        fc.double({ min: -9, max: -3, noNaN: true }),
        fc.double({ min: 0.1, max: 3, noNaN: true }),
        fc.boolean(),
        (log10Tol, T, backwards) => {
          const tol = 10 ** log10Tol;
          const [t0, t1] = backwards ? [T, 0] : [0, T];
          const sol = orThrow(
            solveOdeAdaptive(float64Space, odeDopri5, rotation, Float64Array.from(exact(t0)), t0, t1, {
              rtol: tol,
              atol: tol,
            }),
          );
          const e = exact(t1);
          return (
            Math.max(Math.abs(sol.y[0] - e[0]), Math.abs(sol.y[1] - e[1])) <= 10 * tol &&
            sol.ts[sol.ts.length - 1] === t1
          );
        },
      ),
      { numRuns: 40 },
    );
  });
});
