import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { foldIn, rngKey } from "../../src/core/rng.js";
import { zeros64 } from "../../src/core/tensor.js";
import { vpDdpmSchedule } from "../../src/discrete/index.js";
import { sampleCovariance, sampleMean } from "../../src/metrics/index.js";
import { ddpmMixtureScore, mixtureCovariance, mixtureMean, mixtureOracle } from "../../src/oracle/index.js";
import { ringMixture } from "../../src/oracle/presets.js";
import { tensorBatchSpace } from "../../src/samplers/batch-space.js";
import { runSamplerFamily, SAMPLER_FAMILIES, samplerFamilyInfo } from "../../src/samplers/families.js";
import { veSde } from "../../src/sde/ve.js";
import { vpSde } from "../../src/sde/vp.js";

describe.each([
  ["VP", orThrow(vpSde())],
  ["VE (σ_p = 50: the start must be σ_p·z, not σ_p²·z)", orThrow(veSde())],
])("every sampler family from one table, %s", (_, sde) => {
  const data = orThrow(ringMixture());
  const schedule = orThrow(vpDdpmSchedule({ betaMin: 0.1, betaMax: 20, numSteps: 1000 }));
  const space = tensorBatchSpace<Float64Array>();
  const key = orThrow(rngKey(5));
  const n = 2000;
  const noise = space.normalLike(foldIn(key, 0), zeros64([n, 2]));
  const model = { parameterization: "score", predict: mixtureOracle(sde, data).score } as const;
  const discreteModel = { parameterization: "score", predict: ddpmMixtureScore(schedule, data) } as const;
  const expectedNfe: Record<string, (steps: number) => number> = {
    ddpm: (k) => k,
    ddim: (k) => k,
    edm: (k) => 2 * k - 1,
    "dpmpp-2m": (k) => k,
  };

  for (const family of SAMPLER_FAMILIES) {
    it(`${samplerFamilyInfo[family].title}: with the exact score, the mixture's mean (4 SE) and spread (10%)`, () => {
      // VE spans σ from 0.01 to 50: the fixed-step families need more steps than on VP for the same error.
      const steps = Math.min(
        sde.priorStd > 1 ? 200 : 100,
        samplerFamilyInfo[family].defaultSteps * (sde.priorStd > 1 ? 2 : 1),
      );
      const r = orThrow(
        runSamplerFamily(family, {
          space,
          model,
          sde,
          schedule,
          discreteModel,
          noise,
          key: foldIn(key, 1),
          steps,
        }),
      );
      const mean = sampleMean(r.y);
      const exact = mixtureMean(data);
      // The ring's per-axis variance is at most its radius² + component variance; SE = √(var/n).
      const se = Math.sqrt(
        Array.from(r.y.data).reduce((a, v, i) => a + (v - mean[i % 2]) ** 2, 0) / (2 * n) / n,
      );
      for (let j = 0; j < 2; j++) expect(Math.abs(mean[j] - exact[j])).toBeLessThan(4 * se);
      // A wrong start (noise not scaled to the prior) or model would show in the spread: tr Σ̂ within 10% of tr Σ.
      const cov = sampleCovariance(r.y);
      const exactCov = mixtureCovariance(data);
      expect(
        Math.abs(cov[0] + cov[3] - exactCov[0] - exactCov[3]) / (exactCov[0] + exactCov[3]),
      ).toBeLessThan(0.1);
      const nfe = expectedNfe[family];
      if (nfe !== undefined) expect(r.nfe).toBe(nfe(steps));
    });
  }

  it("refuses a step count below 1", () => {
    const r = runSamplerFamily("edm", { space, model, sde, schedule, noise, key, steps: 0 });
    expect(E.isLeft(r) && "field" in r.left && r.left.field).toBe("steps");
  });
});
