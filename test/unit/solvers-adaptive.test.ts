import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { float64Space, type Tensor64, tensorSpace } from "../../src/core/tensor.js";
import {
  decideStep,
  defaultPiController,
  initialStepSize,
  odeAdaptiveSteps,
  odeDopri5,
  piController,
  type SolveError,
  scaledRmsNorm,
  solveOdeAdaptive,
} from "../../src/solvers/index.js";

const leftMessage = <A>(r: E.Either<{ readonly message: string }, A>): string =>
  E.isLeft(r) ? r.left.message : "<Right>";

const failureOf = <A>(r: E.Either<SolveError, A>) => {
  if (E.isRight(r) || r.left._tag !== "SolveFailure") throw new Error("expected a SolveFailure");
  return r.left;
};

/** y1' = −(1 + t)·y2, y2' = (1 + t)·y1: a rotation by θ(t) = t + t²/2. */
const rotation = {
  vectorField: (y: Float64Array, t: number): Float64Array => Float64Array.of(-(1 + t) * y[1], (1 + t) * y[0]),
};
const rotationExact = (t: number): Float64Array =>
  Float64Array.of(Math.cos(t + (t * t) / 2), Math.sin(t + (t * t) / 2));
/** y' = −2t·y², y = 1/(1 + t²). */
const riccati = {
  vectorField: (y: Float64Array, t: number): Float64Array => Float64Array.of(-2 * t * y[0] * y[0]),
};
const riccatiExact = (t: number): Float64Array => Float64Array.of(1 / (1 + t * t));
/** Van der Pol, μ = 5: slow drifts and fast jumps, the classic step-rejection trigger. */
const vanDerPol = {
  vectorField: (y: Float64Array): Float64Array => Float64Array.of(y[1], 5 * (1 - y[0] * y[0]) * y[1] - y[0]),
};
const maxError = (a: Float64Array, b: Float64Array): number =>
  Math.max(...a.map((v, i) => Math.abs(v - b[i])));

const tolerances = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10];

