import {
  ddpmMarginalAt,
  ddpmMixtureScore,
  ddpmSchedule,
  ddpmTimeOfIndex,
  ddpmTimesteps,
  edmSde,
  foldIn,
  gaussianMixture,
  gridBrownianPath,
  gridKarras,
  gridLogSnr,
  gridUniform,
  logSnr,
  mixtureCovariance,
  mixtureMean,
  mixtureOracle,
  noiseLevel,
  type Ode,
  odeDopri5,
  odeHeun,
  orThrow,
  probabilityFlow,
  reverseSde,
  rngKey,
  sampleCovariance,
  sampleDdim,
  sampleDdpm,
  sampleDpmpp2m,
  sampleEdm,
  sampleMean,
  samplePredictorCorrector,
  sampleProbabilityFlow,
  sdeEulerMaruyama,
  solveOde,
  solveSde,
  subVpSde,
  type Tensor64,
  tensorBatchSpace,
  toSde,
  veSde,
  vpDdpmSchedule,
  vpSde,
  zeros64,
} from "scoreflow";

// 1. Four SDEs, each a plain record: f, g, s(t), σ(t), the inverse of the noise level σ/s, the prior's std.
const sdes = [vpSde(), subVpSde(), veSde(), edmSde()].map(orThrow);
const fmt = (x: number) => (x < 1e-3 ? x.toExponential(2) : x.toPrecision(3));
console.log("SDE     [tMin, tMax]       s(T)     σ(T)   σ/s: tMin → T     λ: tMin → T   prior");
for (const sde of sdes) {
  const [lo, hi] = [sde.tMin, sde.tMax];
  console.log(
    [
      sde.name.padEnd(7),
      `[${fmt(lo)}, ${fmt(hi)}]`.padEnd(18),
      fmt(sde.scale(hi)).padEnd(8),
      fmt(sde.std(hi)).padEnd(6),
      `${fmt(noiseLevel(sde, lo))} → ${fmt(noiseLevel(sde, hi))}`.padEnd(17),
      `${logSnr(sde, lo).toFixed(1)} → ${logSnr(sde, hi).toFixed(1)}`.padEnd(13),
      `N(0, ${sde.priorStd}²I)`,
    ].join(" "),
  );
}

// 2. The data: a 2-D mixture whose marginal p_t under any linear SDE is again a mixture, so ∇log p_t is exact.
const data = orThrow(
  gaussianMixture({
    weights: [0.3, 0.7],
    means: [
      [-2, 0],
      [2, 1],
    ],
    covariances: [
      [
        [0.25, 0],
        [0, 0.25],
      ],
      [
        [0.5, 0.3],
        [0.3, 0.5],
      ],
    ],
  }),
);
const [vp] = sdes;
const oracle = mixtureOracle(vp, data);
const model = { parameterization: "score", predict: oracle.score } as const;
const space = tensorBatchSpace<Float64Array>();
const key = orThrow(rngKey(7));
const n = 4000;
const noise = space.normalLike(foldIn(key, 0), zeros64([n, 2]));
const show = (v: ArrayLike<number>) => Array.from(v, (x) => x.toFixed(3).padStart(6)).join(" ");
const row = (name: string, nfe: string, mean: ArrayLike<number>, cov: ArrayLike<number>) =>
  console.log(`${name.padEnd(30)} ${nfe.padStart(4)}   ${show(mean)}   ${show(cov)}`);
const report = (name: string, { y, nfe }: { y: Tensor64; nfe: number }) =>
  row(name, String(nfe), sampleMean(y), sampleCovariance(y));
const header = () => {
  console.log(`${"".padEnd(30)}  NFE   mean            covariance`);
  row("exact", "", mixtureMean(data), mixtureCovariance(data));
};

// 3. The reverse-time SDE and the probability-flow ODE: records derived from the VP record and the score,
//    integrated by the generic solvers (Euler–Maruyama on a Brownian path, Heun).
header();
report(`exact draw of ${n}`, { y: oracle.sample(foldIn(key, 1), n, 0), nfe: 0 });
const forward = toSde(space)(vp);
const reverse = reverseSde(space, forward, oracle.score);
const flow = probabilityFlow(space, forward, oracle.score);
const grid = orThrow(gridUniform(vp.tMax, vp.tMin, 500));
const path = orThrow(gridBrownianPath(space, foldIn(key, 2), noise, grid));
// Both start from x_T = noise, a draw of the VP prior N(0, I).
report("reverse SDE, Euler–Maruyama", orThrow(solveSde(space, sdeEulerMaruyama, reverse, noise, grid, path)));
const heunGrid = orThrow(gridUniform(vp.tMax, vp.tMin, 50));
report("probability flow, Heun", orThrow(solveOde(space, odeHeun, flow, noise, heunGrid)));
// The lecture notes' flow dx/dt = f(t)·x − g(t)²·∇log p_t(x), without the ½, on the same grid and noise:
const withoutHalf: Ode<Tensor64> = {
  ...flow,
  vectorField: (x, t) =>
    space.combine([
      [vp.f(t), x],
      [-(vp.g(t) ** 2), oracle.score(x, t)],
    ]),
};
report("the same flow without the ½", orThrow(solveOde(space, odeHeun, withoutHalf, noise, heunGrid)));

