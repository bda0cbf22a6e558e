import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { float64Space } from "../../src/core/tensor.js";
import { gridBrownianPath } from "../../src/solvers/brownian.js";
import { gridUniform } from "../../src/solvers/grid.js";

describe("gridBrownianPath", () => {
  const key = orThrow(rngKey(11));
  const n = 20_000;
  const like = new Float64Array(n);
  const grid = orThrow(gridUniform(1, 0.001, 10));

  it("has increments of variance |Δt|, independent across steps (4 standard errors)", () => {
    const path = orThrow(gridBrownianPath(float64Space, key, like, grid));
    const d1 = path.increment(grid[2], grid[3]);
    const d2 = path.increment(grid[3], grid[4]);
    const dt = Math.abs(grid[3] - grid[2]);
    let v = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      v += d1[i] * d1[i];
      c += d1[i] * d2[i];
    }
    expect(Math.abs(v / n - dt)).toBeLessThan(4 * dt * Math.sqrt(2 / n));
    expect(Math.abs(c / n)).toBeLessThan((4 * dt) / Math.sqrt(n));
  });

  it("sums steps between any two grid points, in either order", () => {
    const path = orThrow(gridBrownianPath(float64Space, key, like, grid));
    const whole = path.increment(grid[1], grid[6]);
    const back = path.increment(grid[6], grid[1]);
    let parts: Float64Array = new Float64Array(n);
    for (let k = 1; k < 6; k++)
      parts = float64Space.combine([
        [1, parts],
        [1, path.increment(grid[k], grid[k + 1])],
      ]);
    for (let i = 0; i < n; i += 997) {
      expect(whole[i]).toBeCloseTo(parts[i], 12);
      expect(back[i]).toBe(-whole[i]);
    }
    expect(path.increment(grid[4], grid[4]).every((x) => x === 0)).toBe(true);
  });

  it("answers a time off the grid with a non-finite increment, and rejects a bad grid", () => {
    const path = orThrow(gridBrownianPath(float64Space, key, like, grid));
    expect(Number.isNaN(path.increment(0.5, grid[0])[0])).toBe(true);
    expect(E.isLeft(gridBrownianPath(float64Space, key, like, [1, 1, 0]))).toBe(true);
  });
});
