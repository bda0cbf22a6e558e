/**
 * A trained model described as JSON: the network (MLP or UNet2DModel config), what it predicts (a preconditioned
 * denoiser or a time model), the SDE it samples under, and the data it was trained on. Checkpoints and exported
 * models store this description beside their weights, so a command, a browser page or a script rebuilds the
 * model from its files alone.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { type DdpmSchedule, ddpmTimeOfIndex, vpDdpmSchedule } from "../discrete/index.js";
import { unet2DConfig } from "../nets/io/unet-config.js";
import { type MlpConfig, mlpConfig, mlpNetwork } from "../nets/mlp.js";
import type { Network } from "../nets/network.js";
import type { Preconditioning } from "../nets/precondition.js";
import type { ScoreModel } from "../nets/score-model.js";
import { unet2DModel } from "../nets/unet.js";
import type { DiffusionModel } from "../samplers/model.js";
import { edmSde, subVpSde, veSde, vpCosineSde, vpSde } from "../sde/index.js";
import type { Parameterization } from "../sde/parameterization.js";
import type { LinearSde } from "../sde/types.js";

/**
 * The built-in SDEs by name.
 *
 * @category Training
 */
export type SdeName = "vp" | "vp-cosine" | "subvp" | "ve" | "edm";

/**
 * Every SDE name, in the order of `scoreflow info`.
 *
 * @category Training
 */
export const SDE_NAMES: readonly SdeName[] = ["vp", "vp-cosine", "subvp", "ve", "edm"];

/**
 * The built-in SDE of a name with its default parameters (VP: β from 0.1 to 20; VE: σ from 0.01 to 50; EDM: σ(t) = t).
 *
 * @category Training
 */
export const sdeByName = (name: string): E.Either<ScoreflowError, LinearSde> => {
  switch (name) {
    case "vp":
      return vpSde();
    case "vp-cosine":
      return vpCosineSde();
    case "subvp":
      return subVpSde();
    case "ve":
      return veSde();
    case "edm":
      return edmSde();
    default:
      return E.left(scoreflowError("--sde", "sde", name, `must be one of ${SDE_NAMES.join(", ")}`));
  }
};

/**
 * Where the training data came from: a 2-D toy, MNIST (padding, downsampling), or a directory of PNG images.
 *
 * @category Training
 */
export type DataDescription =
  | {
      /** A 2-D toy of the data module. */
      readonly kind: "toy";
      /** Its name, e.g. "checkerboard". */
      readonly name: string;
    }
  | {
      /** MNIST digits in [−1, 1]. */
      readonly kind: "mnist";
      /** Zero pixels added on each side (2: 28 → 32). */
      readonly pad: number;
      /** 2×2 averaging before padding (2: 28 → 14), or none (1). */
      readonly downsample: 1 | 2;
    }
  | {
      /** PNG images of one size. */
      readonly kind: "png";
      /** Their directory. */
      readonly directory: string;
    };

/**
 * The network: an MLP config, or a diffusers UNet2DModel config.json object with the image size.
 *
 * @category Training
 */
export type NetworkDescription =
  | {
      /** The MLP of `mlpNetwork`. */
      readonly kind: "mlp";
      /** Its configuration. */
      readonly config: MlpConfig;
    }
  | {
      /** diffusers' UNet2DModel. */
      readonly kind: "unet";
      /** The config.json object (validated by `unet2DConfig`). */
      readonly config: unknown;
      /** [height, width] of the images. */
      readonly sampleSize: readonly [number, number];
    };

/**
 * What the network predicts: a preconditioned denoiser D(x̂; σ), or a time model's target at time t.
 *
 * @category Training
 */
export type OutputDescription =
  | {
      /** D(x̂; σ) = c_skip·x̂ + c_out·F(c_in·x̂; c_noise). */
      readonly kind: "denoiser";
      /** The coefficients. */
      readonly preconditioning: Preconditioning;
    }
  | {
      /** F(x_t, a·t) predicts a target at time t. */
      readonly kind: "time";
      /** The target. */
      readonly parameterization: Parameterization;
      /** a, the scale of the time input. */
      readonly timeScale: number;
    };

/**
 * A trained model, as checkpoints and exported models store it.
 *
 * @category Training
 */
export interface ModelDescription {
  /** The network. */
  readonly network: NetworkDescription;
  /** What it predicts. */
  readonly output: OutputDescription;
  /** The SDE it was trained and samples under. */
  readonly sde: SdeName;
  /** The training data. */
  readonly data: DataDescription;
}

/**
 * The network of a description (its config validated).
 *
 * @category Training
 */
export const buildNetwork = (d: NetworkDescription): E.Either<ScoreflowError, Network> =>
  d.kind === "mlp"
    ? E.map(mlpNetwork)(mlpConfig(d.config))
    : E.flatMap(unet2DConfig(d.config), (c) => unet2DModel(c, d.sampleSize));

/**
 * The score model of a description: the network with its meaning.
 *
 * @category Training
 */
export const buildScoreModel = (d: ModelDescription): E.Either<ScoreflowError, ScoreModel> =>
  E.map(
    (network: Network): ScoreModel =>
      d.output.kind === "denoiser"
        ? { kind: "denoiser", network, preconditioning: d.output.preconditioning }
        : {
            kind: "time",
            network,
            parameterization: d.output.parameterization,
            timeScale: d.output.timeScale,
          },
  )(buildNetwork(d.network));

/**
 * A discrete chain and the model DDPM and DDIM call on it with integer timesteps.
 *
 * @category Training
 */
export interface DiscreteChain<V> {
  /** The β schedule. */
  readonly schedule: DdpmSchedule;
  /** The model at integer timesteps of `schedule`. */
  readonly model: DiffusionModel<V>;
}

/** DDPM's 1000 steps of the VP SDE (β from 0.1 to 20: diffusers' linear 1e-4 → 0.02). */
const VP_CHAIN = { betaMin: 0.1, betaMax: 20, numSteps: 1000 };

/**
 * The discrete chain for DDPM and DDIM, and the model on it: a denoiser runs on DDPM's linear chain as it is
 * (its σ maps onto any chain); a time model needs the VP SDE, whose chain's index i is time (i + 1)/N.
 *
 * Source: Ho et al. 2020 (β from 10⁻⁴ to 0.02 over 1000 steps); Song et al. 2021, Appendix B (the VP SDE as the
 * limit of that chain).
 *
 * @category Training
 */
export const discreteChain = <V>(
  d: ModelDescription,
  model: DiffusionModel<V>,
): E.Either<ScoreflowError, DiscreteChain<V>> => {
  const schedule = vpDdpmSchedule(VP_CHAIN);
  if (E.isLeft(schedule)) return schedule;
  if (model.parameterization === "denoiser") return E.right({ schedule: schedule.right, model });
  if (d.sde !== "vp")
    return E.left(
      scoreflowError(
        "--sampler",
        "sampler",
        "ddpm/ddim",
        "needs a denoiser model or a time model of the VP SDE (the DDPM chain is the VP SDE's discretization)",
        `a time model of ${d.sde}`,
      ),
    );
  const n = VP_CHAIN.numSteps;
  return E.right({
    schedule: schedule.right,
    model: {
      parameterization: model.parameterization,
      predict: (x, i) => model.predict(x, E.getOrElse(() => Number.NaN)(ddpmTimeOfIndex(n, i))),
    },
  });
};
