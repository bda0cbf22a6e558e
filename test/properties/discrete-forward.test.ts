import fc from "fast-check";
import { describe, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import type { Tensor64 } from "../../src/core/tensor.js";
import {
  type BetaScheduleKind,
  ddpmForwardStep,
  ddpmMarginal,
  ddpmQSample,
  ddpmSchedule,
} from "../../src/discrete/index.js";

const validOptions = fc
  .record({
    kind: fc.constantFrom<BetaScheduleKind>("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid"),
    numTrainTimesteps: fc.integer({ min: 2, max: 2000 }),
    betaStart: fc.double({ min: 1e-6, max: 0.05, noNaN: true }),
    u: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ u, ...o }) => ({ ...o, betaEnd: o.betaStart + u * (0.2 - o.betaStart) }));

describe("forward process properties (Ho et al. 2020, eq. 2 and 4)", () => {
  it("q(x_t | x_0) is the composition of the q(x_i | x_{i−1}), i ≤ t, to 1e-12 relative", () => {
    fc.assert(
      fc.property(validOptions, (options) => {
        const s = orThrow(ddpmSchedule(options));
        let m = 1;
        let v = 0;
        for (let t = 0; t < s.betas.length; t++) {
          const { scale, std } = orThrow(ddpmForwardStep(s, t));
          m *= scale;
          v = scale * scale * v + std * std;
          const q = orThrow(ddpmMarginal(s, t));
          if (Math.abs(q.scale / m - 1) > 1e-12 || Math.abs((q.std * q.std) / v - 1) > 1e-12) return false;
        }
        return true;
      }),
      { numRuns: 60 },
    );
  });

  it("qSample is linear: x_t(a·x_0, a·ε) = a·x_t(x_0, ε), and x_t(x_0, 0) = √ᾱ_t·x_0", () => {
    const values = fc.float64Array({
      minLength: 4,
      maxLength: 4,
      noNaN: true,
      noDefaultInfinity: true,
      min: -1e3,
      max: 1e3,
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999 }),
        values,
        values,
        fc.double({ min: -10, max: 10, noNaN: true }),
        (t, x, e, a) => {
          const s = orThrow(ddpmSchedule());
          const x0: Tensor64 = { shape: [2, 2], data: x };
          const eps: Tensor64 = { shape: [2, 2], data: e };
          const xt = orThrow(ddpmQSample(s, t, x0, eps)).data;
          const scaled = orThrow(
            ddpmQSample(s, t, { ...x0, data: x.map((v) => a * v) }, { ...eps, data: e.map((v) => a * v) }),
          ).data;
          const noiseless = orThrow(ddpmQSample(s, t, x0, { ...eps, data: new Float64Array(4) })).data;
          const root = Math.sqrt(s.alphaBars[t]);
          return xt.every(
            (v, i) =>
              Math.abs(scaled[i] - a * v) <= 1e-9 * (1 + Math.abs(a * v)) &&
              Math.abs(noiseless[i] - root * x[i]) <= 1e-12 * (1 + Math.abs(x[i])),
          );
        },
      ),
      { numRuns: 100 },
    );
  });
});
