/**
 * Training losses of diffusion models, each one minibatch estimate with its gradient:
 * - denoising losses of a time model F(x_t, a·t) under any linear SDE, x_t = s(t)·x₀ + σ(t)·ε, t ~ U[t_min, T]:
 *   L = E_t E_{x₀,ε} w(t)·‖F(x_t, a·t) − P*(x₀, ε, t)‖², where P* is the target of F's parameterization
 *   (ε, x₀, v = (s·ε − σ·x₀)/√(s² + σ²), score −ε/σ) and the weighting is
 *     "simple": w = 1 in F's own space — L_simple of Ho et al. 2020, eq. 14, for ε; x₀- and v-prediction
 *       (Salimans & Ho 2022, §4) likewise;
 *     "sigma2": λ(t) = σ(t)² in score space — denoising score matching, Song et al. 2021, eq. 7, with the
 *       weighting of Song & Ermon 2019 (for ε-prediction this is L_simple again);
 *     "likelihood": λ(t) = g(t)² in score space — Song et al., "Maximum Likelihood Training of Score-Based
 *       Diffusion Models", NeurIPS 2021, Theorem 1 (the weighted loss bounds the negative log-likelihood);
 *   a score-space weight λ becomes w = λ·c², where c is the coefficient of F in score = c_x·x_t + c·F;
 * - the discrete L_simple of DDPM (Ho et al. 2020, Alg. 1 and eq. 14): i ~ U{0, …, N − 1},
 *   x = √ᾱᵢ·x₀ + √(1 − ᾱᵢ)·ε, L = ‖ε_θ(x, i) − ε‖² with the network fed the integer timestep i;
 * - the EDM loss (Karras et al. 2022, eq. 8 and Table 1): ln σ ~ N(P_mean, P_std²), n ~ N(0, σ²I),
 *   L = λ(σ)·‖D(x₀ + n; σ) − x₀‖² with λ(σ) = (σ² + σ_d²)/(σ·σ_d)² = 1/c_out(σ)², through the model's own
 *   preconditioning — σ_data lives in one place, the preconditioning record.
 * Every loss is a mean over samples and coordinates. Randomness comes from one key per step: times from
 * foldIn(key, 0) (uniform) or foldIn(key, 2) (normal, EDM's ln σ), noise from foldIn(key, 1).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { fillNormal, fillUniform, foldIn, type RngKey } from "../core/rng.js";
import type { Tensor } from "../core/tensor.js";
import { checkAll, checkOrdered, isFiniteNumber, isPositive } from "../core/validate.js";
import type { DdpmSchedule } from "../discrete/schedule.js";
import {
  type LossAndGradient,
  type Network,
  type NetworkGradients,
  networkGradients,
  type Parameters,
} from "../nets/network.js";
import { preconditionedNetwork, preconditioningCoefficients } from "../nets/precondition.js";
import type { ScoreModel } from "../nets/score-model.js";
import type { NetKernels } from "../nets/tape.js";
import { convertCoefficients, type Parameterization } from "../sde/parameterization.js";
import type { LinearSde } from "../sde/types.js";

/**
 * The weighting λ(t) of a denoising loss: `"simple"` (uniform in the network's own space), `"sigma2"` (σ(t)² in
 * score space) or `"likelihood"` (g(t)² in score space).
 *
 * @category Training
 */
export type LossWeighting = "simple" | "sigma2" | "likelihood";

/**
 * A training loss: continuous-time denoising, discrete DDPM L_simple, or EDM.
 *
 * @category Training
 */
export type TrainingLoss =
  | {
      /** Denoising loss of a time model under a linear SDE. */
      readonly kind: "denoising";
      /** The forward process. */
      readonly sde: LinearSde;
      /** λ(t). */
      readonly weighting: LossWeighting;
      /** t ~ U[tMin, sde.tMax]; tMin ≥ sde.tMin > … keeps σ(t) > 0 (score_sde uses 10⁻⁵ for VP). */
      readonly tMin: number;
    }
  | {
      /** DDPM's L_simple on a discrete schedule (ε-prediction, integer timesteps). */
      readonly kind: "ddpm";
      /** The β schedule. */
      readonly schedule: DdpmSchedule;
    }
  | {
      /** The EDM loss of a preconditioned denoiser. */
      readonly kind: "edm";
      /** P_mean of ln σ (−1.2 in EDM). */
      readonly pMean: number;
      /** P_std > 0 of ln σ (1.2 in EDM). */
      readonly pStd: number;
    };

/**
 * A denoising loss under `sde` with weighting λ, t ~ U[tMin, T]. Rules: tMin finite, sde.tMin ≤ tMin < sde.tMax,
 * σ(tMin) > 0.
 *
 * @category Training
 */
