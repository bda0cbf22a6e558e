import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow, type ScoreflowError } from "../../src/core/errors.js";
import {
  edmSde,
  type LinearSde,
  noiseLevel,
  subVpSde,
  veSde,
  vpCosineSde,
  vpSde,
} from "../../src/sde/index.js";

/** A built-in SDE with random parameters, and the distance from its domain to a singularity of its schedule.
 * */
interface Case {
  readonly sde: LinearSde;
  readonly singularity: number;
}

const vpParams = fc.record({
  betaMin: fc.double({ min: 0.01, max: 2, noNaN: true }),
  span: fc.double({ min: 0, max: 40, noNaN: true }),
  tMax: fc.double({ min: 0.2, max: 2, noNaN: true }),
});
const vpCase = vpParams.map(
  ({ betaMin, span, tMax }): Case => ({
    sde: orThrow(vpSde({ betaMin, betaMax: betaMin + span, tMin: 1e-3 * tMax, tMax })),
    singularity: Number.POSITIVE_INFINITY,
  }),
);
const subVpCase = vpParams.map(
  ({ betaMin, span, tMax }): Case => ({
    sde: orThrow(subVpSde({ betaMin, betaMax: betaMin + span, tMin: 1e-3 * tMax, tMax })),
    singularity: Number.POSITIVE_INFINITY,
  }),
);
const cosineCase = fc
  .record({
    offset: fc.double({ min: 0, max: 0.1, noNaN: true }),
    tMax: fc.double({ min: 0.5, max: 0.9995, noNaN: true }),
  })
  .map(
    ({ offset, tMax }): Case => ({
      sde: orThrow(vpCosineSde({ offset, tMax })),
      singularity: 1,
    }),
  );
const veCase = fc
  .record({
    sigmaMin: fc.double({ min: 1e-3, max: 1, noNaN: true }),
    ratio: fc.double({ min: 2, max: 1e5, noNaN: true }),
  })
  .map(
    ({ sigmaMin, ratio }): Case => ({
      sde: orThrow(veSde({ sigmaMin, sigmaMax: sigmaMin * ratio })),
      singularity: Number.POSITIVE_INFINITY,
    }),
  );
const edmCase = fc
  .record({
    sigmaMin: fc.double({ min: 1e-3, max: 0.1, noNaN: true }),
    sigmaMax: fc.double({ min: 1, max: 200, noNaN: true }),
  })
  .map(
    ({ sigmaMin, sigmaMax }): Case => ({
      sde: orThrow(edmSde({ sigmaMin, sigmaMax })),
      singularity: Infinity,
    }),
  );

const anyCase = fc.oneof(vpCase, subVpCase, cosineCase, veCase, edmCase);
/** A case and a time u ∈ [0, 1] of its domain, t = tMin + u(tMax − tMin). */
const caseAndTime = fc.tuple(anyCase, fc.double({ min: 0, max: 1, noNaN: true }));
const at = ({ sde }: Case, u: number): number => sde.tMin + u * (sde.tMax - sde.tMin);

describe("closed forms solve the moment ODEs", () => {
  // Central differences with h = 10⁻⁴·min(t, 1, distance to the pole): truncation ≈ (h/d)²/6 ≤ 2·10⁻⁹ relative,
  // roundoff ≈ ε·t/h ≤ 10⁻¹¹ relative, so 10⁻⁶ leaves a wide margin.
  it("d log s/dt = f(t)", () => {
    fc.assert(
      fc.property(caseAndTime, ([c, u]) => {
        const t = at(c, u);
        const h = 1e-4 * Math.min(t, 1, c.singularity - t);
        const fd = (Math.log(c.sde.scale(t + h)) - Math.log(c.sde.scale(t - h))) / (2 * h);
        expect(Math.abs(fd - c.sde.f(t))).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(c.sde.f(t))));
      }),
      { numRuns: 300 },
    );
  });
  it("dσ²/dt = 2f(t)σ² + g(t)²", () => {
    fc.assert(
      fc.property(caseAndTime, ([c, u]) => {
        const t = at(c, u);
        const h = 1e-4 * Math.min(t, 1, c.singularity - t);
        const fd = (c.sde.std(t + h) ** 2 - c.sde.std(t - h) ** 2) / (2 * h);
        const drift = 2 * c.sde.f(t) * c.sde.std(t) ** 2;
        const diffusion = c.sde.g(t) ** 2;
        expect(Math.abs(fd - (drift + diffusion))).toBeLessThanOrEqual(1e-6 * (Math.abs(drift) + diffusion));
      }),
      { numRuns: 300 },
    );
  });
});

