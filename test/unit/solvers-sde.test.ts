import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { float64Space, type Tensor64, tensorSpace } from "../../src/core/tensor.js";
import type { Sde } from "../../src/sde/types.js";
import {
  gridUniform,
  odeEuler,
  odeHeun,
  type SdeSolver,
  sdeEulerMaruyama,
  sdeHeun,
  sdeSteps,
  solveOde,
  solveSde,
  virtualBrownianTree,
} from "../../src/solvers/index.js";

const leftMessage = <A>(r: E.Either<{ readonly message: string }, A>): string =>
  E.isLeft(r) ? r.left.message : "<Right>";

const key = orThrow(rngKey(11));
const path = (dim: number, tLo = 0, tHi = 1) =>
  orThrow(virtualBrownianTree(float64Space, key, new Float64Array(dim), tLo, tHi, 1e-8));
const solvers: ReadonlyArray<readonly [string, SdeSolver]> = [
  ["Euler–Maruyama", sdeEulerMaruyama],
  ["Heun", sdeHeun],
];

describe("solveSde", () => {
  it.each(solvers)(
    "%s: pure noise dy = 2 dW gives y(t1) = y(t0) + 2·(W(t1) − W(t0)), forwards and backwards",
    (_, solver) => {
      const term = { drift: (x: Float64Array) => new Float64Array(x.length), diffusion: () => 2 };
      const p = path(5);
      for (const [t0, t1] of [
        [0, 1],
        [0.9, 0.1],
      ]) {
        const y0 = Float64Array.of(1, 2, 3, 4, 5);
        const y = orThrow(solveSde(float64Space, solver, term, y0, orThrow(gridUniform(t0, t1, 37)), p)).y;
        const dW = p.increment(t0, t1);
        for (let i = 0; i < 5; i++) expect(Math.abs(y[i] - (y0[i] + 2 * dW[i]))).toBeLessThan(1e-13);
      }
    },
  );

  it("with g = 0, Euler–Maruyama is Euler and stochastic Heun is Heun, bit for bit", () => {
    const term = {
      drift: (x: Float64Array, t: number) => x.map((v) => Math.sin(v) - t * v),
      diffusion: () => 0,
    };
    const grid = orThrow(gridUniform(1, 0, 16));
    const ode = { vectorField: term.drift };
    const y0 = Float64Array.of(0.3, -1.2);
    expect(orThrow(solveSde(float64Space, sdeEulerMaruyama, term, y0, grid, path(2))).y).toEqual(
      orThrow(solveOde(float64Space, odeEuler, ode, y0, grid)).y,
    );
    expect(orThrow(solveSde(float64Space, sdeHeun, term, y0, grid, path(2))).y).toEqual(
      orThrow(solveOde(float64Space, odeHeun, ode, y0, grid)).y,
    );
  });

  it("accepts an Sde record as its term; counts drift evaluations; saves the trajectory", () => {
    const ou: Sde<Float64Array> = {
      name: "OU",
      tMin: 0,
      tMax: 1,
      drift: (x) => x.map((v) => -v),
      diffusion: (t) => 1 + t,
    };
    const grid = orThrow(gridUniform(0, 1, 10));
    const em = orThrow(
      solveSde(float64Space, sdeEulerMaruyama, ou, Float64Array.of(1), grid, path(1), {
        saveTrajectory: true,
      }),
    );
    expect(em.nfe).toBe(10);
    expect(em.steps).toBe(10);
    expect(Array.from(em.ts)).toEqual(Array.from(grid));
    expect(em.ys?.length).toBe(11);
    expect(em.ys?.[10]).toEqual(em.y);
    expect(orThrow(solveSde(float64Space, sdeHeun, ou, Float64Array.of(1), grid, path(1))).nfe).toBe(20);
  });

  it("the iterator yields every step and returns the last", () => {
    const term = { drift: (x: Float64Array) => x.map((v) => -v), diffusion: () => 1 };
    const grid = orThrow(gridUniform(1, 0, 3));
    const it = sdeSteps(float64Space, sdeHeun, term, Float64Array.of(0), grid, path(1));
    const ts: number[] = [];
    let next = it.next();
    while (next.done !== true) {
      ts.push(next.value.t);
      next = it.next();
    }
    expect(ts).toEqual(Array.from(grid.subarray(1)));
    expect(orThrow(next.value).y).toEqual(
      orThrow(solveSde(float64Space, sdeHeun, term, Float64Array.of(0), grid, path(1))).y,
    );
  });

  it("a sample's trajectory does not depend on the batch size (Tensor state, per-row noise)", () => {
    const space = tensorSpace<Float64Array>();
    const term = {
      drift: (x: Tensor64): Tensor64 => ({ shape: x.shape, data: x.data.map((v) => -v * v * v) }),
      diffusion: (t: number) => 0.5 + t,
    };
    const solveRows = (rows: number) => {
      const y0: Tensor64 = { shape: [rows, 2], data: new Float64Array(rows * 2).fill(0.5) };
      const p = orThrow(virtualBrownianTree(space, key, y0, 0, 1, 1e-6));
      return orThrow(solveSde(space, sdeHeun, term, y0, orThrow(gridUniform(0, 1, 20)), p)).y;
    };
    expect(Array.from(solveRows(6).data.subarray(0, 4))).toEqual(Array.from(solveRows(2).data));
  });

  it("returns Left naming the step and t when the state blows up", () => {
    // dy = y³ dt + dW from y = 2: y³ overflows within a few steps of size 0.1
    const term = { drift: (x: Float64Array) => x.map((v) => v * v * v), diffusion: () => 1 };
    const result = solveSde(
      float64Space,
      sdeEulerMaruyama,
      term,
      Float64Array.of(2),
      orThrow(gridUniform(0, 1, 10)),
      path(1),
    );
    expect(leftMessage(result)).toMatch(
      /^solveSde \(Euler–Maruyama\): the state became non-finite at step \d, t=0\.\d+$/,
    );
  });

  it("rejects a grid outside the path's domain, a path shaped unlike y0, a bad grid and a non-finite y0", () => {
    const term = { drift: (x: Float64Array) => x, diffusion: () => 1 };
    expect(
      leftMessage(solveSde(float64Space, sdeHeun, term, Float64Array.of(0), [0, 0.5, 1.5], path(1))),
    ).toBe("solveSde (Heun): grid must lie within the Brownian path's domain [0, 1], got grid from 0 to 1.5");
    expect(
      leftMessage(solveSde(float64Space, sdeHeun, term, Float64Array.of(0), [1, 0.5, 0], path(1, 0.1, 1))),
    ).toContain("must lie within the Brownian path's domain [0.1, 1]");
    expect(
      leftMessage(solveSde(float64Space, sdeHeun, term, Float64Array.of(0), [0.5, 0.5], path(1))),
    ).toContain("grid[1] must continue the strictly monotone direction");
    expect(
      leftMessage(solveSde(float64Space, sdeHeun, term, Float64Array.of(Number.NaN), [0, 1], path(1))),
    ).toBe("solveSde (Heun): y0[0] must be finite, got y0[0]=NaN");
  });
});
