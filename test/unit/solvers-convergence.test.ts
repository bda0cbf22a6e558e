import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { float64Space } from "../../src/core/tensor.js";
import {
  type BrownianPath,
  gridUniform,
  type OdeTerm,
  odeDopri5,
  odeEuler,
  odeHeun,
  odeRk4,
  type RungeKuttaMethod,
  type SdeSolver,
  type SdeTerm,
  sdeEulerMaruyama,
  sdeHeun,
  solveOde,
  solveSde,
  virtualBrownianTree,
} from "../../src/solvers/index.js";

/** The least-squares slope of log(error) against log(step size). */
const logLogSlope = (hs: readonly number[], errors: readonly number[]): number => {
  const x = hs.map(Math.log);
  const y = errors.map(Math.log);
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxy / sxx;
};

const maxError = (a: Float64Array, b: Float64Array): number =>
  Math.max(...a.map((v, i) => Math.abs(v - b[i])));
const mean = (x: ArrayLike<number>, f: (v: number, i: number) => number = (v) => v): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += f(x[i], i);
  return s / x.length;
};

// -------------------------------------------------------------------------------------------------------------
// ODEs: global error at the end time against the closed form, n = steps over [0, 2] or [2, 0].
// -------------------------------------------------------------------------------------------------------------

/** y1' = −(1 + t)·y2, y2' = (1 + t)·y1: a rotation by θ(t) = t + t²/2 (non-autonomous, linear). */
const rotation: OdeTerm<Float64Array> = {
  vectorField: (y, t) => Float64Array.of(-(1 + t) * y[1], (1 + t) * y[0]),
};
const rotationExact = (t: number): Float64Array =>
  Float64Array.of(Math.cos(t + (t * t) / 2), Math.sin(t + (t * t) / 2));
/** y' = −2t·y² with y = 1/(1 + t²) (non-autonomous, non-linear). */
const riccati: OdeTerm<Float64Array> = { vectorField: (y, t) => Float64Array.of(-2 * t * y[0] * y[0]) };
const riccatiExact = (t: number): Float64Array => Float64Array.of(1 / (1 + t * t));

const problems = [
  ["rotation", rotation, rotationExact],
  ["Riccati", riccati, riccatiExact],
] as const;

const cases: ReadonlyArray<
  readonly [RungeKuttaMethod, readonly number[], number, readonly (typeof problems)[number][]]
> = [
  // [method, step counts in the asymptotic range (errors ≫ rounding), tolerance on the slope, problems]
  [odeEuler, [32, 64, 128, 256, 512], 0.15, problems],
  [odeHeun, [32, 64, 128, 256, 512], 0.2, problems],
  [odeRk4, [8, 16, 32, 64, 128], 0.3, problems],
  // Riccati's poles at t = ±i keep fifth-order errors pre-asymptotic (local slopes 6 → 5.2) until rounding
  // takes over, so Dormand–Prince as a fixed-step order-5 method is measured on the rotation only.
  [odeDopri5, [8, 16, 32, 64, 128], 0.3, [problems[0]]],
];

describe("fixed-step ODE convergence: the log-log slope of the global error is the declared order", () => {
  for (const [method, ns, tolerance, onProblems] of cases) {
    for (const [name, term, exact] of onProblems) {
      for (const [t0, t1] of [
        [0, 2],
        [2, 0],
      ] as const) {
        it(`${method.name} (order ${method.order}) on ${name}, t = ${t0} → ${t1}`, () => {
          const errors = ns.map((n) =>
            maxError(
              orThrow(solveOde(float64Space, method, term, exact(t0), orThrow(gridUniform(t0, t1, n)))).y,
              exact(t1),
            ),
          );
          const slope = logLogSlope(
            ns.map((n) => 2 / n),
            errors,
          );
          expect(Math.abs(slope - method.order)).toBeLessThan(tolerance);
        });
      }
    }
  }
});

// -------------------------------------------------------------------------------------------------------------
// SDEs on a virtual Brownian tree: a Float64Array of N components is N independent scalar paths (g(t) is scalar
// and additive, so every component solves the same SDE on its own Brownian motion).
// -------------------------------------------------------------------------------------------------------------

const zerosLike = (n: number): Float64Array => new Float64Array(n);

