/**
 * What a trained network means: a score model binds a {@link Network} to a diffusion quantity, either
 * - a time model: F(x_t, a·t) predicts ε, x₀, v or the score at time t of a linear SDE (a = `timeScale`, e.g.
 *   1000 for networks conditioned on DDPM timesteps), or
 * - a denoiser: the preconditioned D(x̂; σ) of Karras et al. 2022 (eq. 7), meaningful under every linear SDE and
 *   every discrete schedule, since each is a map between its time and σ.
 * {@link samplerModel} turns either into the `DiffusionModel` every sampler takes.
 *
 * @module
 */
import type { Tensor } from "../core/tensor.js";
import type { DiffusionModel } from "../samplers/model.js";
import type { Parameterization } from "../sde/parameterization.js";
import { forwardForSampler, type Network, type Parameters } from "./network.js";
import { networkDenoiser, type Preconditioning } from "./precondition.js";
import type { NetKernels } from "./tape.js";

/**
 * A network with its meaning: a time model or a preconditioned denoiser.
 *
 * @category Networks
 */
export type ScoreModel =
  | {
      /** F(x_t, timeScale·t) predicts `parameterization` at time t. */
      readonly kind: "time";
      /** The raw network. */
      readonly network: Network;
      /** What F predicts. */
      readonly parameterization: Parameterization;
      /** a > 0: the network's noise input is a·t. */
      readonly timeScale: number;
    }
  | {
      /** D(x̂; σ) = c_skip·x̂ + c_out·F(c_in·x̂; c_noise) predicts x₀ from x̂ = x/s at noise level σ. */
      readonly kind: "denoiser";
      /** The raw network F. */
      readonly network: Network;
      /** The coefficients c_skip, c_out, c_in, c_noise. */
      readonly preconditioning: Preconditioning;
    };

/**
 * A score model with parameters as a sampler's `DiffusionModel` over float32 tensors: a time model predicts at
 * the sampler's t for the whole batch; a denoiser answers D(x̂; σ). A failed network call (a non-finite state)
 * answers NaN, which the sampler's finiteness check reports with its step.
 *
 * @category Networks
 */
export const samplerModel = (
  kernels: NetKernels,
  model: ScoreModel,
  parameters: Parameters,
): DiffusionModel<Tensor> => {
  if (model.kind === "denoiser")
    return networkDenoiser(kernels, model.network, parameters, model.preconditioning);
  return {
    parameterization: model.parameterization,
    predict: (x, t) => forwardForSampler(kernels, model.network, parameters, x, model.timeScale * t),
  };
};
