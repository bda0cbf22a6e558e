/**
 * Annealed Langevin dynamics (Song & Ermon 2019, "Generative Modeling by Estimating Gradients of the Data
 * Distribution", NeurIPS, §4.3, Alg. 1 — the NCSN sampler): Langevin dynamics on the noised data distribution
 * at a decreasing sequence of noise levels, each level started from the last state of the previous one.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { foldIn, type RngKey } from "../core/rng.js";
import { allFinite, type VectorSpace } from "../core/tensor.js";
import { checkAll, isPositive, isPositiveInteger } from "../core/validate.js";
import { noiseLevel } from "../sde/marginals.js";
import type { LinearSde } from "../sde/types.js";
import {
  checkFiniteState,
  collectSolution,
  type Solution,
  type SolveError,
  type SolveOptions,
  type SolverStep,
  type SolverSteps,
  solveFailure,
} from "../solvers/solution.js";
import { denoiseFinalStep } from "./denoise-final.js";
import { type DiffusionModel, scoreOf } from "./model.js";
import { checkSamplerKey } from "./sampler-key.js";

/**
 * Options of annealed Langevin dynamics.
 *
 * @category Samplers
 */
export interface AnnealedLangevinOptions extends SolveOptions {
  /**
   * The noise levels σ_1 > σ_2 > … > σ_L > 0, strictly decreasing, within the SDE's range
   * [σ(tMin), σ(tMax)] (to a relative 10⁻⁶). NCSN uses L = 10 levels, geometric from 1 to 0.01:
   * `gridUniformIn(Math.log, Math.exp, 1, 0.01, 9)`.
   */
  readonly noiseLevels: ArrayLike<number>;
  /** T, the Langevin steps per noise level: an integer ≥ 1 (NCSN: 100). */
  readonly stepsPerLevel: number;
  /** ε > 0, the step size at the last level σ_L (NCSN: 2·10⁻⁵). */
  readonly stepSize: number;
  /** The key: global step k (level i, inner step j, k = i·T + j) draws `normalLike(foldIn(key, k), ·)`. */
  readonly key: RngKey;
  /**
   * Return Tweedie's E[x₀ | x] = x + σ_L²·∇log p_{σ_L}(x) of the last state (one more model evaluation, a step
   * to t = 0). Default `false`: Alg. 1 returns the last Langevin state, a sample of the noised p_{σ_L}.
   */
  readonly denoiseFinal?: boolean;
}

const CONTEXT = "sampleAnnealedLangevin";
/** Relative slack on the noise-level range, so that σ_1 = σmax is accepted when σ(tMax) rounds just below. */
const RANGE_SLACK = 1e-6;
/** How far s(t) may be from 1. */
const SCALE_TOLERANCE = 1e-12;

/** Left unless s(t) = 1 (to 10⁻¹²) at tMin, tMax and three times between: annealed Langevin is for f = 0. */
const checkUnitScale = (sde: LinearSde): E.Either<ScoreflowError, void> => {
  for (let i = 0; i <= 4; i++) {
    const t = sde.tMin + ((sde.tMax - sde.tMin) * i) / 4;
    const s = sde.scale(t);
    if (!(Math.abs(s - 1) <= SCALE_TOLERANCE)) {
      return E.left(
        scoreflowError(
          CONTEXT,
          "sde",
          sde.name,
          "must have scale s(t) = 1 (a variance-exploding SDE such as VE or EDM)",
          `${sde.name} SDE with s(${t}) = ${s}`,
        ),
      );
    }
  }
  return E.right(undefined);
};

/** The time t = `timeOfNoiseLevel(σ)` of a noise level, clamped into [tMin, tMax]. */
const levelTime = (sde: LinearSde, sigma: number): number =>
  Math.min(sde.tMax, Math.max(sde.tMin, sde.timeOfNoiseLevel(sigma)));

/**
 * Checks the levels (at least one; finite, strictly decreasing, within the SDE's noise range) and maps each to
 * its time by {@link levelTime}.
 */
const levelTimes = (sde: LinearSde, levels: ArrayLike<number>): E.Either<ScoreflowError, Float64Array> => {
  if (!(levels.length >= 1)) {
    return E.left(scoreflowError(CONTEXT, "noiseLevels", levels, "must hold at least one noise level"));
  }
  const lo = noiseLevel(sde, sde.tMin);
  const hi = noiseLevel(sde, sde.tMax);
  for (let i = 0; i < levels.length; i++) {
    const sigma = levels[i];
    const inRange = sigma >= lo * (1 - RANGE_SLACK) && sigma <= hi * (1 + RANGE_SLACK);
    if (!(Number.isFinite(sigma) && inRange && (i === 0 || sigma < levels[i - 1]))) {
      return E.left(
        scoreflowError(
          CONTEXT,
          `noiseLevels[${i}]`,
          sigma,
          `must be finite, strictly decreasing and within the ${sde.name} SDE's noise range [σ(tMin), σ(tMax)] = [${lo}, ${hi}]`,
        ),
      );
    }
  }
  return E.right(Float64Array.from(levels, (sigma) => levelTime(sde, sigma)));
};

