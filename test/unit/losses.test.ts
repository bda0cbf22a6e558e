import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, fillUniform, foldIn, rngKey } from "../../src/core/rng.js";
import { ddpmSchedule } from "../../src/discrete/schedule.js";
import { initParameters, type Parameters } from "../../src/nets/network.js";
import { edmPreconditioning, preconditioningCoefficients } from "../../src/nets/precondition.js";
import type { ScoreModel } from "../../src/nets/score-model.js";
import type { NetKernels } from "../../src/nets/tape.js";
import type { Parameterization } from "../../src/sde/parameterization.js";
import { vpSde } from "../../src/sde/vp.js";
import {
  denoisingLoss,
  edmLoss,
  edmLossForData,
  type LossWeighting,
  lossGradients,
  type TrainingLoss,
} from "../../src/train/losses.js";
import { directionalError, normalTensor, smallMlp, webasmKernels } from "../support/nets-fixtures.js";

let kernels: NetKernels;
beforeAll(async () => {
  kernels = await webasmKernels();
});

const net = smallMlp();
const key = orThrow(rngKey(11));
const params = initParameters(net, key);
/** Output layer zeroed: F ≡ 0, so the loss is the weighted mean square of the target alone. */
const zeroOutput: Parameters = new Map([
  ...params,
  ["output.weight", { shape: [2, 16], data: new Float32Array(32) }],
  ["output.bias", { shape: [2], data: new Float32Array(2) }],
]);
const N = 64;
const x0 = normalTensor(foldIn(key, 1), [N, 2]);
const stepKey = foldIn(key, 2);
const sde = orThrow(vpSde());
const timeModel = (parameterization: Parameterization): ScoreModel => ({
  kind: "time",
  network: net,
  parameterization,
  timeScale: 1,
});
const edmModel: ScoreModel = {
  kind: "denoiser",
  network: net,
  preconditioning: orThrow(edmPreconditioning(1)),
};

/** The step's draws, as the loss module defines them: t from foldIn(key, 0), ε from foldIn(key, 1), z from 2. */
const u = fillUniform(foldIn(stepKey, 0), new Float64Array(N));
const z = fillNormal(foldIn(stepKey, 2), new Float64Array(N));
const eps = fillNormal(foldIn(stepKey, 1), new Float32Array(2 * N));
const times = u.map((v) => sde.tMin + (sde.tMax - sde.tMin) * v);

/** (1/(N·D)) Σₙ wₙ Σ_d target(n, d)². */
const weightedMeanSquare = (w: (n: number) => number, target: (n: number, d: number) => number): number => {
  let s = 0;
  for (let n = 0; n < N; n++) for (let d = 0; d < 2; d++) s += w(n) * target(n, d) ** 2;
  return s / (2 * N);
};

const lossOf = (model: ScoreModel, loss: TrainingLoss, p: Parameters = zeroOutput) =>
  orThrow(lossGradients(kernels, model, loss, p, x0, stepKey)).loss;

describe("denoising losses with F ≡ 0 equal the weighted mean square of their targets", () => {
  const at = (n: number, d: number) => ({
    x: x0.data[2 * n + d],
    e: eps[2 * n + d],
    s: sde.scale(times[n]),
    sigma: sde.std(times[n]),
    g: sde.g(times[n]),
  });
  const denoising = (w: LossWeighting) => orThrow(denoisingLoss(sde, w));

  it("L_simple (ε): mean ε²", () => {
    const want = weightedMeanSquare(
      () => 1,
      (n, d) => at(n, d).e,
    );
    expect(lossOf(timeModel("eps"), denoising("simple"))).toBeCloseTo(want, 6);
  });

  it("σ² weighting of ε-prediction is L_simple (λ = σ², score = −ε/σ)", () => {
    expect(lossOf(timeModel("eps"), denoising("sigma2"))).toBe(lossOf(timeModel("eps"), denoising("simple")));
  });

  it("likelihood weighting of ε-prediction: w = g²/σ²", () => {
    const want = weightedMeanSquare(
      (n) => (at(n, 0).g / at(n, 0).sigma) ** 2,
      (n, d) => at(n, d).e,
    );
    expect(lossOf(timeModel("eps"), denoising("likelihood"))).toBeCloseTo(want, 5);
  });

  it("σ² weighting of x₀-prediction: w = s²/σ² (score = (s·x₀ − x)/σ²)", () => {
    const want = weightedMeanSquare(
      (n) => (at(n, 0).s / at(n, 0).sigma) ** 2,
      (n, d) => at(n, d).x,
    );
    expect(lossOf(timeModel("x0"), denoising("sigma2")) / want).toBeCloseTo(1, 6);
  });

  it("v-prediction, simple weighting: target (s·ε − σ·x₀)/√(s² + σ²)", () => {
    const want = weightedMeanSquare(
      () => 1,
      (n, d) => {
        const a = at(n, d);
        return (a.s * a.e - a.sigma * a.x) / Math.hypot(a.s, a.sigma);
      },
    );
    expect(lossOf(timeModel("v"), denoising("simple"))).toBeCloseTo(want, 6);
  });

  it("score-prediction, σ² weighting: target −ε/σ weighted by σ² is L_simple", () => {
    expect(lossOf(timeModel("score"), denoising("sigma2"))).toBeCloseTo(
      lossOf(timeModel("eps"), denoising("simple")),
      5,
    );
  });
});

