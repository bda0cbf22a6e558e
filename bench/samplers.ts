/**
 * Sampler benchmark on exact scores: for each sampler family and NFE budget, the sliced Wasserstein-2 distance
 * between its samples and exact data samples, and the wall time. The score is the exact score of a Gaussian
 * mixture (the oracle), so every error measured here is the sampler's own discretization error — plus the
 * Monte-Carlo floor, the SW₂ between two independent exact draws of the same size, printed beside it.
 *
 *   npm run bench:samplers             # 2-D ring and 64-D mixture, NFE ∈ {10, 20, 35, 50, 100, 250, 1000}
 *   npm run bench:samplers -- --quick  # 2-D only, fewer budgets
 *
 * Writes out/bench/samplers.json and out/bench/samplers-<problem>.svg (error vs NFE, log–log).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  ddpmMixtureScore,
  ddpmSchedule,
  ddpmTimesteps,
  foldIn,
  type GaussianMixture,
  gridKarras,
  gridLogSnr,
  gridUniform,
  mixtureCovariance,
  mixtureOracle,
  noiseLevel,
  odeDopri5,
  odeEuler,
  odeHeun,
  orThrow,
  randomMixture,
  ringMixture,
  rngKey,
  sampleCovariance,
  sampleDdim,
  sampleDdpm,
  sampleDpmpp2m,
  sampleEdm,
  sampleMixture,
  samplePredictorCorrector,
  sampleProbabilityFlow,
  sampleReverseSde,
  slicedWasserstein2,
  type Tensor64,
  type TimeModel,
  tensorBatchSpace,
  vpSde,
  zeros64,
} from "scoreflow";
import { logLogChart } from "./svg-plot.js";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const quick = args.quick === true;

const space = tensorBatchSpace<Float64Array>();
const root = orThrow(rngKey(2026));
const sde = orThrow(vpSde({}));
const schedule = orThrow(ddpmSchedule({}));
const budgets = quick ? [10, 20, 35, 100] : [10, 20, 35, 50, 100, 250, 1000];

interface Problem {
  readonly name: string;
  readonly data: GaussianMixture;
  readonly n: number;
}
const problems: Problem[] = [
  { name: "2-D ring of 8 Gaussians", data: orThrow(ringMixture({})), n: quick ? 4000 : 10_000 },
  ...(quick
    ? []
    : [
        {
          name: "64-D mixture of 4 Gaussians",
          data: orThrow(randomMixture(foldIn(root, 7), { dim: 64, components: 4 })),
          n: 500,
        },
      ]),
];

/**
 * A sampler at an NFE budget: returns samples and the NFE it actually used. Deterministic samplers that end at
 * tMin are also measured pathwise, against the converged probability-flow solution of the same noise.
 */
type Run = (
  model: TimeModel<Tensor64>,
  discrete: TimeModel<Tensor64>,
  noise: Tensor64,
  nfe: number,
) => { y: Tensor64; nfe: number };

const frobenius = (a: Float64Array) => Math.hypot(...a);
const steps = (nfe: number, perStep: number, extra: number) =>
  Math.max(1, Math.round((nfe - extra) / perStep));
// EDM runs between the VP SDE's own noise levels at tMax and tMin (not Karras et al.'s σ_max = 80), so that it
// starts from the same x_T as the probability-flow samplers and ends at tMin like them.
const sigmaMax = noiseLevel(sde, sde.tMax);
const sigmaMin = noiseLevel(sde, sde.tMin);

/** The Karras σ grid (EDM eq. 5, ρ = 7) of n steps mapped to VP times, endpoints pinned to tMax and tMin. */
const karrasTimes = (n: number): Float64Array => {
  const sigmas = orThrow(gridKarras({ sigmaMin, sigmaMax, n, rho: 7 }));
  const times = sigmas.map((sigma) => sde.timeOfNoiseLevel(sigma));
  times[0] = sde.tMax;
  times[n] = sde.tMin;
  return times;
};