// 4. DDPM's chain is the VP SDE at N = 1000 steps: β_i = β(i/(N − 1))/N, and index i is time t = (i + 1)/N.
const schedule = orThrow(vpDdpmSchedule({ betaMin: 0.1, betaMax: 20, numSteps: 1000 }));
const linear = orThrow(
  ddpmSchedule({ kind: "linear", numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02 }),
);
const same = schedule.betas.every((b, i) => Math.abs(b - linear.betas[i]) <= 1e-15 * b);
console.log(`β_i equal diffusers' linear schedule (1e-4 → 0.02, T = 1000) to 1e-15: ${same}`);
for (const i of [99, 499, 999]) {
  const t = orThrow(ddpmTimeOfIndex(schedule.betas.length, i));
  const [cumulative, oneStep] = [ddpmMarginalAt(schedule, i).scale, Math.sqrt(schedule.alphas[i])];
  const columns = [
    `√ᾱ_i = ${cumulative.toFixed(5)}`,
    `s(t) = ${vp.scale(t).toFixed(5)}`,
    `√α_i = ${oneStep.toFixed(5)}`,
  ];
  console.log(`i = ${String(i).padStart(3)}, t = ${t.toFixed(1)}:   ${columns.join("   ")}`);
}

// 5. Every sampler family from the same VP record (DDPM and DDIM from its chain), on the same noise.
const discrete = { parameterization: "score", predict: ddpmMixtureScore(schedule, data) } as const;
const trailing = (steps: number) => orThrow(ddpmTimesteps({ numInferenceSteps: steps, spacing: "trailing" }));
const [sigmaMin, sigmaMax] = [noiseLevel(vp, vp.tMin), noiseLevel(vp, vp.tMax)];
const runs = {
  // The predictor–corrector sampler takes the reverse SDE's grid and Brownian path, and adds a Langevin step.
  "predictor–corrector": samplePredictorCorrector(space, vp, model, noise, { grid, key: foldIn(key, 2) }),
  "probability flow, RK45": sampleProbabilityFlow(space, vp, model, noise, {
    method: odeDopri5,
    rtol: 1e-5,
    atol: 1e-5,
  }),
  "DDPM ancestral": sampleDdpm(space, schedule, discrete, noise, {
    timesteps: trailing(1000),
    key: foldIn(key, 3),
  }),
  "DDIM (η = 0)": sampleDdim(space, schedule, discrete, noise, { timesteps: trailing(50) }),
  // EDM starts at x = s(T)·σ_0·z = σ(T)·z (σ_0 = σ(T)/s(T)): z = noise/σ(T) gives x_T = noise, as for the others.
  "EDM Heun": sampleEdm(space, vp, model, space.combine([[1 / vp.std(vp.tMax), noise]]), {
    sigmas: orThrow(gridKarras({ sigmaMin, sigmaMax, n: 18, appendZero: true })),
  }),
  "DPM-Solver++(2M)": sampleDpmpp2m(space, vp, model, noise, {
    grid: orThrow(gridLogSnr(vp, vp.tMax, vp.tMin, 20)),
  }),
};
header();
for (const [name, run] of Object.entries(runs)) report(name, orThrow(run));

// 6. The SDE is a change of variables of one ODE: the EDM sampler on one σ grid, under each of the four SDEs.
const sigmas = orThrow(gridKarras({ sigmaMin: 0.002, sigmaMax: 50, n: 18, appendZero: true }));
const edmRuns = sdes.map((sde) => {
  const exactScore = { parameterization: "score", predict: mixtureOracle(sde, data).score } as const;
  return orThrow(sampleEdm(space, sde, exactScore, noise, { sigmas }));
});
header();
for (const [k, run] of edmRuns.entries()) report(`EDM Heun under ${sdes[k].name}`, run);
const gaps = edmRuns.flatMap(({ y }) => Array.from(y.data, (v, i) => Math.abs(v - edmRuns[0].y.data[i])));
const gap = gaps.reduce((a, b) => Math.max(a, b));
console.log(`largest |x − x_VP| over the four SDEs: ${gap < 1e-12 ? "below 1e-12" : gap.toExponential(2)}`);