describe("solveOdeAdaptive with Dormand–Prince 5(4)", () => {
  it.each([
    ["rotation, forwards", rotation, rotationExact, 0, 2],
    ["rotation, backwards", rotation, rotationExact, 2, 0],
    ["Riccati, forwards", riccati, riccatiExact, 0, 2],
    ["Riccati, backwards", riccati, riccatiExact, 2, 0],
  ] as const)(
    "%s: global error ≤ 5·tol over tol = 1e-3 … 1e-10, nfe grows as tol shrinks",
    (_, term, exact, t0, t1) => {
      // Measured err/tol ∈ [0.02, 1.7] here: the 5(4) pair with local extrapolation and rtol = atol = tol.
      let previousNfe = 0;
      for (const tol of tolerances) {
        const sol = orThrow(
          solveOdeAdaptive(float64Space, odeDopri5, term, exact(t0), t0, t1, { rtol: tol, atol: tol }),
        );
        expect(maxError(sol.y, exact(t1))).toBeLessThanOrEqual(5 * tol);
        expect(sol.nfe).toBeGreaterThan(previousNfe);
        previousNfe = sol.nfe;
        expect(sol.ts[0]).toBe(t0);
        expect(sol.ts[sol.ts.length - 1]).toBe(t1);
        expect(sol.accepted).toBe(sol.steps);
        expect(sol.ts.length).toBe(sol.accepted + 1);
      }
    },
  );

  it("rejects steps on a fast-varying problem (van der Pol, μ = 5) and counts them: nfe = 2 + 6·(accepted + rejected)", () => {
    let calls = 0;
    const counted = {
      vectorField: (y: Float64Array): Float64Array => {
        calls += 1;
        return vanDerPol.vectorField(y);
      },
    };
    const sol = orThrow(
      solveOdeAdaptive(float64Space, odeDopri5, counted, Float64Array.of(2, 0), 0, 20, {
        rtol: 1e-6,
        atol: 1e-6,
      }),
    );
    expect(sol.rejected).toBeGreaterThan(0);
    // f(y0) and the starting-step probe, then 6 new stages per attempt (FSAL)
    expect(sol.nfe).toBe(2 + 6 * (sol.accepted + sol.rejected));
    expect(calls).toBe(sol.nfe);
  });

  it("a given h0 skips the starting-step probe (nfe = 1 + 6·attempts) and times stay strictly monotone", () => {
    const sol = orThrow(
      solveOdeAdaptive(float64Space, odeDopri5, rotation, rotationExact(3), 3, 0, {
        rtol: 1e-8,
        atol: 1e-8,
        h0: 0.01,
        saveTrajectory: true,
      }),
    );
    expect(sol.nfe).toBe(1 + 6 * (sol.accepted + sol.rejected));
    for (let k = 1; k < sol.ts.length; k++) expect(sol.ts[k]).toBeLessThan(sol.ts[k - 1]);
    expect(sol.ys?.length).toBe(sol.ts.length);
    sol.ys?.forEach((y, k) => {
      expect(maxError(y, rotationExact(sol.ts[k]))).toBeLessThan(1e-6);
    });
  });

  it("the iterator yields every accepted step with its signed h, and returns the last", () => {
    const it = odeAdaptiveSteps(float64Space, odeDopri5, riccati, riccatiExact(1), 1, -1, {
      rtol: 1e-6,
      atol: 1e-6,
    });
    let t = 1;
    let count = 0;
    let next = it.next();
    while (next.done !== true) {
      count += 1;
      expect(next.value.step).toBe(count);
      expect(next.value.h).toBeLessThan(0);
      expect(next.value.t).toBeCloseTo(t + next.value.h, 15);
      t = next.value.t;
      next = it.next();
    }
    const last = orThrow(next.value);
    expect(last.t).toBe(-1);
    expect(last.step).toBe(count);
  });

  it("integrates a Tensor state", () => {
    const space = tensorSpace<Float64Array>();
    const term = {
      vectorField: (y: Tensor64, t: number): Tensor64 => ({
        shape: y.shape,
        data: rotation.vectorField(y.data, t),
      }),
    };
    const sol = orThrow(
      solveOdeAdaptive(space, odeDopri5, term, { shape: [1, 2], data: rotationExact(0) }, 0, 1, {
        rtol: 1e-9,
        atol: 1e-9,
      }),
    );
    expect(maxError(sol.y.data, rotationExact(1))).toBeLessThan(5e-9);
  });

  it("stops with stepSizeUnderflow near a finite-time blow-up (y' = y², y(0) = 1, blows up at t = 1)", () => {
    const blowUp = { vectorField: (y: Float64Array): Float64Array => Float64Array.of(y[0] * y[0]) };
    const failure = failureOf(
      solveOdeAdaptive(float64Space, odeDopri5, blowUp, Float64Array.of(1), 0, 2, { rtol: 1e-6, atol: 1e-6 }),
    );
    expect(failure.reason).toBe("stepSizeUnderflow");
    expect(Math.abs(failure.t - 1)).toBeLessThan(1e-5);
    expect(failure.message).toMatch(
      /^solveOdeAdaptive \(Dopri5\): the step size underflowed at step \d+, t=1\.0000/,
    );
  });

  it("stops with maxSteps, naming the attempts made and t", () => {
    const failure = failureOf(
      solveOdeAdaptive(float64Space, odeDopri5, rotation, rotationExact(0), 0, 10, {
        rtol: 1e-10,
        atol: 1e-10,
        maxSteps: 20,
      }),
    );
    expect(failure.reason).toBe("maxSteps");
    expect(failure.step).toBe(20);
    expect(failure.t).toBeGreaterThan(0);
    expect(failure.t).toBeLessThan(10);
    expect(failure.message).toContain("(maxSteps=20)");
  });

  it("rejects bad options and inputs", () => {
    const solve = (
      o: Partial<{ rtol: number; atol: number; h0: number; maxSteps: number }>,
      t0 = 0,
      t1 = 1,
      y0 = rotationExact(0),
    ) =>
      leftMessage(
        solveOdeAdaptive(float64Space, odeDopri5, rotation, y0, t0, t1, { rtol: 1e-6, atol: 1e-6, ...o }),
      );
    expect(solve({ rtol: -1 })).toBe(
      "solveOdeAdaptive (Dopri5): rtol must be a finite number ≥ 0, got rtol=-1",
    );
    expect(solve({ atol: 0 })).toBe(
      "solveOdeAdaptive (Dopri5): atol must be a finite number > 0, got atol=0",
    );
    expect(solve({ h0: Number.NaN })).toContain("h0 must be a finite number > 0");
    expect(solve({ maxSteps: 0 })).toContain("maxSteps must be an integer ≥ 1");
    expect(solve({}, 1, 1)).toBe("solveOdeAdaptive (Dopri5): t1 must differ from t0, got t0=1, t1=1");
    expect(solve({}, 0, Number.POSITIVE_INFINITY)).toContain("t1 must be a finite number");
    expect(solve({}, 0, 1, Float64Array.of(Number.NaN, 0))).toBe(
      "solveOdeAdaptive (Dopri5): y0[0] must be finite, got y0[0]=NaN",
    );
  });
});