/**
 * Annealed Langevin dynamics as an iterator (Song & Ermon 2019, Alg. 1): from x = σ_1·noise (N(0, σ_1²I),
 * which stands for p_{σ_1} when σ_1 dominates the data's scale; NCSN draws its start uniformly instead), for
 * each level i = 1 … L with step α_i = ε·σ_i²/σ_L², run T steps of
 *
 *   x ← x + (α_i/2)·∇log p_{σ_i}(x) + √α_i·z,  z = `normalLike(foldIn(key, k), x)` at global step k,
 *
 * where p_{σ} is the data convolved with N(0, σ²I): the SDE's marginal at t_i = `sde.timeOfNoiseLevel(σ_i)`,
 * whose score is `scoreOf(space, sde, model)(x, t_i)`. α_i ∝ σ_i² keeps the signal-to-noise ratio of the
 * updates fixed across levels (Song & Ermon 2019, §4.3). For T → ∞ and ε → 0 each level samples p_{σ_i}
 * exactly; for finite ε the last level samples p_{σ_L} with the O(ε) bias of unadjusted Langevin.
 *
 * The SDE must have s(t) = 1 (VE, EDM or a custom SDE with f = 0), so that the state is the noised data x₀ + σ·n
 * of Alg. 1 with σ the noise level; any other SDE is a `Left`. Yields {step, t, y, nfe} after every Langevin step
 * (L·T records, t = t_i, one model evaluation each) and, with `denoiseFinal`, one record at t = 0 with Tweedie's
 * E[x₀ | x]. Returns `Left` on bad options, a bad key, non-finite noise, or a `nonFinite` failure.
 *
 * @param noise - A standard normal draw shaped like the output, e.g. `space.normalLike(key, zeros)`.
 * @category Samplers
 */
export function* annealedLangevinSteps<V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  noise: V,
  options: AnnealedLangevinOptions,
): SolverSteps<V> {
  const { noiseLevels, stepsPerLevel, stepSize, key } = options;
  const input = pipe(
    checkUnitScale(sde),
    E.flatMap(() =>
      checkAll(CONTEXT, [
        ["stepsPerLevel", stepsPerLevel, isPositiveInteger],
        ["stepSize", stepSize, isPositive],
      ]),
    ),
    E.flatMap(() => checkSamplerKey(CONTEXT, key)),
    E.flatMap(() => checkFiniteState(space, CONTEXT, "noise", noise)),
    E.flatMap(() => levelTimes(sde, noiseLevels)),
  );
  if (E.isLeft(input)) return input;
  const times = input.right;
  const score = scoreOf(space, sde, model);
  const sigmaLast = noiseLevels[noiseLevels.length - 1];
  function* steps(): SolverSteps<V> {
    let x = space.combine([[noiseLevels[0], noise]]);
    let last: SolverStep<V> = { step: 0, t: times[0], y: x, nfe: 0 };
    for (let i = 0; i < times.length; i++) {
      const alpha = (stepSize * noiseLevels[i] ** 2) / sigmaLast ** 2;
      for (let j = 0; j < stepsPerLevel; j++) {
        const k = i * stepsPerLevel + j;
        x = space.combine([
          [1, x],
          [alpha / 2, score(x, times[i])],
          [Math.sqrt(alpha), space.normalLike(foldIn(key, k), x)],
        ]);
        if (!allFinite(space, x)) return E.left(solveFailure(CONTEXT, "nonFinite", k + 1, times[i]));
        last = { step: k + 1, t: times[i], y: x, nfe: k + 1 };
        yield last;
      }
    }
    return E.right(last);
  }
  return yield* options.denoiseFinal === true
    ? denoiseFinalStep(space, sde, model, steps(), CONTEXT)
    : steps();
}

/**
 * Samples by annealed Langevin dynamics (see {@link annealedLangevinSteps}): `y` holds the samples, `nfe` the
 * model evaluations (L·T, plus one with `denoiseFinal`). Built on {@link annealedLangevinSteps}: same checks,
 * same failures.
 *
 * @param noise - A standard normal draw shaped like the output; the chain starts at `noiseLevels[0]·noise`.
 * @category Samplers
 */
export const sampleAnnealedLangevin = <V>(
  space: VectorSpace<V>,
  sde: LinearSde,
  model: DiffusionModel<V>,
  noise: V,
  options: AnnealedLangevinOptions,
): E.Either<SolveError, Solution<V>> =>
  collectSolution(
    annealedLangevinSteps(space, sde, model, noise, options),
    levelTime(sde, options.noiseLevels[0]),
    space.combine([[options.noiseLevels[0], noise]]),
    options,
  );
