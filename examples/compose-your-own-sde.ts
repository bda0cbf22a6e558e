import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  adamConfig,
  createBackend,
  ddpmSchedule,
  ddpmTimeOfIndex,
  denoisingLoss,
  emaDecayOptions,
  encodeRaster,
  foldIn,
  gallery,
  gaussianMixture,
  initTrainState,
  linearSde,
  logSnr,
  mlpConfig,
  mlpNetwork,
  netKernels,
  noiseLevel,
  orThrow,
  pinwheel,
  predictAs,
  type Raster,
  rngKey,
  runSamplerFamily,
  type SamplerFamily,
  type ScoreModel,
  sampleCovariance,
  sampleMean,
  sampleMixture,
  samplerFamilyInfo,
  samplerModel,
  scatterPlot,
  slicedWasserstein2,
  type Tensor,
  type Tensor64,
  tensorBatchSpace,
  trainConfig,
  trainSteps,
  vpSde,
  warmupCosineSchedule,
  zeros32,
} from "scoreflow";

// Pictures are written only on request: `--write-images [dir]` (default docs/img).
const flag = process.argv.indexOf("--write-images");
const imageDir = flag < 0 ? undefined : (process.argv[flag + 1] ?? "docs/img");
const save = (name: string, picture: Raster) => {
  if (imageDir === undefined) return;
  mkdirSync(imageDir, { recursive: true });
  writeFileSync(join(imageDir, `guide-compose-sde-${name}.png`), encodeRaster(picture));
};

// 1. Your SDE, from f and g alone: a VP diffusion (f = −½β, g = √β) whose noise rate has a linear square root,
//    β(t) = (√β_min + t·(√β_max − √β_min))², the continuous form of diffusers' "scaled_linear" schedule.
const [betaMin, betaMax] = [0.1, 20];
const [a, b] = [Math.sqrt(betaMin), Math.sqrt(betaMax) - Math.sqrt(betaMin)];
const beta = (t: number) => (a + b * t) ** 2;
const sde = orThrow(
  linearSde({
    name: "sqrt-linear VP",
    f: (t) => -0.5 * beta(t),
    g: (t) => Math.sqrt(beta(t)),
    tMin: 1e-3,
    tMax: 1,
  }),
);
console.log(`${sde.name} on [${sde.tMin}, ${sde.tMax}]: prior N(0, ${sde.priorStd.toFixed(6)}²·I)`);

// 2. linearSde integrated s(t) and σ(t) numerically. Here ∫₀ᵗβ = ((a + b·t)³ − a³)/(3b), so
//    s(t) = exp(−½∫₀ᵗβ) and σ(t)² = 1 − s(t)² have a closed form to check them against.
const B = (t: number) => ((a + b * t) ** 3 - a ** 3) / (3 * b);
const exactScale = (t: number) => Math.exp(-0.5 * B(t));
const exactStd = (t: number) => Math.sqrt(-Math.expm1(-B(t)));
const vp = orThrow(vpSde({ betaMin, betaMax }));
console.log("    t       s(t)       σ(t)   relative errors     λ(t)   λ(t) of VP");
for (const t of [0.001, 0.1, 0.25, 0.5, 0.75, 1]) {
  const errors = [sde.scale(t) / exactScale(t) - 1, sde.std(t) / exactStd(t) - 1];
  const columns = [sde.scale(t).toFixed(6), sde.std(t).toFixed(6)];
  columns.push(errors.map((e) => Math.abs(e).toExponential(1)).join(" "));
  columns.push(logSnr(sde, t).toFixed(3).padStart(7), logSnr(vp, t).toFixed(3).padStart(10));
  console.log(`${t.toFixed(3)}   ${columns.join("   ")}`);
}
let worst = 0;
for (let k = 0; k <= 1000; k++) {
  const t = sde.tMin + ((sde.tMax - sde.tMin) * k) / 1000;
  const roundTrip = sde.timeOfNoiseLevel(noiseLevel(sde, t)) / t - 1;
  const errors = [sde.scale(t) / exactScale(t) - 1, sde.std(t) / exactStd(t) - 1, roundTrip];
  worst = Math.max(worst, ...errors.map(Math.abs));
}
console.log(`largest relative error of s, σ and of t → σ/s → t at 1001 times: ${worst.toExponential(1)}`);

// 3. The same β on N = 1000 steps is diffusers' "scaled_linear" schedule with β_start = β_min/N and
//    β_end = β_max/N: β_i = β(i/(N − 1))/N, the chain DDPM and DDIM walk (index i ↔ time (i + 1)/N).
const N = 1000;
const chain = orThrow(
  ddpmSchedule({ kind: "scaled_linear", numTrainTimesteps: N, betaStart: betaMin / N, betaEnd: betaMax / N }),
);
const betaGap = Math.max(...chain.betas.map((v, i) => Math.abs(v / (beta(i / (N - 1)) / N) - 1)));
const scaleGap = Math.max(...chain.alphaBars.map((v, i) => Math.abs(Math.sqrt(v) - sde.scale((i + 1) / N))));
console.log(`β_i against β(i/(N − 1))/N: largest relative difference ${betaGap.toExponential(1)}`);
console.log(`√ᾱ_i against s((i + 1)/N): largest difference ${scaleGap.toExponential(1)}`);

