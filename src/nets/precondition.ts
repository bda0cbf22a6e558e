/**
 * Preconditioning (Karras et al. 2022, §5 and Table 1): a raw network F becomes a denoiser
 *   D(x̂; σ) = c_skip(σ)·x̂ + c_out(σ)·F(c_in(σ)·x̂; c_noise(σ)),
 * where x̂ = x/s(t) is the unscaled state and σ its noise level. The four coefficients keep F's input and
 * training target at unit variance (EDM), or reproduce the ε-parameterization of VP / VE models (c_out = ∓σ),
 * so any raw network plugs into every sampler through {@link networkDenoiser}, and the EDM loss trains F through
 * the same {@link preconditionedNetwork}.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { checkAll, isPositive, isPositiveInteger } from "../core/validate.js";
import type { DenoiserModel } from "../samplers/model.js";
import { forwardForSampler, type Network, type Parameters } from "./network.js";
import type { NetKernels } from "./tape.js";

/**
 * A preconditioning of Table 1: EDM's (with σ_data), VP's (with β_d, β_min and M discrete steps) or VE's.
 *
 * @category Networks
 */
export type Preconditioning =
  | {
      /** EDM: c_skip = σ_d²/(σ² + σ_d²), c_out = σ·σ_d/√(σ² + σ_d²), c_in = 1/√(σ² + σ_d²), c_noise = ¼ ln σ. */
      readonly kind: "edm";
      /** σ_data > 0, the data standard deviation (0.5 for images in [−1, 1]). */
      readonly sigmaData: number;
    }
  | {
      /** VP: c_skip = 1, c_out = −σ, c_in = 1/√(σ² + 1), c_noise = (M − 1)·t(σ). */
      readonly kind: "vp";
      /** β_d = β_max − β_min > 0. */
      readonly betaD: number;
      /** β_min > 0. */
      readonly betaMin: number;
      /** M ≥ 1, the number of discrete timesteps the network was conditioned on (1000 in DDPM). */
      readonly steps: number;
    }
  | {
      /** VE: c_skip = 1, c_out = σ, c_in = 1, c_noise = ln(½σ). */
      readonly kind: "ve";
    };

/**
 * The four coefficients at one noise level.
 *
 * @category Networks
 */
export interface PreconditioningCoefficients {
  /** c_skip(σ): weight of the skip connection. */
  readonly cSkip: number;
  /** c_out(σ): scale of the network output. */
  readonly cOut: number;
  /** c_in(σ): scale of the network input. */
  readonly cIn: number;
  /** c_noise(σ): the network's noise conditioning. */
  readonly cNoise: number;
}

/**
 * EDM preconditioning with σ_data > 0 (Karras et al. 2022, Table 1, "Ours").
 *
 * @category Networks
 */
export const edmPreconditioning = (sigmaData: number): E.Either<ScoreflowError, Preconditioning> =>
  E.map(() => ({ kind: "edm" as const, sigmaData }))(
    checkAll("EDM preconditioning", [["sigmaData", sigmaData, isPositive]]),
  );

/**
 * VP preconditioning (Karras et al. 2022, Table 1, "VP"): β_d, β_min > 0 of the VP SDE, M ≥ 1 steps.
 *
 * @category Networks
 */
export const vpPreconditioning = (
  betaMin: number,
  betaMax: number,
  steps = 1000,
): E.Either<ScoreflowError, Preconditioning> =>
  E.map(() => ({ kind: "vp" as const, betaD: betaMax - betaMin, betaMin, steps }))(
    checkAll("VP preconditioning", [
      ["betaMin", betaMin, isPositive],
      ["betaMax − betaMin", betaMax - betaMin, isPositive],
      ["steps", steps, isPositiveInteger],
    ]),
  );

/**
 * VE preconditioning (Karras et al. 2022, Table 1, "VE").
 *
 * @category Networks
 */
export const vePreconditioning: Preconditioning = { kind: "ve" };

/**
 * The coefficients at σ > 0. For VP, t(σ) = (√(β_min² + 2β_d·ln(1 + σ²)) − β_min)/β_d inverts
 * σ(t) = √(exp(½β_d t² + β_min t) − 1).
 *
 * Source: Karras et al., "Elucidating the Design Space of Diffusion-Based Generative Models", NeurIPS 2022,
 * Table 1 (network and preconditioning rows) and eq. 7.
 *
 * @category Networks
 */
export const preconditioningCoefficients = (
  p: Preconditioning,
  sigma: number,
): PreconditioningCoefficients => {
  switch (p.kind) {
    case "edm": {
      const d2 = p.sigmaData * p.sigmaData;
      const r = Math.sqrt(sigma * sigma + d2);
      return {
        cSkip: d2 / (r * r),
        cOut: (sigma * p.sigmaData) / r,
        cIn: 1 / r,
        cNoise: Math.log(sigma) / 4,
      };
    }
    case "vp": {
      const t =
        (Math.sqrt(p.betaMin * p.betaMin + 2 * p.betaD * Math.log1p(sigma * sigma)) - p.betaMin) / p.betaD;
      return { cSkip: 1, cOut: -sigma, cIn: 1 / Math.sqrt(sigma * sigma + 1), cNoise: (p.steps - 1) * t };
    }
    case "ve":
      return { cSkip: 1, cOut: sigma, cIn: 1, cNoise: Math.log(sigma / 2) };
  }
};

/**
 * The preconditioned network as a {@link Network} whose noise input is σ (one per sample):
 * D(x̂; σ) = c_skip(σ)·x̂ + c_out(σ)·F(c_in(σ)·x̂; c_noise(σ)), with F's parameters. Training the EDM loss and
 * sampling run on it alike; σ > 0 per row is the caller's invariant.
 *
 * Source: Karras et al. 2022, eq. 7.
 *
 * @category Networks
 */
export const preconditionedNetwork = (network: Network, p: Preconditioning): Network => ({
  name: `${p.kind.toUpperCase()}-preconditioned ${network.name}`,
  sampleShape: network.sampleShape,
  parameters: network.parameters,
  apply: (ops, parameter, xHat, sigmas) => {
    const cs = Array.from(sigmas, (s) => preconditioningCoefficients(p, s));
    const at = (k: keyof PreconditioningCoefficients) => cs.map((c) => c[k]);
    const f = network.apply(ops, parameter, ops.scaleRows(xHat, at("cIn")), Float64Array.from(at("cNoise")));
    return ops.add(ops.scaleRows(xHat, at("cSkip")), ops.scaleRows(f, at("cOut")));
  },
});

/**
 * A trained network as a sampler's {@link DenoiserModel}: D(x̂; σ) of {@link preconditionedNetwork} at one σ for
 * the whole batch. Parameters are checked once by the caller (see `checkParameters`). Should the network fail
 * (a non-finite state from a diverging sampler), D returns NaN and the sampler's finiteness check reports the
 * step.
 *
 * @category Networks
 */
export const networkDenoiser = (
  kernels: NetKernels,
  network: Network,
  parameters: Parameters,
  p: Preconditioning,
): DenoiserModel<Tensor> => {
  const denoiser = preconditionedNetwork(network, p);
  return {
    parameterization: "denoiser",
    denoise: (xHat, sigma) => forwardForSampler(kernels, denoiser, parameters, xHat, sigma),
  };
};
