import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import {
  ddpmIndexOfTime,
  ddpmSchedule,
  ddpmTimeOfIndex,
  type VpDdpmScheduleOptions,
  vpDdpmSchedule,
} from "../../src/discrete/index.js";
import { vpSde } from "../../src/sde/vp.js";

const leftMessage = <A>(r: E.Either<{ readonly message: string }, A>): string =>
  E.isLeft(r) ? r.left.message : "<Right>";

/** Least-squares slope of log y against log x. */
const logLogSlope = (xs: readonly number[], ys: readonly number[]): number => {
  const lx = xs.map(Math.log);
  const ly = ys.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < lx.length; i++) {
    num += (lx[i] - mx) * (ly[i] - my);
    den += (lx[i] - mx) ** 2;
  }
  return num / den;
};

describe("vpDdpmSchedule: DDPM is the discretized VP SDE (Song et al. 2021, App. B)", () => {
  it("β_i = β̄(t_i)/N with t_i = i/(N − 1), to 1e-15 relative (score_sde VPSDE.discrete_betas)", () => {
    for (const [betaMin, betaMax, N] of [
      [0.1, 20, 1000],
      [0.1, 20, 250],
      [0.05, 12.5, 777],
      [1, 1, 10],
    ] as const) {
      const s = orThrow(vpDdpmSchedule({ betaMin, betaMax, numSteps: N }));
      for (let i = 0; i < N; i++) {
        const betaBar = betaMin + (i / (N - 1)) * (betaMax - betaMin);
        expect(Math.abs(s.betas[i] / (betaBar / N) - 1)).toBeLessThanOrEqual(1e-15);
      }
    }
  });

  it("is exactly diffusers' linear schedule with β_start = β_min/N, β_end = β_max/N", () => {
    const vp = orThrow(vpDdpmSchedule({ numSteps: 500 }));
    const linear = orThrow(ddpmSchedule({ numTrainTimesteps: 500, betaStart: 0.1 / 500, betaEnd: 20 / 500 }));
    expect(vp).toEqual(linear);
    expect(vp.kind).toBe("linear");
  });

  it("ᾱ_i → s((i+1)/N)² and 1 − ᾱ_i → σ((i+1)/N)² at first order: log-log slope −1 ± 0.15", () => {
    const sde = orThrow(vpSde({ betaMin: 0.1, betaMax: 20 }));
    const sizes = [250, 500, 1000, 2000, 4000];
    const signalErrors: number[] = [];
    const noiseErrors: number[] = [];
    for (const N of sizes) {
      const s = orThrow(vpDdpmSchedule({ betaMin: 0.1, betaMax: 20, numSteps: N }));
      let signal = 0;
      let noise = 0;
      for (let i = 0; i < N; i++) {
        const t = orThrow(ddpmTimeOfIndex(N, i));
        signal = Math.max(signal, Math.abs(s.alphaBars[i] - sde.scale(t) ** 2));
        noise = Math.max(noise, Math.abs(s.oneMinusAlphaBars[i] - sde.std(t) ** 2));
      }
      signalErrors.push(signal);
      noiseErrors.push(noise);
    }
    expect(Math.abs(logLogSlope(sizes, signalErrors) + 1)).toBeLessThanOrEqual(0.15);
    expect(Math.abs(logLogSlope(sizes, noiseErrors) + 1)).toBeLessThanOrEqual(0.15);
    // the error is discretization, not rounding: at N = 1000 it is O(1e-3), far above float64 noise
    expect(signalErrors[2]).toBeGreaterThan(1e-4);
    expect(signalErrors[4]).toBeLessThan(signalErrors[0] / 10);
  });

  it("rejects bad parameters with a Left that names the field", () => {
    const cases: ReadonlyArray<readonly [VpDdpmScheduleOptions, string]> = [
      [{ betaMin: 0 }, "VP DDPM schedule: betaMin must be a finite number > 0, got betaMin=0"],
      [{ betaMin: Number.NaN }, "got betaMin=NaN"],
      [{ betaMax: Number.POSITIVE_INFINITY }, "got betaMax=Infinity"],
      [{ betaMin: 5, betaMax: 1 }, "VP DDPM schedule: betaMax must be ≥ betaMin, got betaMin=5, betaMax=1"],
      [
        { numSteps: 10 },
        "betaMax must be < numSteps so that every β_i = β̄(t_i)/N < 1, got betaMax=20, numSteps=10",
      ],
      [{ numSteps: 1 }, "numSteps must be an integer in [2, 16777216], got numSteps=1"],
      [{ numSteps: 100.5 }, "got numSteps=100.5"],
    ];
    for (const [options, message] of cases) expect(leftMessage(vpDdpmSchedule(options))).toContain(message);
  });
});

describe("index ↔ continuous time: t = (i + 1)/N", () => {
  it("maps the ends and round-trips every index", () => {
    expect(orThrow(ddpmTimeOfIndex(1000, 0))).toBe(0.001);
    expect(orThrow(ddpmTimeOfIndex(1000, 999))).toBe(1);
    for (const N of [1, 7, 1000]) {
      for (let i = 0; i < N; i++) expect(orThrow(ddpmIndexOfTime(N, orThrow(ddpmTimeOfIndex(N, i))))).toBe(i);
    }
  });

  it("sends a time to the index of the nearest grid time, clamping below 1/(2N)", () => {
    expect(orThrow(ddpmIndexOfTime(1000, 0))).toBe(0);
    expect(orThrow(ddpmIndexOfTime(1000, 1))).toBe(999);
    expect(orThrow(ddpmIndexOfTime(1000, 0.5004))).toBe(499);
    expect(orThrow(ddpmIndexOfTime(1000, 0.5006))).toBe(500);
  });

  it("rejects bad input with a Left", () => {
    expect(leftMessage(ddpmTimeOfIndex(10, 10))).toBe(
      "DDPM time of index: index must be an integer in [0, 9], got index=10",
    );
    expect(leftMessage(ddpmTimeOfIndex(0, 0))).toContain("numSteps must be an integer in [1, 16777216]");
    expect(leftMessage(ddpmIndexOfTime(10, 1.5))).toBe(
      "DDPM index of time: time must lie in the closed interval [0, 1], got time=1.5",
    );
    expect(leftMessage(ddpmIndexOfTime(10, Number.NaN))).toContain("got time=NaN");
    expect(leftMessage(ddpmIndexOfTime(2.5, 0.5))).toContain("got numSteps=2.5");
  });
});
