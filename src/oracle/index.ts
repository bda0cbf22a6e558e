/**
 * The exact Gaussian-mixture oracle: Gaussian-mixture data, its marginals under any linear SDE, and their
 * log-densities, scores, ideal denoisers and exact samples in closed form.
 *
 * @module
 */
export {
  type GaussianPerturbation,
  mixtureAtNoise,
  mixtureLogDensity,
  mixturePosteriorMean,
  mixtureResponsibilities,
  mixtureScore,
  mixtureScoreDivergence,
} from "./marginal.js";
export {
  type CovarianceInput,
  type GaussianMixture,
  type GaussianMixtureParams,
  gaussianMixture,
  mixtureCovariance,
  mixtureMean,
} from "./mixture.js";
export { ddpmMixtureScore, type MixtureOracle, mixtureOracle, oracleAt } from "./oracle.js";
export { type RandomMixtureOptions, type RingMixtureOptions, randomMixture, ringMixture } from "./presets.js";
export { sampleMixture, sampleMixtureAtNoise, sampleMixtureLabels } from "./sample.js";