const samplers: ReadonlyArray<readonly [string, Run, pathwise?: boolean]> = [
  [
    "reverse SDE, Euler–Maruyama",
    (m, _d, z, nfe) =>
      orThrow(
        sampleReverseSde(space, sde, m, z, {
          grid: orThrow(gridUniform(sde.tMax, sde.tMin, steps(nfe, 1, 1))),
          key: foldIn(root, 1),
        }),
      ),
  ],
  [
    "predictor–corrector (EM + Langevin)",
    (m, _d, z, nfe) =>
      orThrow(
        samplePredictorCorrector(space, sde, m, z, {
          grid: orThrow(gridUniform(sde.tMax, sde.tMin, steps(nfe, 2, 1))),
          key: foldIn(root, 2),
        }),
      ),
  ],
  [
    "DDPM ancestral",
    (_m, d, z, nfe) =>
      orThrow(
        sampleDdpm(space, schedule, d, z, {
          timesteps: orThrow(ddpmTimesteps({ numInferenceSteps: nfe, spacing: "trailing" })),
          key: foldIn(root, 3),
        }),
      ),
  ],
  [
    "DDIM (η = 0)",
    (_m, d, z, nfe) =>
      orThrow(
        sampleDdim(space, schedule, d, z, {
          timesteps: orThrow(ddpmTimesteps({ numInferenceSteps: nfe, spacing: "trailing" })),
        }),
      ),
  ],
  [
    "probability flow, Euler",
    (m, _d, z, nfe) =>
      orThrow(
        sampleProbabilityFlow(space, sde, m, z, {
          method: odeEuler,
          grid: orThrow(gridUniform(sde.tMax, sde.tMin, steps(nfe, 1, 0))),
        }),
      ),
    true,
  ],
  [
    "probability flow, Heun",
    (m, _d, z, nfe) =>
      orThrow(
        sampleProbabilityFlow(space, sde, m, z, {
          method: odeHeun,
          grid: orThrow(gridUniform(sde.tMax, sde.tMin, steps(nfe, 2, 0))),
        }),
      ),
    true,
  ],
  [
    "probability flow, Euler, Karras grid",
    (m, _d, z, nfe) =>
      orThrow(
        sampleProbabilityFlow(space, sde, m, z, { method: odeEuler, grid: karrasTimes(steps(nfe, 1, 0)) }),
      ),
    true,
  ],
  [
    "probability flow, Heun, Karras grid",
    (m, _d, z, nfe) =>
      orThrow(
        sampleProbabilityFlow(space, sde, m, z, { method: odeHeun, grid: karrasTimes(steps(nfe, 2, 0)) }),
      ),
    true,
  ],
  [
    "probability flow, RK45 (adaptive)",
    (m, _d, z, nfe) =>
      // The budget sets the tolerance; the NFE is whatever the controller needed.
      orThrow(
        sampleProbabilityFlow(space, sde, m, z, {
          method: odeDopri5,
          rtol: 10 / nfe ** 1.5,
          atol: 10 / nfe ** 1.5,
        }),
      ),
    true,
  ],
  [
    "EDM Heun (Karras σ, ρ = 7)",
    (m, _d, z, nfe) => {
      // EDM starts at x̂ = σ_max·noise, i.e. x = s(T)·σ_max·noise = σ(T)·noise; dividing the noise by σ(T)
      // makes its x_T exactly the probability-flow samplers' (priorStd = 1 for VP). It returns the scaled state
      // x̂ = x/s at its last noise level; s(tMin)·x̂ is the sample in the SDE's coordinates, like the others'.
      const { y, nfe: used } = orThrow(
        sampleEdm(space, sde, m, space.combine([[1 / sde.std(sde.tMax), z]]), {
          sigmas: orThrow(gridKarras({ sigmaMin, sigmaMax, n: steps(nfe, 2, 0), rho: 7, appendZero: false })),
        }),
      );
      return { y: space.combine([[sde.scale(sde.tMin), y]]), nfe: used };
    },
    true,
  ],
  [
    "DPM-Solver++(2M), log-SNR grid",
    (m, _d, z, nfe) =>
      orThrow(
        sampleDpmpp2m(space, sde, m, z, {
          grid: orThrow(gridLogSnr(sde, sde.tMax, sde.tMin, steps(nfe, 1, 0))),
        }),
      ),
    true,
  ],
];

interface Row {
  readonly problem: string;
  readonly sampler: string;
  readonly budget: number;
  readonly nfe: number;
  readonly sw2: number;
  /** Relative Frobenius error of the sample covariance against the exact one, ‖S − Σ‖_F / ‖Σ‖_F. */
  readonly covarianceError: number;
  /** Median over samples of ‖x − x*‖, x* the converged probability-flow solution of the same noise (pathwise only). */
  readonly odeError: number | null;
  readonly seconds: number;
}
const rows: Row[] = [];
const floors: Record<string, number> = {};

