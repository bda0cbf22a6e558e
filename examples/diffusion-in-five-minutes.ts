import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  adamConfig,
  createBackend,
  ddpmAncestralSteps,
  ddpmForwardStep,
  ddpmMarginal,
  ddpmPosterior,
  ddpmQSample,
  ddpmSchedule,
  ddpmTimesteps,
  emaDecayOptions,
  encodeRaster,
  foldIn,
  gallery,
  gaussianMixture,
  initTrainState,
  mlpConfig,
  mlpNetwork,
  netKernels,
  orThrow,
  type Raster,
  rngKey,
  type ScoreModel,
  sampleCovariance,
  sampleMean,
  sampleMixture,
  samplerModel,
  scatterPlot,
  slicedWasserstein2,
  type Tensor,
  type Tensor64,
  tensorBatchSpace,
  trainConfig,
  trainSteps,
  twoMoons,
  warmupCosineSchedule,
  zeros32,
} from "scoreflow";

// Pictures are written only on request: `--write-images [dir]` (default docs/img).
const flag = process.argv.indexOf("--write-images");
const imageDir = flag < 0 ? undefined : (process.argv[flag + 1] ?? "docs/img");
const save = (name: string, picture: Raster) => {
  if (imageDir === undefined) return;
  mkdirSync(imageDir, { recursive: true });
  writeFileSync(join(imageDir, `guide-five-minutes-${name}.png`), encodeRaster(picture));
};
const plot = (points: Tensor | Tensor64) =>
  scatterPlot(
    { shape: points.shape, data: Float32Array.from(points.data) },
    { size: 192, range: [-3.6, 3.6] },
  );

// 1. The noise schedule: Ho et al.'s β_1 … β_T, linear from 10⁻⁴ to 0.02 over T = 1000 steps, and
//    ᾱ_t = ∏_{s ≤ t} α_s with α_s = 1 − β_s. Arrays are 0-based as in diffusers: index i holds step t = i + 1.
const schedule = orThrow(
  ddpmSchedule({ kind: "linear", numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02 }),
);
const T = schedule.betas.length;
console.log("   t      β_t      ᾱ_t     √ᾱ_t   √(1 − ᾱ_t)   √α_t");
for (const i of [0, 99, 249, 499, 749, 999]) {
  const { scale, std } = orThrow(ddpmMarginal(schedule, i));
  const columns = [schedule.betas[i].toFixed(5), schedule.alphaBars[i].toFixed(5), scale.toFixed(4)];
  columns.push(std.toFixed(4).padStart(10), Math.sqrt(schedule.alphas[i]).toFixed(4).padStart(6));
  console.log(`${String(i + 1).padStart(4)}   ${columns.join("  ")}`);
}

// 2. The forward process. The chain x_t = √α_t·x_{t−1} + √β_t·z (Ho et al. 2020, eq. 2), run one step at a
//    time, has the closed-form marginal q(x_t | x_0) = N(√ᾱ_t·x_0, (1 − ᾱ_t)·I) (eq. 4): one draw, not t steps.
const key = orThrow(rngKey(0));
const space = tensorBatchSpace<Float64Array>();
const moons = twoMoons(foldIn(key, 1), 2000);
const x0: Tensor64 = { shape: moons.shape, data: Float64Array.from(moons.data) };
const [m0, c0] = [sampleMean(x0), sampleCovariance(x0)];
const f3 = (v: number) => v.toFixed(3).padStart(6);
const row = (name: string, mean: ArrayLike<number>, v: ArrayLike<number>) =>
  console.log(`  ${name.padEnd(24)} mean (${f3(mean[0])}, ${f3(mean[1])})   var (${f3(v[0])}, ${f3(v[1])})`);
const moments = (name: string, x: Tensor64) => {
  const c = sampleCovariance(x);
  row(name, sampleMean(x), [c[0], c[3]]);
};
const predicted = (name: string, a: number) =>
  row(name, [Math.sqrt(a) * m0[0], Math.sqrt(a) * m0[1]], [a * c0[0] + 1 - a, a * c0[3] + 1 - a]);
