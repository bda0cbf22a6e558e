import {
  foldIn,
  gaussianMixture,
  gridBrownianPath,
  gridUniform,
  linearSde,
  mixtureCovariance,
  mixtureMean,
  mixtureOracle,
  orThrow,
  reverseSde,
  rngKey,
  samplePrior,
  sdeEulerMaruyama,
  solveSde,
  tensorSpace,
  toSde,
} from "scoreflow";

// 1. Your own SDE: a VP-type diffusion with a quadratic noise rate, dx = −½β(t)·x dt + √β(t) dw.
const beta = (t: number) => 0.1 + 19.9 * t * t;
const sde = orThrow(
  linearSde({
    name: "quadratic VP",
    f: (t) => -0.5 * beta(t),
    g: (t) => Math.sqrt(beta(t)),
    tMin: 1e-3,
    tMax: 1,
  }),
);
console.log(`${sde.name}: s(1) = ${sde.scale(1).toFixed(6)}, σ(1) = ${sde.std(1).toFixed(6)}`);

// 2. Data with a known answer: a 2-D Gaussian mixture, whose score under this SDE is exact at every t.
const data = orThrow(
  gaussianMixture({
    weights: [0.3, 0.7],
    means: [
      [-2, 0],
      [2, 1],
    ],
    variances: 0.25,
  }),
);
const oracle = mixtureOracle(sde, data);

// 3. Sample 4000 points: Euler–Maruyama on the reverse-time SDE, from the prior at t = 1 down to t = 0.001.
const space = tensorSpace<Float64Array>();
const key = orThrow(rngKey(0));
const prior = orThrow(samplePrior(sde, foldIn(key, 0), [4000, 2]));
const grid = orThrow(gridUniform(sde.tMax, sde.tMin, 500));
const brownian = orThrow(gridBrownianPath(space, foldIn(key, 1), prior, grid));
const reverse = reverseSde(space, toSde(space)(sde), oracle.score);
const { y: samples, nfe } = orThrow(solveSde(space, sdeEulerMaruyama, reverse, prior, grid, brownian));

// 4. Compare the samples' moments with the data's exact ones.
const n = samples.shape[0];
const column = (i: number) => Array.from({ length: n }, (_, r) => samples.data[2 * r + i]);
const average = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const [x0, x1] = [column(0), column(1)];
const [m0, m1] = [average(x0), average(x1)];
const sampleCov = [
  x0.map((v) => (v - m0) ** 2),
  x1.map((v) => (v - m1) ** 2),
  x0.map((v, r) => (v - m0) * (x1[r] - m1)),
];
const [mean, cov] = [mixtureMean(data), mixtureCovariance(data)];
console.log(`${nfe} score evaluations; sample vs exact:`);
console.log(`mean     ${m0.toFixed(3)} ${m1.toFixed(3)}  vs  ${mean[0].toFixed(3)} ${mean[1].toFixed(3)}`);
console.log(
  `var, cov ${sampleCov.map((c) => ((average(c) * n) / (n - 1)).toFixed(3)).join(" ")}  vs  ${[cov[0], cov[3], cov[1]].map((c) => c.toFixed(3)).join(" ")}`,
);