// 4. A model trained under YOUR SDE: ε-prediction with the continuous-time L_simple,
//    E_{t ~ U[tMin, 1]} ‖ε_θ(s(t)·x_0 + σ(t)·ε, t) − ε‖², the noisy x_t drawn through this record's s and σ.
const key = orThrow(rngKey(1));
const kernels = orThrow(netKernels(orThrow(await createBackend("webasm"))));
const network = mlpNetwork(orThrow(mlpConfig({ dataDim: 2, width: 32, blocks: 2 })));
const model: ScoreModel = { kind: "time", network, parameterization: "eps", timeScale: 1 };
const loss = orThrow(denoisingLoss(sde, "simple"));
const steps = 1000;
const lr = 1e-2;
const config = orThrow(
  trainConfig({
    steps,
    batchSize: 256,
    optimizer: orThrow(adamConfig({ lr })),
    schedule: orThrow(
      warmupCosineSchedule({ baseLr: lr, warmupSteps: 100, totalSteps: steps, minLr: lr / 10 }),
    ),
    ema: { kind: "decay", options: orThrow(emaDecayOptions({ decay: 0.99 })) },
    seed: 1,
  }),
);
let state = orThrow(initTrainState(network, config));
const losses: number[] = [];
for (const step of trainSteps(kernels, model, loss, config, state, pinwheel(foldIn(key, 1), 20_000))) {
  const { state: next, metrics } = orThrow(step);
  state = next;
  losses.push(metrics.loss);
}
const mean = (v: readonly number[]) => v.reduce((x, y) => x + y, 0) / v.length;
console.log(`mean loss over steps 1–100: ${mean(losses.slice(0, 100)).toFixed(4)}`);
console.log(`mean loss over steps ${steps - 99}–${steps}: ${mean(losses.slice(-100)).toFixed(4)}`);

// 5. Sampling with several families through runSamplerFamily, which needs the SDE record, its chain, the model
//    and the noise. DDPM and DDIM call the model with chain indices, so they get it at index i's time (i + 1)/N.
const space = tensorBatchSpace<Float32Array>();
const eps = samplerModel(kernels, model, state.ema);
const discreteModel = {
  parameterization: "eps",
  predict: (x: Tensor, i: number) => predictAs(space, sde, eps, "eps")(x, orThrow(ddpmTimeOfIndex(N, i))),
} as const;
const n = 1000;
const noise = space.normalLike(foldIn(key, 2), zeros32([n, 2]));
const to64 = (t: Tensor | Tensor64): Tensor64 => ({ shape: t.shape, data: Float64Array.from(t.data) });
const held = to64(pinwheel(foldIn(key, 3), n));
const sw2 = (x: Tensor | Tensor64) => slicedWasserstein2(to64(x), held, foldIn(key, 4), 256);
const report = (name: string, distance: number) =>
  console.log(`  ${name.padEnd(44)} ${distance.toFixed(4)}  ${(distance / floor).toFixed(2)}×`);
const fresh = [5, 6, 7, 8].map((k) => sw2(pinwheel(foldIn(key, k), n)));
const floor = mean(fresh);
const [m, c] = [sampleMean(held), sampleCovariance(held)];
const gaussian = orThrow(gaussianMixture({ weights: [1], means: [m], covariances: [c] }));
console.log(`sliced W2 to ${n} held-out points, and its ratio to the floor:`);
report(`fresh draws of ${n} data points (the floor)`, floor);
console.log(`    (the four draws: ${fresh.map((d) => d.toFixed(4)).join(", ")})`);
report("a Gaussian with the data's mean, covariance", sw2(sampleMixture(gaussian, foldIn(key, 10), n)));
const plot = (points: Tensor | Tensor64) =>
  scatterPlot({ shape: points.shape, data: Float32Array.from(points.data) }, { size: 256, range: [-4, 4] });
const panels = [{ title: "held-out data", raster: plot(held) }];
const budget: ReadonlyArray<readonly [SamplerFamily, number]> = [
  ["ddpm", 50],
  ["ddim", 25],
  ["reverse-sde", 50],
  ["edm", 18],
  ["dpmpp-2m", 20],
];
for (const [family, familySteps] of budget) {
  const setup = { space, model: eps, sde, schedule: chain, discreteModel, noise, key: foldIn(key, 9) };
  const { y, nfe } = orThrow(runSamplerFamily(family, { ...setup, steps: familySteps }));
  const { title, label } = samplerFamilyInfo[family];
  report(`${title}, NFE ${nfe}`, sw2(y));
  panels.push({ title: `${label} (${nfe})`, raster: plot(y) });
}
// A model belongs to its SDE: the same network read as a model of the built-in linear-β VP SDE.
const wrong = orThrow(
  runSamplerFamily("dpmpp-2m", { space, model: eps, sde: vp, schedule: chain, noise, key, steps: 20 }),
);
report("DPM-Solver++(2M) with the VP record instead", sw2(wrong.y));
save("samplers", gallery(panels, 4));
