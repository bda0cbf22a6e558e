/**
 * A trained model described as JSON: the network (MLP or UNet2DModel config), what it predicts (a preconditioned
 * denoiser or a time model), the SDE it samples under, and the data it was trained on. A checkpoint stores this
 * description beside its weights, so `scoreflow sample --model <dir>` rebuilds everything from the directory.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { type DdpmSchedule, ddpmTimeOfIndex, vpDdpmSchedule } from "../discrete/index.js";
import { unet2DConfig } from "../nets/io/unet-config.js";
import { type MlpConfig, mlpConfig, mlpNetwork } from "../nets/mlp.js";
import type { Network } from "../nets/network.js";
import { edmPreconditioning, type Preconditioning } from "../nets/precondition.js";
import type { ScoreModel } from "../nets/score-model.js";
import { unet2DModel } from "../nets/unet.js";
import type { DiffusionModel } from "../samplers/model.js";
import { edmSde, subVpSde, veSde, vpCosineSde, vpSde } from "../sde/index.js";
import type { Parameterization } from "../sde/parameterization.js";
import type { LinearSde } from "../sde/types.js";

/** The SDEs the command line knows, by name. */
export type SdeName = "vp" | "vp-cosine" | "subvp" | "ve" | "edm";

/** Every SDE name. */
export const SDE_NAMES: readonly SdeName[] = ["vp", "vp-cosine", "subvp", "ve", "edm"];

/** The built-in SDE of a name, with its default parameters. */
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

/** Where the training data came from. */
export type DataDescription =
  | { readonly kind: "toy"; readonly name: string }
  | { readonly kind: "mnist"; readonly pad: number; readonly downsample: 1 | 2 }
  | { readonly kind: "png"; readonly directory: string };

/** The network: an MLP config, or a diffusers UNet2DModel config.json object with the image size. */
export type NetworkDescription =
  | { readonly kind: "mlp"; readonly config: MlpConfig }
  | { readonly kind: "unet"; readonly config: unknown; readonly sampleSize: readonly [number, number] };

/** What the network predicts. */
export type OutputDescription =
  | { readonly kind: "denoiser"; readonly preconditioning: Preconditioning }
  | { readonly kind: "time"; readonly parameterization: Parameterization; readonly timeScale: number };

/** A trained model, as stored in a checkpoint's state.json. */
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

/** The network of a description. */
export const buildNetwork = (d: NetworkDescription): E.Either<ScoreflowError, Network> =>
  d.kind === "mlp"
    ? E.map(mlpNetwork)(mlpConfig(d.config))
    : E.flatMap(unet2DConfig(d.config), (c) => unet2DModel(c, d.sampleSize));

/** The score model of a description. */
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

/** The default EDM preconditioning for data of RMS σ_data. */
export const defaultPreconditioning = (sigmaData: number): E.Either<ScoreflowError, Preconditioning> =>
  edmPreconditioning(sigmaData);

/** DDPM's 1000 steps of the VP SDE (β from 0.1 to 20: diffusers' linear 1e-4 → 0.02). */
const VP_CHAIN = { betaMin: 0.1, betaMax: 20, numSteps: 1000 };

/**
 * The discrete chain for DDPM and DDIM, and the model on it: a denoiser runs on DDPM's linear chain as it is
 * (its σ maps onto any chain); a time model needs the VP SDE, whose chain's index i is time (i + 1)/N.
 */
export const discreteChain = <V>(
  d: ModelDescription,
  model: DiffusionModel<V>,
): E.Either<ScoreflowError, { readonly schedule: DdpmSchedule; readonly model: DiffusionModel<V> }> => {
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