describe("discrete and EDM losses", () => {
  it("DDPM L_simple with F ≡ 0 is mean ε², for any schedule", () => {
    const schedule = orThrow(ddpmSchedule({ numTrainTimesteps: 100 }));
    const want = weightedMeanSquare(
      () => 1,
      (n, d) => eps[2 * n + d],
    );
    expect(lossOf(timeModel("eps"), { kind: "ddpm", schedule })).toBeCloseTo(want, 6);
  });

  it("EDM with F ≡ 0: λ(σ)·‖c_skip·(y + n) − y‖², ln σ = P_mean + P_std·z", () => {
    const p = preconditioningCoefficients;
    const pre = orThrow(edmPreconditioning(1));
    const want = weightedMeanSquare(
      (n) => p(pre, Math.exp(-1.2 + 1.2 * z[n])).cOut ** -2,
      (n, d) => {
        const s = Math.exp(-1.2 + 1.2 * z[n]);
        const y = x0.data[2 * n + d];
        return p(pre, s).cSkip * (y + s * eps[2 * n + d]) - y;
      },
    );
    expect(lossOf(edmModel, orThrow(edmLoss())) / want).toBeCloseTo(1, 5);
  });
});

describe("loss gradients", () => {
  const cases: readonly [string, ScoreModel, TrainingLoss][] = [
    ["denoising ε simple", timeModel("eps"), orThrow(denoisingLoss(sde, "simple"))],
    ["denoising x₀ likelihood", timeModel("x0"), orThrow(denoisingLoss(sde, "likelihood", 0.05))],
    ["denoising v σ²", timeModel("v"), orThrow(denoisingLoss(sde, "sigma2"))],
    ["ddpm", timeModel("eps"), { kind: "ddpm", schedule: orThrow(ddpmSchedule({ numTrainTimesteps: 50 })) }],
    ["edm", edmModel, orThrow(edmLoss())],
  ];
  for (const [name, model, loss] of cases) {
    it(`${name}: matches a finite difference of the loss in the parameters (relative error < 1e-3)`, () => {
      const g = orThrow(lossGradients(kernels, model, loss, params, x0, stepKey));
      const names = net.parameters.filter((s) => s.trainable).map((s) => s.name);
      const e = directionalError((p) => lossOf(model, loss, p), params, g.gradients, names, 2e-2);
      expect(e.relative).toBeLessThan(1e-3);
    });
  }
});

describe("validation", () => {
  it("pairs losses with models: EDM needs a denoiser, DDPM an ε time model", () => {
    const a = lossGradients(kernels, timeModel("eps"), orThrow(edmLoss()), params, x0, stepKey);
    expect(E.isLeft(a) && a.left.field).toBe("loss.kind");
    const schedule = orThrow(ddpmSchedule({ numTrainTimesteps: 10 }));
    const b = lossGradients(kernels, timeModel("x0"), { kind: "ddpm", schedule }, params, x0, stepKey);
    expect(E.isLeft(b)).toBe(true);
    const c = lossGradients(kernels, edmModel, orThrow(denoisingLoss(sde, "simple")), params, x0, stepKey);
    expect(E.isLeft(c)).toBe(true);
  });

  it("shifts EDM's P_mean by ln(σ_data/0.5): EDM's own values at σ_data = 0.5, a Left for σ_data ≤ 0", () => {
    expect(orThrow(edmLossForData(0.5))).toEqual(orThrow(edmLoss()));
    expect(orThrow(edmLossForData(2))).toEqual(orThrow(edmLoss(-1.2 + Math.log(4), 1.2)));
    const bad = edmLossForData(0);
    expect(E.isLeft(bad) && bad.left.field).toBe("sigmaData");
  });

  it("refuses tMin outside [sde.tMin, sde.tMax) and P_std ≤ 0", () => {
    expect(E.isLeft(denoisingLoss(sde, "simple", sde.tMin / 2))).toBe(true);
    expect(E.isLeft(denoisingLoss(sde, "simple", sde.tMax))).toBe(true);
    const bad = edmLoss(-1.2, 0);
    expect(E.isLeft(bad) && bad.left.field).toBe("pStd");
  });
});