describe("noise level", () => {
  it("timeOfNoiseLevel ∘ noiseLevel = id", () => {
    fc.assert(
      fc.property(caseAndTime, ([c, u]) => {
        const t = at(c, u);
        return Math.abs(c.sde.timeOfNoiseLevel(noiseLevel(c.sde, t)) - t) <= 1e-12 * t;
      }),
      { numRuns: 500 },
    );
  });
  it("is increasing in t", () => {
    fc.assert(
      fc.property(
        anyCase,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (c, u, v) => {
          const [a, b] = [at(c, Math.min(u, v)), at(c, Math.max(u, v))];
          return noiseLevel(c.sde, a) <= noiseLevel(c.sde, b);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("sub-VP", () => {
  it("has a marginal variance below the VP one", () => {
    fc.assert(
      fc.property(vpParams, fc.double({ min: 0, max: 1, noNaN: true }), ({ betaMin, span, tMax }, u) => {
        const params = { betaMin, betaMax: betaMin + span, tMax, tMin: 1e-3 * tMax };
        const t = u * tMax;
        return orThrow(subVpSde(params)).std(t) ** 2 <= orThrow(vpSde(params)).std(t) ** 2 * (1 + 1e-15);
      }),
      { numRuns: 200 },
    );
  });
});

describe("validation", () => {
  type Params = Record<string, number>;
  const constructors: ReadonlyArray<{
    readonly context: string;
    readonly build: (p: Params) => E.Either<ScoreflowError, LinearSde>;
    readonly fields: readonly string[];
    readonly ordered: ReadonlyArray<readonly [lower: string, upper: string]>;
  }> = [
    {
      context: "VP SDE",
      build: vpSde,
      fields: ["betaMin", "betaMax", "tMin", "tMax"],
      ordered: [
        ["betaMin", "betaMax"],
        ["tMin", "tMax"],
      ],
    },
    {
      context: "sub-VP SDE",
      build: subVpSde,
      fields: ["betaMin", "betaMax", "tMin", "tMax"],
      ordered: [
        ["betaMin", "betaMax"],
        ["tMin", "tMax"],
      ],
    },
    {
      context: "VP cosine SDE",
      build: vpCosineSde,
      fields: ["offset", "tMin", "tMax"],
      ordered: [["tMin", "tMax"]],
    },
    {
      context: "VE SDE",
      build: veSde,
      fields: ["sigmaMin", "sigmaMax", "tMin", "tMax"],
      ordered: [
        ["sigmaMin", "sigmaMax"],
        ["tMin", "tMax"],
      ],
    },
    {
      context: "EDM SDE",
      build: edmSde,
      fields: ["sigmaMin", "sigmaMax"],
      ordered: [["sigmaMin", "sigmaMax"]],
    },
  ];
  const bad = fc.oneof(
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
    fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
  );

  it("rejects NaN, ±Infinity and negative values of any field, naming it", () => {
    fc.assert(
      fc.property(fc.constantFrom(...constructors), fc.nat(), bad, (c, i, value) => {
        const field = c.fields[i % c.fields.length];
        const result = c.build({ [field]: value });
        expect(E.isLeft(result)).toBe(true);
        if (E.isLeft(result)) {
          expect(result.left.field).toBe(field);
          expect(result.left.message.startsWith(`${c.context}: ${field} must be`)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("rejects inverted orderings, naming both fields", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...constructors),
        fc.nat(),
        fc.double({ min: 1e-3, max: 0.9, noNaN: true }),
        fc.double({ min: 1e-6, max: 0.5, noNaN: true }),
        (c, i, hi, gap) => {
          const [lower, upper] = c.ordered[i % c.ordered.length];
          const lo = hi * (1 - gap);
          const result = c.build({ [lower]: hi, [upper]: lo });
          expect(E.isLeft(result)).toBe(true);
          if (E.isLeft(result)) {
            expect(result.left.field).toBe(upper);
            expect(result.left.message).toContain(`got ${lower}=${hi}, ${upper}=${lo}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
