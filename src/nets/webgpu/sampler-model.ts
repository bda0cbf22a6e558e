/**
 * A trained score model on the GPU as a sampler's asynchronous model: the twin of `samplerModel` for
 * `forwardNetworkWebgpu`, to be sampled with `asyncModelSteps`.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { Tensor } from "../../core/tensor.js";
import type { AsyncDiffusionModel } from "../../samplers/async-model.js";
import type { Network, Parameters } from "../network.js";
import { preconditionedNetwork } from "../precondition.js";
import type { ScoreModel } from "../score-model.js";
import type { WebgpuNetKernels } from "./device.js";
import { forwardNetworkWebgpu } from "./forward.js";

/** y = network(x, c for every row) on the GPU; a Left (a non-finite state) answers NaN, as `forwardForSampler`. */
const forwardOrNaN = async (
  kernels: WebgpuNetKernels,
  network: Network,
  parameters: Parameters,
  x: Tensor,
  c: number,
): Promise<Tensor> => {
  const y = await forwardNetworkWebgpu(kernels, network, parameters, x, new Float64Array(x.shape[0]).fill(c));
  return E.isRight(y) ? y.right : { shape: x.shape, data: new Float32Array(x.data.length).fill(Number.NaN) };
};

/**
 * A score model with parameters as an {@link AsyncDiffusionModel} evaluated on the GPU: a time model predicts at
 * the sampler's t (times the model's `timeScale`); a denoiser answers D(x̂; σ) of its preconditioned network. A
 * failed pass answers NaN, which the sampler's finiteness check reports with its step.
 *
 * @category Networks
 */
export const samplerModelWebgpu = (
  kernels: WebgpuNetKernels,
  model: ScoreModel,
  parameters: Parameters,
): AsyncDiffusionModel<Tensor> => {
  if (model.kind === "denoiser") {
    const denoiser = preconditionedNetwork(model.network, model.preconditioning);
    return {
      parameterization: "denoiser",
      denoise: (xHat, sigma) => forwardOrNaN(kernels, denoiser, parameters, xHat, sigma),
    };
  }
  return {
    parameterization: model.parameterization,
    predict: (x, t) => forwardOrNaN(kernels, model.network, parameters, x, model.timeScale * t),
  };
};