const forwardPanels = [{ title: "data, t = 0", raster: plot(x0) }];
let x = x0;
for (let i = 0; i < T; i++) {
  const { scale, std } = orThrow(ddpmForwardStep(schedule, i));
  x = space.combine([
    [scale, x],
    [std, space.normalLike(foldIn(foldIn(key, 2), i), x)],
  ]);
  if (![49, 99, 249, 499, 999].includes(i)) continue;
  const closedForm = orThrow(ddpmQSample(schedule, i, x0, space.normalLike(foldIn(key, 3), x0)));
  forwardPanels.push({ title: `t = ${i + 1}`, raster: plot(closedForm) });
  if (i === 49 || i === 249) continue;
  console.log(`t = ${i + 1}:`);
  predicted("eq. 4, with ᾱ_t", schedule.alphaBars[i]);
  moments(`${i + 1} steps of eq. 2`, x);
  moments("one draw of eq. 4", closedForm);
  predicted("the notes' α_t for ᾱ_t", schedule.alphas[i]);
}
save("forward", gallery(forwardPanels, 6));

// 3. The reverse process runs the chain backwards. Its target is the posterior
//    q(x_{t−1} | x_t, x_0) = N(c₀·x_0 + c_t·x_t, β̃_t·I) (eq. 6–7), tractable because it conditions on x_0.
//    The last column is the weight of ‖ε − ε_θ‖² in the variational bound (eq. 12), σ_t² = β̃_t.
console.log("    t        c₀        c_t        β̃_t        β_t   weight");
for (const i of [1, 9, 99, 499, 999]) {
  const { x0Coeff, xtCoeff, variance } = orThrow(ddpmPosterior(schedule, i));
  const [beta, alpha, complement] = [schedule.betas[i], schedule.alphas[i], schedule.oneMinusAlphaBars[i]];
  const weight = beta ** 2 / (2 * variance * alpha * complement);
  const columns = [x0Coeff, xtCoeff, variance, beta].map((v) => v.toExponential(3).padStart(10));
  console.log(`${String(i + 1).padStart(5)} ${columns.join(" ")}   ${weight.toFixed(4)}`);
}
// Four identities at every t: the posterior composed with q(x_t | x_0) is q(x_{t−1} | x_0) (mean and
// variance), and the posterior mean with x̂_0 = (x_t − √(1 − ᾱ_t)·ε_θ)/√ᾱ_t put in for x_0 is eq. 11,
// μ_θ = (x_t − β_t/√(1 − ᾱ_t)·ε_θ)/√α_t (its coefficients of x_t and of ε_θ).
const gaps = [0, 0, 0, 0];
for (let i = 1; i < T; i++) {
  const { x0Coeff, xtCoeff, variance } = orThrow(ddpmPosterior(schedule, i));
  const [alpha, alphaBar, alphaBarPrev] = [
    schedule.alphas[i],
    schedule.alphaBars[i],
    schedule.alphaBars[i - 1],
  ];
  const [complement, complementPrev] = [schedule.oneMinusAlphaBars[i], schedule.oneMinusAlphaBars[i - 1]];
  const residuals = [
    x0Coeff + xtCoeff * Math.sqrt(alphaBar) - Math.sqrt(alphaBarPrev),
    xtCoeff ** 2 * complement + variance - complementPrev,
    x0Coeff / Math.sqrt(alphaBar) + xtCoeff - 1 / Math.sqrt(alpha),
    (x0Coeff * Math.sqrt(complement)) / Math.sqrt(alphaBar) -
      schedule.betas[i] / Math.sqrt(alpha * complement),
  ];
  residuals.forEach((r, k) => {
    gaps[k] = Math.max(gaps[k], Math.abs(r));
  });
}
const identities = ["c₀ + c_t·√ᾱ_t = √ᾱ_{t−1}", "c_t²·(1 − ᾱ_t) + β̃_t = 1 − ᾱ_{t−1}"];
identities.push("eq. 11, coefficient of x_t", "eq. 11, coefficient of ε_θ");
for (const [k, name] of identities.entries())
  console.log(`${name.padEnd(38)} largest error over t = 2 … ${T}: ${gaps[k].toExponential(1)}`);