mkdirSync("out/bench", { recursive: true });
for (const [p, problem] of problems.entries()) {
  const { data, n, name } = problem;
  const d = data.dim;
  const oracle = mixtureOracle(sde, data);
  const model: TimeModel<Tensor64> = { parameterization: "score", predict: oracle.score };
  const discrete: TimeModel<Tensor64> = {
    parameterization: "score",
    predict: ddpmMixtureScore(schedule, data),
  };
  const reference = sampleMixture(data, foldIn(root, 100 + p), n);
  const exactCovariance = mixtureCovariance(data);
  const covarianceFloor =
    frobenius(sampleCovariance(reference).map((v, i) => v - exactCovariance[i])) / frobenius(exactCovariance);
  const metricKey = foldIn(root, 200 + p);
  floors[name] = slicedWasserstein2(sampleMixture(data, foldIn(root, 300 + p), n), reference, metricKey);
  const noise = space.normalLike(foldIn(root, 400 + p), zeros64([n, d]));
  console.log(`\n${name}: n = ${n} samples, VP SDE (β 0.1 → 20), sliced W2 over 128 directions`);
  console.log(
    `Monte-Carlo floor (two exact draws of ${n}): SW2 = ${floors[name].toFixed(4)}, covariance error = ${covarianceFloor.toFixed(4)}\n`,
  );
  const converged = orThrow(
    sampleProbabilityFlow(space, sde, model, noise, { method: odeDopri5, rtol: 1e-10, atol: 1e-10 }),
  );
  // The median over samples of ‖x − x*‖: robust to the few trajectories that end in another mixture component
  // (near a decision boundary a tiny discretization error can flip the mode; one flip dominates an RMS).
  const medianDistance = (y: Tensor64) => {
    const distances = Float64Array.from({ length: n }, (_, i) => {
      let total = 0;
      for (let j = 0; j < d; j++) total += (y.data[i * d + j] - converged.y.data[i * d + j]) ** 2;
      return Math.sqrt(total);
    }).sort();
    return distances[Math.floor(n / 2)];
  };

  console.log(`Converged probability-flow reference: RK45 at rtol = atol = 1e-10, ${converged.nfe} NFE\n`);
  for (const [sampler, run, pathwise] of samplers) {
    for (const budget of budgets) {
      const start = performance.now();
      const { y, nfe } = run(model, discrete, noise, budget);
      const seconds = (performance.now() - start) / 1000;
      const sw2 = slicedWasserstein2(y, reference, metricKey);
      const covarianceError =
        frobenius(sampleCovariance(y).map((v, i) => v - exactCovariance[i])) / frobenius(exactCovariance);
      const odeError = pathwise === true ? medianDistance(y) : null;
      rows.push({ problem: name, sampler, budget, nfe, sw2, covarianceError, odeError, seconds });
    }
  }
  const table = (title: string, cell: (r: Row) => string) => {
    console.log(`${title}\n\n| sampler | ${budgets.map((b) => `NFE ${b}`).join(" | ")} |`);
    console.log(`| --- | ${budgets.map(() => "---:").join(" | ")} |`);
    for (const [sampler] of samplers) {
      const mine = rows.filter((r) => r.problem === name && r.sampler === sampler);
      console.log(
        `| ${sampler} | ${mine.map((r) => `${cell(r)}${r.nfe === r.budget ? "" : ` (${r.nfe})`}`).join(" | ")} |`,
      );
    }
    console.log("");
  };
  table("Sliced W2 to exact samples", (r) => r.sw2.toFixed(4));
  table("Relative covariance error ‖S − Σ‖_F / ‖Σ‖_F", (r) => r.covarianceError.toFixed(4));
  table(
    "ODE discretization error: median distance to the converged probability-flow solution of the same noise",
    (r) => (r.odeError === null ? "—" : r.odeError.toExponential(2)),
  );
  table("Wall time, seconds", (r) => r.seconds.toFixed(2));
  const chart = (
    metric: "sw2" | "odeError",
    yLabel: string,
    title: string,
    reference?: { y: number; label: string },
  ) => {
    const series = samplers.map(([sampler]) => ({
      name: sampler,
      points: rows
        .filter((r) => r.problem === name && r.sampler === sampler && r[metric] !== null)
        .map((r) => [r.nfe, r[metric] as number] as const),
    }));
    const file = `out/bench/samplers-${d}d-${metric === "sw2" ? "sw2" : "ode-error"}.svg`;
    writeFileSync(file, logLogChart({ title, xLabel: "NFE (score evaluations)", yLabel, series, reference }));
    console.log(`wrote ${file}`);
  };
  chart("sw2", "sliced W2", `${name}: sliced W2 to exact samples vs NFE (exact score, VP SDE)`, {
    y: floors[name],
    label: "Monte-Carlo floor",
  });
  chart("odeError", "median distance", `${name}: distance to the converged probability-flow solution vs NFE`);
}
const seconds = rows.reduce((a, r) => a + r.seconds, 0);
writeFileSync("out/bench/samplers.json", `${JSON.stringify({ floors, rows }, null, 2)}\n`);
console.log(`wrote out/bench/samplers.json (${rows.length} runs, ${seconds.toFixed(1)} s of sampling)`);
console.log(
  "In parentheses: the NFE actually used where it differs from the budget. Lower errors are better; the floors are the best a finite sample can show.",
);