describe("SDE weak order (Ornstein–Uhlenbeck, dX = −θX dt + σ dW, T = 1)", () => {
  const theta = 2;
  const sigma = 1;
  const T = 1;
  const ou: SdeTerm<Float64Array> = { drift: (x) => x.map((v) => -theta * v), diffusion: () => sigma };
  // Closed form of the Ornstein–Uhlenbeck process: E X_T = X₀·e^{−θT}, Var X_T = σ²(1 − e^{−2θT})/(2θ)
  const meanAt = (x0: number): number => x0 * Math.exp(-theta * T);
  const variance = ((sigma * sigma) / (2 * theta)) * (1 - Math.exp(-2 * theta * T));

  it("Euler–Maruyama: weak order 1 for E X_T (X₀ = 1) and E X_T² (X₀ = 0), Monte Carlo on 2 × 2000 paths", () => {
    const N = 2000;
    // Components 0…N−1 start at 1 (for E X), N…2N−1 at 0 (for E X² = Var, the diffusion's share alone)
    const y0 = new Float64Array(2 * N).fill(1, 0, N);
    const path = orThrow(virtualBrownianTree(float64Space, orThrow(rngKey(5)), zerosLike(2 * N), 0, T, 1e-9));
    const solve = (solver: SdeSolver, n: number): Float64Array =>
      orThrow(solveSde(float64Space, solver, ou, y0, orThrow(gridUniform(0, T, n)), path)).y;
    // Reference: stochastic Heun (weak order 2) with h = 1/256 on the SAME paths; its weak bias is O(10⁻⁵).
    const reference = solve(sdeHeun, 256);
    const refMean = reference.subarray(0, N);
    const refCentred = reference.subarray(N);
    // The reference has the closed-form moments, within 4 standard errors
    const sdMean = Math.sqrt(mean(refMean, (v) => (v - meanAt(1)) ** 2));
    const sdSquare = Math.sqrt(mean(refCentred, (v) => (v * v - variance) ** 2));
    expect(Math.abs(mean(refMean) - meanAt(1))).toBeLessThan((4 * sdMean) / Math.sqrt(N));
    expect(Math.abs(mean(refCentred, (v) => v * v) - variance)).toBeLessThan((4 * sdSquare) / Math.sqrt(N));
    // Weak error E φ(X_h) − E φ(X_T) estimated on common random numbers as mean φ(X_h) − mean φ(X_ref): the
    // statistical error of the difference is the strong error over √N (~5% of the O(h) bias here), not the
    // spread of φ(X) over √N.
    const ns = [8, 16, 32, 64];
    const e1: number[] = [];
    const e2: number[] = [];
    for (const n of ns) {
      const y = solve(sdeEulerMaruyama, n);
      e1.push(Math.abs(mean(y.subarray(0, N), (v, i) => v - refMean[i])));
      e2.push(Math.abs(mean(y.subarray(N), (v, i) => v * v - refCentred[i] * refCentred[i])));
    }
    const hs = ns.map((n) => T / n);
    expect(Math.abs(logLogSlope(hs, e1) - 1)).toBeLessThan(0.15);
    expect(Math.abs(logLogSlope(hs, e2) - 1)).toBeLessThan(0.15);
  });

  // For a linear drift both solvers are affine in the increments, X_h = a + Σ_k c_k·ΔW_k with independent
  // ΔW_k ~ N(0, h): E X_h = a and E X_h² = a² + h·Σ c_k², read off exactly by solving on the zero path (a) and
  // on unit-impulse paths (a + c_k). This measures the weak error without Monte-Carlo noise.
  const exactMoments = (solver: SdeSolver, n: number, x0: number): readonly [number, number] => {
    const grid = orThrow(gridUniform(0, T, n));
    const impulse = (k: number): BrownianPath<Float64Array> => ({
      tLo: 0,
      tHi: T,
      increment: (t0) => Float64Array.of(t0 === grid[k] ? 1 : 0),
    });
    const endpoint = (p: BrownianPath<Float64Array>): number =>
      orThrow(solveSde(float64Space, solver, ou, Float64Array.of(x0), grid, p)).y[0];
    const a = endpoint(impulse(-1));
    let sumSquares = 0;
    for (let k = 0; k < n; k++) sumSquares += (endpoint(impulse(k)) - a) ** 2;
    return [a, a * a + (T / n) * sumSquares];
  };

  it.each([
    ["Euler–Maruyama", sdeEulerMaruyama],
    ["Heun", sdeHeun],
  ] as const)(
    "%s: exact weak errors of E X_T and E X_T² (X₀ = 1) fall at the declared weak order",
    (_, solver) => {
      const ns = [8, 16, 32, 64];
      const moments = ns.map((n) => exactMoments(solver, n, 1));
      const hs = ns.map((n) => T / n);
      const slope1 = logLogSlope(
        hs,
        moments.map(([m]) => Math.abs(m - meanAt(1))),
      );
      const slope2 = logLogSlope(
        hs,
        moments.map(([, m2]) => Math.abs(m2 - (meanAt(1) ** 2 + variance))),
      );
      expect(Math.abs(slope1 - solver.weakOrder)).toBeLessThan(0.15);
      expect(Math.abs(slope2 - solver.weakOrder)).toBeLessThan(0.15);
    },
  );
});

describe("SDE strong order against a fine solution on the same Brownian path", () => {
  // dX = (sin 2X − X + cos 3t) dt + (½ + ½t) dW: non-linear drift, time-dependent additive noise
  const N = 128;
  const term: SdeTerm<Float64Array> = {
    drift: (x, t) => x.map((v) => Math.sin(2 * v) - v + Math.cos(3 * t)),
    diffusion: (t) => 0.5 + 0.5 * t,
  };
  const path = orThrow(virtualBrownianTree(float64Space, orThrow(rngKey(9)), zerosLike(N), 0, 1, 1e-9));
  const ns = [8, 16, 32, 64];

  for (const [t0, t1] of [
    [0, 1],
    [1, 0],
  ] as const) {
    const y0 = new Float64Array(N).fill(0.5);
    const solve = (solver: SdeSolver, n: number): Float64Array =>
      orThrow(solveSde(float64Space, solver, term, y0, orThrow(gridUniform(t0, t1, n)), path)).y;
    it(`Euler–Maruyama and Heun: strong order 1 for additive noise, t = ${t0} → ${t1}`, () => {
      const reference = solve(sdeHeun, 2048);
      for (const solver of [sdeEulerMaruyama, sdeHeun]) {
        const errors = ns.map((n) => {
          const y = solve(solver, n);
          return mean(y, (v, i) => Math.abs(v - reference[i]));
        });
        const slope = logLogSlope(
          ns.map((n) => 1 / n),
          errors,
        );
        expect(solver.strongOrder).toBe(1);
        expect(Math.abs(slope - solver.strongOrder)).toBeLessThan(0.2);
      }
    });
  }
});
