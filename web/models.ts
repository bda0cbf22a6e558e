/**
 * The models of the playground, as functions of plain inputs (shared by the page and its tests):
 * - the exact score of a Gaussian mixture standing in for a toy: the eight-Gaussians toy is a mixture exactly
 *   (`ringMixture`); the other toys get K Gaussians with diagonal covariances fitted by k-means, whose score,
 *   denoiser and marginals are exact for that mixture at every t of every linear SDE (`mixturePosteriorMean`);
 * - a trained network from the files `scoreflow export` writes (`model.json` + `weights.safetensors`), checked
 *   as far as a page can: the manifest's format, the weights' size and SHA-256, the safetensors header, the
 *   description rebuilt by `buildScoreModel` and the weights checked against the network by `checkParameters`;
 * - a network trained on the page: the demo's recipe (MLP, EDM loss and preconditioning) at a smaller budget.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import {
  type AsyncDiffusionModel,
  buildScoreModel,
  checkParameters,
  type DdpmSchedule,
  type DiffusionModel,
  discreteChain,
  edmLossForData,
  fillUniform,
  foldIn,
  type GaussianMixture,
  gaussianMixture,
  initTrainState,
  isRecord,
  type JsonValue,
  type ModelDescription,
  mixturePosteriorMean,
  type NetKernels,
  type Parameters,
  type RngKey,
  readSafetensors,
  ringMixture,
  rngKey,
  type ScoreModel,
  samplerModel,
  samplerModelWebgpu,
  type Tensor,
  TOYS,
  type ToyName,
  type TrainConfig,
  type TrainingLoss,
  type TrainState,
  tensorBatchSpace,
  trainConfig,
  vpDdpmSchedule,
  type WebgpuNetKernels,
  zeros32,
} from "scoreflow";

/** Points drawn from a toy to fit its stand-in mixture. */
const FIT_POINTS = 4000;
/** Lloyd iterations of the fit. */
const FIT_ITERATIONS = 30;
/** The smallest variance of a fitted component (a cluster of identical points would otherwise be singular). */
const MIN_VARIANCE = 1e-3;

/** The k-means++ seeding (Arthur & Vassilvitskii 2007): each next center drawn with probability ∝ D(x)². */
const seedCenters = (points: Float64Array, n: number, k: number, key: RngKey): Float64Array => {
  const u = fillUniform(key, new Float64Array(k));
  const centers = new Float64Array(2 * k);
  const nearest = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let chosen = Math.min(n - 1, Math.floor(u[0] * n));
  for (let c = 0; c < k; c++) {
    centers[2 * c] = points[2 * chosen];
    centers[2 * c + 1] = points[2 * chosen + 1];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = (points[2 * i] - centers[2 * c]) ** 2 + (points[2 * i + 1] - centers[2 * c + 1]) ** 2;
      if (d < nearest[i]) nearest[i] = d;
      total += nearest[i];
    }
    if (c + 1 < k) {
      let target = u[c + 1] * total;
      chosen = n - 1;
      for (let i = 0; i < n; i++) {
        target -= nearest[i];
        if (target < 0) {
          chosen = i;
          break;
        }
      }
    }
  }
  return centers;
};

/**
 * The Gaussian mixture standing in for a toy: eight Gaussians exactly (the toy's radius 4/1.414 and standard
 * deviation 0.5/1.414, FFJORD's literal 1.414 kept); any other toy by k-means (k-means++ seeding from `key`, 30
 * Lloyd iterations) on 4000 of its points drawn from `key`, each non-empty cluster a component with its share of
 * the points as weight, its centroid as mean and its per-axis variance (≥ 10⁻³) as diagonal covariance.
 */