describe("initialStepSize (Hairer I, §II.4)", () => {
  it("y' = −y, y0 = 1, atol = 1, rtol = 0: h0 = 0.01, d2 = 1, h1 = 0.01^{1/5}", () => {
    const field = (y: Float64Array): Float64Array => Float64Array.of(-y[0]);
    const y0 = Float64Array.of(1);
    const h = initialStepSize(float64Space, field, y0, field(y0), 0, 10, 4, 0, 1);
    expect(h).toBeCloseTo(0.01 ** (1 / 5), 12);
    // capped by the span
    expect(initialStepSize(float64Space, field, y0, field(y0), 0, -0.1, 4, 0, 1)).toBe(0.1);
  });

  it("a vanishing field: h0 = 10⁻⁶, h1 = max(10⁻⁶, 10⁻³·h0) = 10⁻⁶, h = min(100·h0, h1) = 10⁻⁶", () => {
    const zero = (): Float64Array => Float64Array.of(0);
    expect(initialStepSize(float64Space, zero, Float64Array.of(1), zero(), 0, 10, 4, 1e-6, 1e-6)).toBe(1e-6);
  });
});

describe("scaledRmsNorm", () => {
  it("√(mean((e_i/(atol + rtol·max(|y0_i|, |y1_i|)))²))", () => {
    const e = [0.1, 0.2];
    const norm = scaledRmsNorm(e, [1, -3], [2, 1], 0.1, 0.1);
    expect(norm).toBeCloseTo(Math.sqrt(((0.1 / 0.3) ** 2 + (0.2 / 0.4) ** 2) / 2), 15);
  });
});

describe("PI controller", () => {
  it("factor = safety·err^{−α}·err_prev^{β} inside the clip range", () => {
    const d = decideStep(defaultPiController, 0.5, 0.8, false);
    expect(d.accept).toBe(true);
    expect(d.factor).toBeCloseTo(0.9 * 0.5 ** -(0.7 / 5) * 0.8 ** (0.4 / 5), 15);
    const r = decideStep(defaultPiController, 2, 0.5, false);
    expect(r.accept).toBe(false);
    expect(r.factor).toBeCloseTo(0.9 * 2 ** -(0.7 / 5) * 0.5 ** (0.4 / 5), 15);
  });

  it("clips to [minFactor, maxFactor]; no growth on or right after a rejection", () => {
    expect(decideStep(defaultPiController, 1e-30, 1, false).factor).toBe(10);
    expect(decideStep(defaultPiController, 0, 1, false).factor).toBe(10);
    expect(decideStep(defaultPiController, 1e-30, 1, true).factor).toBe(1);
    expect(decideStep(defaultPiController, 1e30, 1, false)).toEqual({ accept: false, factor: 0.2 });
    expect(decideStep(defaultPiController, Number.NaN, 1, false)).toEqual({ accept: false, factor: 0.2 });
    expect(decideStep(defaultPiController, Number.POSITIVE_INFINITY, 1, false)).toEqual({
      accept: false,
      factor: 0.2,
    });
  });

  it("piController validates its overrides", () => {
    expect(orThrow(piController({ beta: 0 }))).toEqual({ ...defaultPiController, beta: 0 });
    expect(leftMessage(piController({ safety: 0 }))).toBe(
      "piController: safety must lie in the half-open interval (0, 1], got safety=0",
    );
    expect(leftMessage(piController({ alpha: -1 }))).toContain("alpha must be a finite number > 0");
    expect(leftMessage(piController({ minFactor: 1 }))).toContain(
      "minFactor must lie in the open interval (0, 1)",
    );
    expect(leftMessage(piController({ maxFactor: 1 }))).toContain("maxFactor must be a finite number > 1");
  });

  it("a custom controller is used: an I controller with a small maxFactor takes more steps", () => {
    const base = orThrow(
      solveOdeAdaptive(float64Space, odeDopri5, rotation, rotationExact(0), 0, 2, { rtol: 1e-6, atol: 1e-6 }),
    );
    const timid = orThrow(
      solveOdeAdaptive(float64Space, odeDopri5, rotation, rotationExact(0), 0, 2, {
        rtol: 1e-6,
        atol: 1e-6,
        controller: orThrow(piController({ beta: 0, maxFactor: 1.1 })),
      }),
    );
    expect(timid.accepted).toBeGreaterThan(base.accepted);
  });
});
