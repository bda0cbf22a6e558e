/**
 * What a sampler needs from a network: a prediction at (x, t) in some parameterization, or an EDM denoiser
 * D(x̂; σ). Adapters turn any of them into the quantity a sampler integrates (a score, a denoised estimate)
 * through the SDE's s(t) and σ(t), so every sampler accepts every parameterization.
 *
 * @module
 */
import type { VectorSpace } from "../core/tensor.js";
import { marginal } from "../sde/marginals.js";
import { convertPrediction, type Parameterization } from "../sde/parameterization.js";
import type { LinearSde } from "../sde/types.js";

/**
 * A model that predicts, at state x and time t, one of ε, x₀, v or the score (Ho et al. 2020 use ε; Salimans &
 * Ho 2022 use v; Song et al. 2021 use the score).
 *
 * @category Samplers
 */
export interface TimeModel<V> {
  /** What `predict` returns. */
  readonly parameterization: Parameterization;
  /** The prediction at state x, time t. */
  readonly predict: (x: V, t: number) => V;
}

/**
 * An EDM denoiser D(x̂; σ) ≈ E[x₀ | x̂ = x₀ + σ·n], taking the scaled state x̂ = x/s(t) and the noise level
 * σ = σ(t)/s(t) (Karras et al. 2022, eq. 2–3 and Table 1).
 *
 * @category Samplers
 */
export interface DenoiserModel<V> {
  /** Marks a denoiser. */
  readonly parameterization: "denoiser";
  /** D(x̂; σ): the denoised estimate of x₀ from the scaled state at noise level σ. */
  readonly denoise: (xHat: V, noiseLevel: number) => V;
}

/**
 * Any model a sampler accepts.
 *
 * @category Samplers
 */
export type DiffusionModel<V> = TimeModel<V> | DenoiserModel<V>;

/**
 * The model's prediction of `target` at (x, t): a time model's output converted by
 * `convertPrediction` with the marginal (s(t), σ(t)); a denoiser's output is x₀ = D(x/s; σ/s) (Karras et al.
 * 2022, eq. 3 and Table 1), then converted.
 *
 * @param sde - the linear SDE whose s(t), σ(t) define the conversions.
 * @param target - what to return: ε, x₀, v or the score.
 * @category Samplers
 */
export const predictAs =
  <V>(space: VectorSpace<V>, sde: LinearSde, model: DiffusionModel<V>, target: Parameterization) =>
  (x: V, t: number): V => {
    const coefficients = marginal(sde, t);
    if (model.parameterization === "denoiser") {
      const { scale, std } = coefficients;
      const x0 = model.denoise(space.combine([[1 / scale, x]]), std / scale);
      return target === "x0" ? x0 : convertPrediction(space, "x0", target, coefficients, x, x0);
    }
    const prediction = model.predict(x, t);
    return model.parameterization === target
      ? prediction
      : convertPrediction(space, model.parameterization, target, coefficients, x, prediction);
  };

/**
 * The score ∇log p_t(x) a model implies (for ε-prediction: −ε/σ(t); Song et al. 2021, §3.3 and eq. 7).
 *
 * @category Samplers
 */
export const scoreOf = <V>(space: VectorSpace<V>, sde: LinearSde, model: DiffusionModel<V>) =>
  predictAs(space, sde, model, "score");

/**
 * The EDM denoiser D(x̂; σ) a model implies: for a time model, x₀-prediction at x = s(t)·x̂ with
 * t = `sde.timeOfNoiseLevel(σ)` (Karras et al. 2022, Table 1: any SDE becomes a denoiser on scaled states).
 *
 * @category Samplers
 */
export const denoiserOf =
  <V>(space: VectorSpace<V>, sde: LinearSde, model: DiffusionModel<V>) =>
  (xHat: V, noiseLevel: number): V => {
    if (model.parameterization === "denoiser") return model.denoise(xHat, noiseLevel);
    const t = sde.timeOfNoiseLevel(noiseLevel);
    return predictAs(space, sde, model, "x0")(space.combine([[sde.scale(t), xHat]]), t);
  };