export const toyMixture = (
  toy: ToyName,
  key: RngKey,
  components = 48,
): E.Either<{ readonly message: string }, GaussianMixture> => {
  if (toy === "eightGaussians")
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: FFJORD's literal divisor, as in the toy, not √2
    return ringMixture({ components: 8, radius: 4 / 1.414, std: 0.5 / 1.414 });
  const n = FIT_POINTS;
  const points = Float64Array.from(TOYS[toy](foldIn(key, 0), n).data);
  const centers = seedCenters(points, n, components, foldIn(key, 1));
  const assignment = new Int32Array(n);
  const counts = new Float64Array(components);
  const sums = new Float64Array(2 * components);
  for (let iteration = 0; iteration < FIT_ITERATIONS; iteration++) {
    counts.fill(0);
    sums.fill(0);
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Number.POSITIVE_INFINITY;
      for (let c = 0; c < components; c++) {
        const d = (points[2 * i] - centers[2 * c]) ** 2 + (points[2 * i + 1] - centers[2 * c + 1]) ** 2;
        if (d < bestD) [best, bestD] = [c, d];
      }
      assignment[i] = best;
      counts[best]++;
      sums[2 * best] += points[2 * i];
      sums[2 * best + 1] += points[2 * i + 1];
    }
    for (let c = 0; c < components; c++) {
      if (counts[c] === 0) continue;
      centers[2 * c] = sums[2 * c] / counts[c];
      centers[2 * c + 1] = sums[2 * c + 1] / counts[c];
    }
  }
  const squares = new Float64Array(2 * components);
  for (let i = 0; i < n; i++) {
    const c = assignment[i];
    squares[2 * c] += (points[2 * i] - centers[2 * c]) ** 2;
    squares[2 * c + 1] += (points[2 * i + 1] - centers[2 * c + 1]) ** 2;
  }
  const kept = Array.from({ length: components }, (_, c) => c).filter((c) => counts[c] > 0);
  return gaussianMixture({
    weights: kept.map((c) => counts[c] / n),
    means: kept.map((c) => [centers[2 * c], centers[2 * c + 1]]),
    variances: kept.map((c) => [
      Math.max(MIN_VARIANCE, squares[2 * c] / counts[c]),
      Math.max(MIN_VARIANCE, squares[2 * c + 1] / counts[c]),
    ]),
  });
};

/**
 * The exact denoiser of mixture data, D(x̂; σ) = E[x₀ | x₀ + σ·n = x̂] (`mixturePosteriorMean` with s = 1), as a
 * model over float32 batches: a denoiser is meaningful under every linear SDE and on the DDPM chain, so every
 * sampler family takes it (computed in float64, rounded to float32 like a network's output).
 */
export const mixtureModel = (gm: GaussianMixture): DiffusionModel<Tensor> => ({
  parameterization: "denoiser",
  denoise: (xHat, sigma) => {
    const y = mixturePosteriorMean(
      gm,
      { scale: 1, std: sigma },
      { shape: xHat.shape, data: Float64Array.from(xHat.data) },
    );
    return { shape: y.shape, data: Float32Array.from(y.data) };
  },
});

/** DDPM's chain of the VP SDE (β from 0.1 to 20 over 1000 steps), on which DDPM and DDIM run a denoiser. */
export const vpChain = (): E.Either<{ readonly message: string }, DdpmSchedule> =>
  vpDdpmSchedule({ betaMin: 0.1, betaMax: 20, numSteps: 1000 });

/** A network ready to sample: its description, meaning, checked weights and where they came from. */
export interface LoadedNetwork {
  /** The model description stored in model.json. */
  readonly description: ModelDescription;
  /** The network with its meaning. */
  readonly model: ScoreModel;
  /** The weights, checked against the network. */
  readonly parameters: Parameters;
  /** model.json's provenance, verbatim. */
  readonly provenance: JsonValue;
  /** What was verified, one phrase each, for the page. */
  readonly verified: readonly string[];
}

/**
 * A network from the two files of an exported model. `sha256` is the hex SHA-256 of `weights` when the caller
 * could compute it (WebCrypto exists only in secure contexts), compared with model.json's; `undefined` skips
 * that check and says so. Every failure is one sentence.
 */
