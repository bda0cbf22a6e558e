import { describe, expect, it } from "vitest";
import {
  orThrow,
  runSamplerFamily,
  runSteps,
  SAMPLER_FAMILIES,
  type SamplerFamily,
  samplerFamilySteps,
  tensorBatchSpace,
  vpSde,
} from "../../src/index.js";
import { displayed } from "../../web/display.js";
import { exactModel, samplingInputs, vpChain } from "../../web/models.js";

const space = tensorBatchSpace<Float32Array>();
const STEPS: Readonly<Record<SamplerFamily, number>> = {
  ddpm: 40,
  ddim: 20,
  "reverse-sde": 40,
  pc: 20,
  "pf-heun": 20,
  "pf-rk45": 0,
  edm: 12,
  "dpmpp-2m": 12,
};

describe("what the playground draws of each sampler family's records", () => {
  const { model } = orThrow(exactModel("eightGaussians"));
  const schedule = orThrow(vpChain());
  const { noise, key } = orThrow(samplingInputs(3, 300));

  for (const family of SAMPLER_FAMILIES) {
    it(`${family}: the last record is drawn as runSamplerFamily's samples, at t ≤ tMin (VP)`, () => {
      const sde = orThrow(vpSde());
      const setup = { space, model, sde, schedule, noise, key, steps: STEPS[family] };
      const run = orThrow(samplerFamilySteps(family, setup));
      const [solution] = orThrow(runSteps(run.steps, run.start.t, run.start.y));
      const reference = orThrow(runSamplerFamily(family, setup));
      expect(solution.nfe).toBe(reference.nfe);
      expect(Array.from(solution.y.data)).toEqual(Array.from(reference.y.data));
      // The last record is drawn as the samples themselves, at t = 0 (DPM-Solver++ stops at tMin).
      const last = displayed(
        space,
        run.clock,
        { step: 1, t: solution.ts[solution.ts.length - 1], y: solution.y, nfe: 0 },
        sde,
        {
          sde,
          steps: 1000,
        },
      );
      expect(last.t).toBeLessThanOrEqual(sde.tMin);
      expect(Array.from(last.x.data)).toEqual(Array.from(solution.y.data));
    });
  }
});
