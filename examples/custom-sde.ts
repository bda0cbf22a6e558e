import {
  gaussianMixture,
  gridKarras,
  gridUniform,
  linearSde,
  mixtureCovariance,
  mixtureMean,
  mixtureOracle,
  noiseLevel,
  orThrow,
  rngKey,
  sampleCovariance,
  sampleEdm,
  sampleMean,
  sampleReverseSde,
  tensorSpace,
  zeros64,
} from "scoreflow";

// 1. Your own SDE, from f and g alone: a VP-type diffusion with the noise rate β(t) = 0.1 + 19.9·t².
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
const model = { parameterization: "score", predict: mixtureOracle(sde, data).score } as const;

// 3. Two samplers from the same SDE record and the same noise: the reverse-time SDE (500 Euler–Maruyama steps)
//    and the EDM Heun sampler (18 steps on the Karras σ grid, through this SDE's own σ ↔ t map).
const space = tensorSpace<Float64Array>();
const key = orThrow(rngKey(0));
const noise = space.normalLike(key, zeros64([4000, 2]));
const grid = orThrow(gridUniform(sde.tMax, sde.tMin, 500));
const [sigmaMin, sigmaMax] = [noiseLevel(sde, sde.tMin), noiseLevel(sde, sde.tMax)];
const sigmas = orThrow(gridKarras({ sigmaMin, sigmaMax, n: 18, appendZero: true }));
const runs = {
  "reverse SDE": orThrow(sampleReverseSde(space, sde, model, noise, { grid, key })),
  "EDM Heun": orThrow(sampleEdm(space, sde, model, noise, { sigmas })),
};

// 4. Compare the samples' moments with the data's exact ones.
const show = (v: ArrayLike<number>) => Array.from(v, (x) => x.toFixed(3).padStart(6)).join(" ");
console.log(`exact                   mean ${show(mixtureMean(data))}   cov ${show(mixtureCovariance(data))}`);
for (const [name, { y, nfe }] of Object.entries(runs)) {
  const label = `${name} (${nfe} NFE)`.padEnd(23);
  console.log(`${label} mean ${show(sampleMean(y))}   cov ${show(sampleCovariance(y))}`);
}
