/**
 * asyncModelSteps (src/samplers/async-model.ts): every sampler family run over a model that answers with
 * Promises gives the synchronous run's steps and samples bit for bit, evaluates the model exactly NFE times, and
 * passes on a rejected evaluation and a Left that stops the run.
 */
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { foldIn, rngKey } from "../../src/core/rng.js";
import { type Tensor64, zeros64 } from "../../src/core/tensor.js";
import { vpDdpmSchedule } from "../../src/discrete/index.js";
import { ddpmMixtureScore, mixtureOracle } from "../../src/oracle/index.js";
import { ringMixture } from "../../src/oracle/presets.js";
import { type AsyncDiffusionModel, asyncModelSteps } from "../../src/samplers/async-model.js";
import { tensorBatchSpace } from "../../src/samplers/batch-space.js";
import {
  SAMPLER_FAMILIES,
  type SamplerFamily,
  type SamplerSetup,
  samplerFamilySteps,
} from "../../src/samplers/families.js";
import type { DiffusionModel } from "../../src/samplers/model.js";
import { vpSde } from "../../src/sde/vp.js";
import type { SolverStep } from "../../src/solvers/solution.js";

const sde = orThrow(vpSde());
const data = orThrow(ringMixture());
const schedule = orThrow(vpDdpmSchedule({ betaMin: 0.1, betaMax: 20, numSteps: 1000 }));
const space = tensorBatchSpace<Float64Array>();
const key = orThrow(rngKey(9));
const noise = space.normalLike(foldIn(key, 0), zeros64([300, 2]));
const score = mixtureOracle(sde, data).score;
const chainScore = ddpmMixtureScore(schedule, data);

/** The setup of a family around `model`; DDPM and DDIM call the chain's score, at the same time as `model`. */
const setup = (model: DiffusionModel<Tensor64>, chain: DiffusionModel<Tensor64>): SamplerSetup<Tensor64> => ({
  space,
  model,
  sde,
  schedule,
  discreteModel: chain,
  noise,
  key: foldIn(key, 1),
  steps: 12,
});

/** A Promise-answering model around `predict`, counting its evaluations. */
const deferred = (predict: (x: Tensor64, t: number) => Tensor64) => {
  const counter = { calls: 0 };
  const model: AsyncDiffusionModel<Tensor64> = {
    parameterization: "score",
    predict: async (x, t) => {
      counter.calls++;
      await new Promise((r) => setTimeout(r, 0));
      return predict(x, t);
    },
  };
  return { model, counter };
};

/** A model that routes each call to the ring's score or the chain's, by a flag on the time: t < 0 is the chain. */
const routed = (x: Tensor64, t: number): Tensor64 => (t < 0 ? chainScore(x, -t) : score(x, t));

const drain = async <V>(g: AsyncGenerator<SolverStep<V>, E.Either<unknown, SolverStep<V>>>) => {
  const steps: SolverStep<V>[] = [];
  for (;;) {
    const r = await g.next();
    if (r.done) return { steps, result: r.value };
    steps.push(r.value);
  }
};

describe("asyncModelSteps", () => {
  it.each(SAMPLER_FAMILIES)(
    "%s: the synchronous run's steps, bit for bit, with NFE evaluations",
    async (family) => {
      const f = family as SamplerFamily;
      const sync = orThrow(
        samplerFamilySteps(
          f,
          setup(
            { parameterization: "score", predict: score },
            { parameterization: "score", predict: chainScore },
          ),
        ),
      );
      const expected: SolverStep<Tensor64>[] = [];
      let last = sync.steps.next();
      for (; !last.done; last = sync.steps.next()) expected.push(last.value);
      const { model, counter } = deferred(routed);
      const { steps, result } = await drain(
        asyncModelSteps(model, (m) =>
          samplerFamilySteps(
            f,
            setup(m, {
              parameterization: "score",
              predict: (x, t) => (m as { predict: (x: Tensor64, t: number) => Tensor64 }).predict(x, -t),
            }),
          ),
        ),
      );
      expect(steps.map((s) => [s.step, s.t, s.nfe])).toEqual(expected.map((s) => [s.step, s.t, s.nfe]));
      for (let i = 0; i < steps.length; i++) expect(steps[i].y.data).toEqual(expected[i].y.data);
      expect(E.isRight(result) && result.right.y.data).toEqual(expected.at(-1)!.y.data);
      expect(counter.calls).toBe(expected.at(-1)!.nfe);
    },
  );

  it("passes on the Left that builds or stops the run, and a rejected evaluation", async () => {
    const { model } = deferred(routed);
    const bad = await drain(
      asyncModelSteps(model, (m) => samplerFamilySteps("edm", { ...setup(m, m), steps: 0 })),
    );
    expect(E.isLeft(bad.result) && (bad.result.left as { message: string }).message).toMatch(
      /steps must be an integer ≥ 1/,
    );
    const nan = deferred((x) => ({ shape: x.shape, data: new Float64Array(x.data.length).fill(Number.NaN) }));
    const stopped = await drain(asyncModelSteps(nan.model, (m) => samplerFamilySteps("ddim", setup(m, m))));
    expect(stopped.steps).toHaveLength(0);
    expect(E.isLeft(stopped.result) && (stopped.result.left as { reason: string }).reason).toBe("nonFinite");
    const failing: AsyncDiffusionModel<Tensor64> = {
      parameterization: "score",
      predict: () => Promise.reject(new Error("device lost")),
    };
    await expect(
      drain(asyncModelSteps(failing, (m) => samplerFamilySteps("edm", setup(m, m)))),
    ).rejects.toThrow("device lost");
  });
});