export const denoisingLoss = (
  sde: LinearSde,
  weighting: LossWeighting,
  tMin: number = sde.tMin,
): E.Either<ScoreflowError, TrainingLoss> => {
  const context = "denoising loss";
  const ok = checkOrdered(context, ["sde.tMin", sde.tMin], ["tMin", tMin], false);
  if (E.isLeft(ok)) return ok;
  const below = checkOrdered(context, ["tMin", tMin], ["sde.tMax", sde.tMax], true);
  if (E.isLeft(below)) return below;
  if (!(sde.std(tMin) > 0))
    return E.left(scoreflowError(context, "tMin", tMin, `must have σ(tMin) > 0 under ${sde.name}`));
  return E.right({ kind: "denoising", sde, weighting, tMin });
};

/**
 * The EDM loss with ln σ ~ N(pMean, pStd²); defaults P_mean = −1.2, P_std = 1.2 (Karras et al. 2022, Table 1).
 *
 * @category Training
 */
export const edmLoss = (pMean = -1.2, pStd = 1.2): E.Either<ScoreflowError, TrainingLoss> =>
  E.map(() => ({ kind: "edm" as const, pMean, pStd }))(
    checkAll("EDM loss", [
      ["pMean", pMean, isFiniteNumber],
      ["pStd", pStd, isPositive],
    ]),
  );

/** Weighted mean squared error L = (1/(N·D)) Σₙ wₙ‖yₙ − targetₙ‖², and ∂L/∂y = 2wₙ(yₙ − targetₙ)/(N·D). */
const weightedMse =
  (target: Float32Array, weights: ArrayLike<number>) =>
  (y: Tensor): LossAndGradient => {
    const n = weights.length;
    const d = target.length / n;
    const dOutput = new Float32Array(target.length);
    let loss = 0;
    for (let r = 0; r < n; r++) {
      let ss = 0;
      for (let j = r * d; j < (r + 1) * d; j++) {
        const e = y.data[j] - target[j];
        ss += e * e;
        dOutput[j] = (2 * weights[r] * e) / (n * d);
      }
      loss += weights[r] * ss;
    }
    return { loss: loss / (n * d), dOutput };
  };

/** The draws of one step: a uniform u ∈ [0, 1) and a standard normal z per row, and the noise ε. */
const draws = (key: RngKey, rows: number, size: number) => ({
  u: fillUniform(foldIn(key, 0), new Float64Array(rows)),
  z: fillNormal(foldIn(key, 2), new Float64Array(rows)),
  eps: fillNormal(foldIn(key, 1), new Float32Array(size)),
});

/** x = a·x₀ + b·ε per row, and the target p·x₀ + q·ε per row. */
const mix = (
  x0: Float32Array,
  eps: Float32Array,
  rows: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  p: ArrayLike<number>,
  q: ArrayLike<number>,
) => {
  const d = x0.length / rows;
  const x = new Float32Array(x0.length);
  const target = new Float32Array(x0.length);
  for (let r = 0; r < rows; r++)
    for (let j = r * d; j < (r + 1) * d; j++) {
      x[j] = a[r] * x0[j] + b[r] * eps[j];
      target[j] = p[r] * x0[j] + q[r] * eps[j];
    }
  return { x, target };
};

/** The target P* = p·x₀ + q·ε of each parameterization, given s, σ. */
const targetCoefficients = (param: Parameterization, s: number, sigma: number): readonly [number, number] => {
  switch (param) {
    case "eps":
      return [0, 1];
    case "x0":
      return [1, 0];
    case "score":
      return [0, -1 / sigma];
    case "v": {
      const r = Math.hypot(s, sigma);
      return [-sigma / r, s / r];
    }
  }
};

const mismatch = (loss: TrainingLoss, model: ScoreModel, rule: string): E.Either<ScoreflowError, never> =>
  E.left(
    scoreflowError("training loss", "loss.kind", loss.kind, rule, `loss ${loss.kind}, model ${model.kind}`),
  );

/**
 * What one minibatch of a loss asks of the network: a training pass of `network` at input x and conditioning
 * `noise`, with `loss` the weighted squared error of its output against the target.
 *
 * @category Training
 */
export interface LossPass {
  /** The network to differentiate (for the EDM loss, the preconditioned one). */
  readonly network: Network;
  /** Its input x = s·x₀ + σ·ε. */
  readonly x: Tensor;
  /** Its conditioning, one scalar per row. */
  readonly noise: Float64Array;
  /** L(y) and ∂L/∂y. */
  readonly loss: (y: Tensor) => LossAndGradient;
}

/**
 * The training pass of one minibatch of a loss (see {@link LossPass}), before any network runs: the batch x₀ is
 * [N, ...sampleShape]; `key` gives this step's times and noise (see the module notes). Rules: denoising and ddpm
 * losses take a time model (ddpm: ε-prediction), the EDM loss takes a denoiser.
 *
 * @category Training
 */