export const networkFromFiles = (
  manifestText: string,
  weights: Uint8Array,
  sha256: string | undefined,
): E.Either<string, LoadedNetwork> => {
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestText);
  } catch {
    return E.left("model.json is not JSON");
  }
  if (!isRecord(manifest) || manifest.format !== "scoreflow-model" || !isRecord(manifest.weights))
    return E.left("model.json is not a scoreflow-model manifest");
  const verified = ["manifest format scoreflow-model"];
  if (manifest.weights.bytes !== weights.length)
    return E.left(
      `weights.safetensors has ${weights.length} bytes; model.json says ${manifest.weights.bytes}`,
    );
  verified.push(`size ${weights.length} bytes`);
  if (sha256 !== undefined) {
    if (manifest.weights.sha256 !== sha256)
      return E.left("weights.safetensors does not match the SHA-256 in model.json");
    verified.push("SHA-256");
  }
  const tensors = readSafetensors(weights);
  if (E.isLeft(tensors)) return E.left(tensors.left.message);
  verified.push("safetensors header");
  const description = manifest.model as unknown as ModelDescription;
  if (!isRecord(manifest.model) || !isRecord(manifest.model.network) || !isRecord(manifest.model.output))
    return E.left("model.json holds no model description");
  const model = buildScoreModel(description);
  if (E.isLeft(model))
    return E.left(`model.json describes no model this version builds: ${model.left.message}`);
  const shape = model.right.network.sampleShape;
  if (shape.length !== 1 || shape[0] !== 2)
    return E.left(`the network samples [${shape.join(", ")}], not 2-D points`);
  const parameters = checkParameters(model.right.network, tensors.right.tensors);
  if (E.isLeft(parameters)) return E.left(parameters.left.message);
  verified.push(`${tensors.right.tensors.size} tensors against the network`);
  return E.right({
    description,
    model: model.right,
    parameters: parameters.right,
    provenance: (manifest.provenance ?? null) as JsonValue,
    verified,
  });
};

/** A network as samplers take it: the continuous model and the DDPM chain with the model on it. */
export interface NetworkSampler {
  /** The model of the continuous samplers. */
  readonly model: DiffusionModel<Tensor>;
  /** The chain of DDPM and DDIM. */
  readonly schedule: DdpmSchedule;
  /** The model on the chain. */
  readonly discreteModel: DiffusionModel<Tensor>;
}

/** `samplerModel` and `discreteChain` of a network, as the command line's `sample` builds them. */
export const networkSampler = (
  kernels: NetKernels,
  description: ModelDescription,
  model: ScoreModel,
  parameters: Parameters,
): E.Either<{ readonly message: string }, NetworkSampler> => {
  const sampler = samplerModel(kernels, model, parameters);
  return E.map((chain: { readonly schedule: DdpmSchedule; readonly model: DiffusionModel<Tensor> }) => ({
    model: sampler,
    schedule: chain.schedule,
    discreteModel: chain.model,
  }))(discreteChain(description, sampler));
};

/** A network sampled on the GPU: its asynchronous model, and the discrete chain's model made from any model. */
export interface GpuNetworkSampler {
  /** The network's model, evaluated by `forwardNetworkWebgpu`. */
  readonly model: AsyncDiffusionModel<Tensor>;
  /** DDPM's and DDIM's model on the chain, from the (replayed) model. */
  readonly discrete: (model: DiffusionModel<Tensor>) => DiffusionModel<Tensor>;
}

/**
 * The network of a description on the GPU (see `samplerModelWebgpu`), with the chain's model derived as
 * {@link networkSampler} derives it; a Left when the chain does not apply (a time model of another SDE than VP).
 */
export const gpuNetworkSampler = (
  kernels: WebgpuNetKernels,
  description: ModelDescription,
  model: ScoreModel,
  parameters: Parameters,
): E.Either<{ readonly message: string }, GpuNetworkSampler> => {
  const gpuModel = samplerModelWebgpu(kernels, model, parameters);
  // Whether the chain applies depends on the model's kind and SDE only: check it once, on a stand-in of that kind.
  const kind: DiffusionModel<Tensor> =
    gpuModel.parameterization === "denoiser"
      ? { parameterization: "denoiser", denoise: (x) => x }
      : { parameterization: gpuModel.parameterization, predict: (x) => x };
  return E.map(() => ({
    model: gpuModel,
    discrete: (m: DiffusionModel<Tensor>) => {
      const chain = discreteChain(description, m);
      if (E.isLeft(chain)) throw new Error(chain.left.message); // checked above for this kind of model
      return chain.right.model;
    },
  }))(discreteChain(description, kind));
};