// 4. Training: L_simple = E_{t, x_0, ε} ‖ε − ε_θ(√ᾱ_t·x_0 + √(1 − ᾱ_t)·ε, t)‖² (eq. 14), t uniform on 1 … T:
//    the "ddpm" loss. ε_θ is a small residual MLP fed t/T; Adam, 1000 steps of 128 points (Algorithm 1).
const backend = orThrow(await createBackend("webasm"));
const kernels = orThrow(netKernels(backend));
const network = mlpNetwork(orThrow(mlpConfig({ dataDim: 2, width: 32, blocks: 2 })));
const model: ScoreModel = { kind: "time", network, parameterization: "eps", timeScale: 1 / T };
const size = network.parameters.reduce((a, p) => a + p.shape.reduce((b, c) => b * c, 1), 0);
console.log(`ε_θ: ${network.name}, ${size} parameters in ${network.parameters.length} tensors`);
const steps = 1000;
const lr = 1e-2;
const config = orThrow(
  trainConfig({
    steps,
    batchSize: 128,
    optimizer: orThrow(adamConfig({ lr })),
    schedule: orThrow(
      warmupCosineSchedule({ baseLr: lr, warmupSteps: 100, totalSteps: steps, minLr: lr / 10 }),
    ),
    ema: { kind: "decay", options: orThrow(emaDecayOptions({ decay: 0.99 })) },
    seed: 0,
  }),
);
const data = twoMoons(foldIn(key, 13), 20_000);
let state = orThrow(initTrainState(network, config));
let sum = 0;
console.log("steps       mean L_simple");
for (const step of trainSteps(kernels, model, { kind: "ddpm", schedule }, config, state, data)) {
  const { state: next, metrics } = orThrow(step);
  state = next;
  sum += metrics.loss;
  if (metrics.step % 200 > 0) continue;
  console.log(
    `${String(metrics.step - 199).padStart(4)}–${String(metrics.step).padEnd(4)}   ${(sum / 200).toFixed(4)}`,
  );
  sum = 0;
}

// 5. Sampling: Algorithm 2 from x_T ~ N(0, I), every step a draw from q(x_{t−1} | x_t, x̂_0), here on 100 of
//    the 1000 steps (diffusers' "trailing" spacing) with the EMA weights. The figure of merit is the sliced
//    Wasserstein-2 distance to held-out data, next to that of fresh data draws (what a perfect sampler scores).
const space32 = tensorBatchSpace<Float32Array>();
const n = 1000;
const noise = space32.normalLike(foldIn(key, 4), zeros32([n, 2]));
const timesteps = orThrow(ddpmTimesteps({ numInferenceSteps: 100, spacing: "trailing" }));
const reverse = ddpmAncestralSteps(space32, schedule, samplerModel(kernels, model, state.ema), noise, {
  timesteps,
  key: foldIn(key, 5),
});
const reversePanels = [{ title: "noise, t = 1000", raster: plot(noise) }];
let samples = noise;
for (const step of reverse) {
  samples = step.y;
  if ([499, 249, 99, 49].includes(step.t))
    reversePanels.push({ title: `t = ${step.t + 1}`, raster: plot(samples) });
}
reversePanels.push({ title: "samples, t = 0", raster: plot(samples) });
save("reverse", gallery(reversePanels, 6));
const to64 = (t: Tensor | Tensor64): Tensor64 => ({ shape: t.shape, data: Float64Array.from(t.data) });
const held = to64(twoMoons(foldIn(key, 6), n));
const sw2 = (points: Tensor | Tensor64) => slicedWasserstein2(to64(points), held, foldIn(key, 7), 256);
const floor = [8, 9, 10, 11].reduce((a, k) => a + sw2(twoMoons(foldIn(key, k), n)) / 4, 0);
const gaussian = orThrow(gaussianMixture({ weights: [1], means: [m0], covariances: [c0] }));
const rows: ReadonlyArray<readonly [string, number]> = [
  [`fresh draws of ${n} data points (the floor)`, floor],
  ["DDPM samples, 100 steps", sw2(samples)],
  ["a Gaussian with the data's mean, covariance", sw2(sampleMixture(gaussian, foldIn(key, 12), n))],
  ["the starting noise x_T", sw2(noise)],
];
console.log(`sliced W2 to ${n} held-out points:`);
for (const [name, distance] of rows) console.log(`  ${name.padEnd(44)} ${distance.toFixed(4)}`);
save(
  "samples",
  gallery(
    [
      { title: "held-out data", raster: plot(held) },
      { title: "DDPM, 100 steps", raster: plot(samples) },
    ],
    2,
  ),
);