export const lossPass = (
  model: ScoreModel,
  loss: TrainingLoss,
  x0: Tensor,
  key: RngKey,
): E.Either<ScoreflowError, LossPass> => {
  const rows = x0.shape[0];
  const { u, z, eps } = draws(key, rows, x0.data.length);
  const run = (
    network: Network,
    x: Float32Array,
    noise: Float64Array,
    target: Float32Array,
    w: ArrayLike<number>,
  ): E.Either<ScoreflowError, LossPass> =>
    E.right({ network, x: { shape: x0.shape, data: x }, noise, loss: weightedMse(target, w) });
  switch (loss.kind) {
    case "edm": {
      if (model.kind !== "denoiser") return mismatch(loss, model, "edm needs a denoiser model");
      const sigmas = z.map((v) => Math.exp(loss.pMean + loss.pStd * v));
      const w = Array.from(sigmas, (s) => preconditioningCoefficients(model.preconditioning, s).cOut ** -2);
      const ones = new Float64Array(rows).fill(1);
      const zeros = new Float64Array(rows);
      const { x, target } = mix(x0.data, eps, rows, ones, sigmas, ones, zeros);
      return run(preconditionedNetwork(model.network, model.preconditioning), x, sigmas, target, w);
    }
    case "ddpm": {
      if (model.kind !== "time" || model.parameterization !== "eps")
        return mismatch(loss, model, "ddpm needs an ε-prediction time model");
      const n = loss.schedule.alphaBars.length;
      const steps = Float64Array.from(u, (v) => Math.min(n - 1, Math.floor(v * n)));
      const a = Array.from(steps, (i) => Math.sqrt(loss.schedule.alphaBars[i]));
      const b = Array.from(steps, (i) => Math.sqrt(loss.schedule.oneMinusAlphaBars[i]));
      const { x, target } = mix(
        x0.data,
        eps,
        rows,
        a,
        b,
        new Float64Array(rows),
        new Float64Array(rows).fill(1),
      );
      return run(
        model.network,
        x,
        steps.map((i) => model.timeScale * i),
        target,
        new Float64Array(rows).fill(1),
      );
    }
    case "denoising": {
      if (model.kind !== "time") return mismatch(loss, model, "denoising needs a time model");
      const { sde } = loss;
      const times = Float64Array.from(u, (v) => loss.tMin + (sde.tMax - loss.tMin) * v);
      const s = Array.from(times, (t) => sde.scale(t));
      const sigma = Array.from(times, (t) => sde.std(t));
      const pq = Array.from(times, (_, r) => targetCoefficients(model.parameterization, s[r], sigma[r]));
      const w = Array.from(times, (t, r) => {
        if (loss.weighting === "simple") return 1;
        const lambda = loss.weighting === "sigma2" ? sigma[r] ** 2 : sde.g(t) ** 2;
        const c = convertCoefficients(model.parameterization, "score", { scale: s[r], std: sigma[r] }).cp;
        return lambda * c * c;
      });
      const { x, target } = mix(
        x0.data,
        eps,
        rows,
        s,
        sigma,
        pq.map((v) => v[0]),
        pq.map((v) => v[1]),
      );
      return run(
        model.network,
        x,
        times.map((t) => model.timeScale * t),
        target,
        w,
      );
    }
  }
};

/**
 * One minibatch of a loss and its gradient with respect to every trainable parameter: {@link lossPass} run by
 * `networkGradients`. Rules as for `lossPass`, and x₀ finite with the network's sample shape.
 *
 * @category Training
 */
export const lossGradients = (
  kernels: NetKernels,
  model: ScoreModel,
  loss: TrainingLoss,
  parameters: Parameters,
  x0: Tensor,
  key: RngKey,
): E.Either<ScoreflowError, NetworkGradients> =>
  E.flatMap(lossPass(model, loss, x0, key), (p: LossPass) =>
    networkGradients(kernels, p.network, parameters, p.x, p.noise, p.loss),
  );

/**
 * The EDM loss for data of RMS σ_data: EDM's P_mean = −1.2 was chosen for σ_data = 0.5, so it is shifted by
 * ln(σ_data/0.5) to draw σ around the same fraction of the data's scale; P_std = 1.2. Rule: σ_data finite > 0.
 *
 * Source: Karras et al. 2022, Table 1 and §5 (the training noise distribution relative to σ_data).
 *
 * @category Training
 */
export const edmLossForData = (sigmaData: number): E.Either<ScoreflowError, TrainingLoss> =>
  E.flatMap(checkAll("EDM loss", [["sigmaData", sigmaData, isPositive]]), () =>
    edmLoss(-1.2 + Math.log(sigmaData / 0.5), 1.2),
  );