/** Everything a training run on the page needs. */
export interface TrainingRun {
  /** The description of the network being trained. */
  readonly description: ModelDescription;
  /** The network with its meaning. */
  readonly model: ScoreModel;
  /** EDM's loss, centred on the data's scale. */
  readonly loss: TrainingLoss;
  /** The run's configuration. */
  readonly config: TrainConfig;
  /** The state before the first step. */
  readonly state: TrainState;
  /** The training points [M, 2]. */
  readonly data: Tensor;
}

/** Training points drawn for a run on the page. */
const TRAINING_POINTS = 20_000;

/**
 * A run of the demo's recipe on `toy`: an MLP of width 64 with 2 residual blocks as an EDM-preconditioned
 * denoiser (σ_data the data RMS, P_mean shifted by ln(σ_data/0.5)), Adam at 3·10⁻³ with warm-up and cosine
 * decay to 1/20, batch 128, EMA with a half-life of 10 000 samples; data and initialization from `seed`.
 */
export const trainingRun = (
  toy: ToyName,
  seed: number,
  steps: number,
  key: RngKey,
): E.Either<{ readonly message: string }, TrainingRun> => {
  const data = TOYS[toy](foldIn(key, 1), TRAINING_POINTS);
  const sigmaData = Math.sqrt(data.data.reduce((a, v) => a + v * v, 0) / data.data.length);
  const description: ModelDescription = {
    network: { kind: "mlp", config: { dataDim: 2, width: 64, blocks: 2, frequencies: 16, fourierScale: 1 } },
    output: { kind: "denoiser", preconditioning: { kind: "edm", sigmaData } },
    sde: "vp",
    data: { kind: "toy", name: toy },
  };
  const lr = 3e-3;
  return pipe(
    E.Do,
    E.bind("model", () => buildScoreModel(description)),
    E.bind("loss", () => edmLossForData(sigmaData)),
    E.bind("config", () =>
      trainConfig({
        steps,
        batchSize: 128,
        optimizer: { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false },
        schedule: {
          kind: "warmupCosine",
          baseLr: lr,
          warmupSteps: Math.min(100, Math.floor(steps / 10)),
          totalSteps: steps,
          minLr: lr / 20,
        },
        ema: { kind: "halfLife", options: { halfLifeSamples: 10_000, rampupRatio: 0.05 } },
        seed,
        logEvery: 10,
        checkpointEvery: steps,
      }),
    ),
    E.bind("state", ({ model, config }) => initTrainState(model.network, config)),
    E.map(({ model, loss, config, state }) => ({ description, model, loss, config, state, data })),
  );
};

/** The seed of the stand-in mixtures' fits: the exact model of a toy is one fixed mixture, whatever the seed. */
export const MIXTURE_SEED = 0;

/** The exact model of a toy's stand-in mixture, fitted from seed {@link MIXTURE_SEED}, and the mixture. */
export const exactModel = (
  toy: ToyName,
): E.Either<
  { readonly message: string },
  { readonly mixture: GaussianMixture; readonly model: DiffusionModel<Tensor> }
> =>
  pipe(
    rngKey(MIXTURE_SEED),
    E.flatMap((key) => toyMixture(toy, key)),
    E.map((mixture) => ({ mixture, model: mixtureModel(mixture) })),
  );

/**
 * The noise and key of a sampling run, as `scoreflow sample --seed` draws them: with key = rngKey(seed), the
 * noise [n, 2] from foldIn(key, 0) and the samplers' key foldIn(key, 1).
 */
export const samplingInputs = (
  seed: number,
  n: number,
): E.Either<{ readonly message: string }, { readonly noise: Tensor; readonly key: RngKey }> =>
  E.map((key: RngKey) => ({
    noise: tensorBatchSpace<Float32Array>().normalLike(foldIn(key, 0), zeros32([n, 2])),
    key: foldIn(key, 1),
  }))(rngKey(seed));
