/**
 * Exact log-likelihoods through an ODE flow by the instantaneous change of variables (Chen et al. 2018,
 * "Neural Ordinary Differential Equations", NeurIPS, Thm. 1; Grathwohl et al. 2019, "FFJORD", ICLR, eq. 4;
 * Song et al. 2021, "Score-Based Generative Modeling through SDEs", ICLR, App. D.2, eq. 39–40): along
 * dx/dt = v(x, t),
 *
 *   log p_{t₀}(x(t₀)) = log p_T(x(T)) + ∫_{t₀}^T ∇·v(x(t), t) dt.
 *
 * The points x (a batch [n, d]) and their accumulated divergence Δ (one number per row) are integrated together
 * as one state (x, Δ) in the product of the tensor space and the float64 space ({@link productSpace}): the
 * caller's vector field sees its own [n, d] tensors, never a packed copy, and the solver's error control covers
 * Δ as well as x, as score_sde's solve over the concatenated vector does.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import type { RngKey } from "../core/rng.js";
import { float64Space, size, type Tensor64, tensor, tensorSpace } from "../core/tensor.js";
import { checkAll, isFiniteNumber, isNonNegative, isPositive, isPositiveInteger } from "../core/validate.js";
import { priorLogDensity } from "../sde/prior.js";
import type { LinearSde } from "../sde/types.js";
import { toSde } from "../sde/types.js";
import { type AdaptiveSolution, solveOdeAdaptive } from "../solvers/adaptive.js";
import { odeDopri5 } from "../solvers/dopri5.js";
import type { SolveError } from "../solvers/solution.js";
import type { OdeTerm } from "../solvers/term.js";
import { bitsPerDim } from "./dequantize.js";
import {
  type BatchDivergence,
  type BatchField,
  finiteDifferenceDivergence,
  hutchinsonDivergence,
  hutchinsonProbes,
  type ProbeDistribution,
} from "./divergence.js";
import { probabilityFlow } from "./probability-flow.js";
import { productSpace } from "./product-space.js";
import type { Ode } from "./types.js";

/**
 * The exact divergence by central differences ({@link finiteDifferenceDivergence}): 2d extra calls of the field
 * per evaluation; for low dimensions.
 *
 * @category Likelihood
 */
export interface ExactDivergenceMethod {
  /** Marks the finite-difference trace. */
  readonly kind: "exact";
}

/**
 * The Hutchinson–Skilling estimator ({@link hutchinsonDivergence}) with one probe per row drawn once from `key`
 * and kept for the whole solve (Grathwohl et al. 2019, §3.1): 2 extra calls per evaluation, any dimension, an
 * unbiased estimate of the log-likelihood.
 *
 * @category Likelihood
 */
export interface HutchinsonDivergenceMethod {
  /** Marks the Hutchinson estimator. */
  readonly kind: "hutchinson";
  /** The key of the probes; row r uses `foldIn(key, r)`. */
  readonly key: RngKey;
  /** Rademacher (lower variance) or Gaussian probes. */
  readonly probe: ProbeDistribution;
}

/**
 * A divergence the caller computes, e.g. `probabilityFlowDivergence(sde, oracleScoreDivergence(oracle))`: no
 * extra calls of the field.
 *
 * @category Likelihood
 */
export interface AnalyticDivergenceMethod {
  /** Marks a caller-provided divergence. */
  readonly kind: "analytic";
  /** ∇·v(x_r, t) for every row r of x, length n. */
  readonly divergence: BatchDivergence;
}

/**
 * How the likelihood solve computes ∇·v.
 *
 * @category Likelihood
 */
export type DivergenceMethod = ExactDivergenceMethod | HutchinsonDivergenceMethod | AnalyticDivergenceMethod;

/**
 * Options of a likelihood solve; every field has a default.
 *
 * @category Likelihood
 */
export interface LikelihoodOptions {
  /** How ∇·v is computed (default `{ kind: "exact" }`). */
  readonly divergence?: DivergenceMethod;
  /**
   * The start time t₀ in [0, T), where the data sit (default the ODE's tMin; Song et al. 2021, App. D.2, use
   * ε = 10⁻⁵). The result is log p_{t₀}, the density of the marginal at t₀.
   */
  readonly t0?: number;
  /** Relative tolerance of the Dormand–Prince solve, finite and ≥ 0 (default 10⁻⁵, as score_sde). */
  readonly rtol?: number;
  /** Absolute tolerance of the Dormand–Prince solve, finite and > 0 (default 10⁻⁵, as score_sde). */
  readonly atol?: number;
  /** Most step attempts, an integer ≥ 1 (default the solver's, 10 000). */
  readonly maxSteps?: number;
}

/**
 * The outcome of a likelihood solve, per row of the batch.
 *
 * @category Likelihood
 */
export interface LikelihoodResult {
  /** log p_{t₀}(x_r) in nats, length n. */
  readonly logLikelihood: Float64Array;
  /** −log p_{t₀}(x_r)/(d·ln 2), length n (for discrete data use `discreteBitsPerDim`). */
  readonly bitsPerDim: Float64Array;
  /** The prior term log p_T(x_r(T)) of `logLikelihood`, length n; the rest is ∫ ∇·v dt. */
  readonly logPrior: Float64Array;
  /** The latents x(T), shape [n, d]. */
  readonly latent: Tensor64;
  /**
   * Batched calls of the vector field: one boundary check at (x, t₀), then per evaluation of the augmented field
   * 1 call plus those of the divergence (2d exact, 2 Hutchinson, 0 analytic).
   */
  readonly nfe: number;
  /** Accepted Dormand–Prince steps. */
  readonly steps: number;
}

/** score_sde's default tolerances for the likelihood solve (`likelihood.py`, rtol = atol = 1e-5). */
const DEFAULT_TOLERANCE = 1e-5;

/** Validates the batch [n, d] and the options, and returns t₀. */
const checkInputs = (
  context: string,
  tMax: number,
  tMinDefault: number,
  x: Tensor64,
  options: LikelihoodOptions,
): E.Either<ScoreflowError, number> => {
  if (x.shape.length !== 2) {
    return E.left(scoreflowError(context, "x.shape", x.shape, "must be [n, d] (one point per row)"));
  }
  const batch = tensor(x.shape, x.data);
  if (E.isLeft(batch)) {
    const { field, value, rule } = batch.left;
    return E.left(scoreflowError(context, `x.${field}`, value, rule));
  }
  const t0 = options.t0 ?? tMinDefault;
  return E.map(() => t0)(
    checkAll(context, [
      [
        "t0",
        t0,
        { test: (t) => isFiniteNumber.test(t) && t >= 0 && t < tMax, rule: `must lie in [0, ${tMax})` },
      ],
      ["rtol", options.rtol ?? DEFAULT_TOLERANCE, isNonNegative],
      ["atol", options.atol ?? DEFAULT_TOLERANCE, isPositive],
      ...(options.maxSteps === undefined ? [] : [["maxSteps", options.maxSteps, isPositiveInteger] as const]),
    ]),
  );
};

/** Checks that a function's output at the start has the expected shape and finite entries. */
const checkOutput = (
  context: string,
  field: string,
  output: Tensor64,
  expected: readonly number[],
): E.Either<ScoreflowError, void> => {
  const { shape, data } = output;
  if (
    shape.length !== expected.length ||
    shape.some((s, i) => s !== expected[i]) ||
    data.length !== size(expected)
  ) {
    return E.left(
      scoreflowError(
        context,
        field,
        shape,
        `must have shape [${expected.join(", ")}]`,
        `shape=[${shape.join(", ")}] with ${data.length} entries`,
      ),
    );
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]))
      return E.left(scoreflowError(context, `${field}[${i}]`, data[i], "must be finite"));
  }
  return E.right(undefined);
};

/** A vector as a rank-1 tensor. */
const vector = (data: Float64Array): Tensor64 => ({ shape: [data.length], data });

/** The divergence of the chosen method and its cost in calls of the field per evaluation. */
const divergenceOf = (
  method: DivergenceMethod,
  field: BatchField,
  n: number,
  d: number,
): readonly [divergence: BatchDivergence, calls: number] => {
  switch (method.kind) {
    case "exact":
      return [(x, t) => finiteDifferenceDivergence(field, x, t), 2 * d];
    case "hutchinson": {
      const probes = hutchinsonProbes(method.key, method.probe, n, d);
      return [(x, t) => hutchinsonDivergence(field, x, t, probes), 2];
    }
    case "analytic":
      return [method.divergence, 0];
  }
};

/**
 * The log-likelihood of every row of x under an ODE flow dx/dt = v(x, t) and a terminal density p_T, by the
 * instantaneous change of variables (Chen et al. 2018, Thm. 1; Grathwohl et al. 2019, eq. 4; Song et al. 2021,
 * App. D.2, eq. 39–40): the augmented state (x, Δ) with dx/dt = v(x, t), dΔ/dt = ∇·v(x, t), x(t₀) = x,
 * Δ(t₀) = 0 is integrated from t₀ to T = `ode.tMax` by adaptive Dormand–Prince 5(4) (`odeDopri5`, rtol/atol
 * error control over x and Δ together), and
 *
 *   log p_{t₀}(x) = log p_T(x(T)) + Δ(T).
 *
 * The field must act row by row (row r of v depends on row r of x only); the rows share the step sizes.
 * Returns a Left (a `ScoreflowError`) when x is not a finite [n, d] tensor, when t₀ ∉ [0, T), rtol < 0,
 * atol ≤ 0 or maxSteps is not an integer ≥ 1, or when v(x, t₀) (or an analytic divergence) has the wrong shape or
 * non-finite entries; a `SolveFailure` when the solve breaks down.
 *
 * @param ode - the flow, over batches [n, d]; T = `ode.tMax`.
 * @param logPrior - log p_T per row of the latents x(T).
 * @param x - the data, shape [n, d].
 * @param options - divergence method, t₀, tolerances; see {@link LikelihoodOptions}.
 * @category Likelihood
 */
export const odeLikelihood = (
  ode: Ode<Tensor64>,
  logPrior: (latent: Tensor64) => Float64Array,
  x: Tensor64,
  options: LikelihoodOptions = {},
): E.Either<SolveError, LikelihoodResult> => {
  const context = `odeLikelihood (${ode.name})`;
  const inputs = checkInputs(context, ode.tMax, ode.tMin, x, options);
  if (E.isLeft(inputs)) return inputs;
  const t0 = inputs.right;
  const [n, d] = x.shape;
  const field = ode.vectorField;
  const method = options.divergence ?? { kind: "exact" };
  const outputs = E.flatMap(
    checkOutput(context, "vectorField(x, t0)", field(x, t0), x.shape),
    (): E.Either<ScoreflowError, void> =>
      method.kind === "analytic"
        ? checkOutput(context, "divergence(x, t0)", vector(method.divergence(x, t0)), [n])
        : E.right(undefined),
  );
  if (E.isLeft(outputs)) return outputs;

  const [divergence, divergenceCalls] = divergenceOf(method, field, n, d);
  const space = productSpace(tensorSpace<Float64Array>(), float64Space);
  const term: OdeTerm<readonly [Tensor64, Float64Array]> = {
    vectorField: ([y], t) => [field(y, t), divergence(y, t)],
  };
  const solved = solveOdeAdaptive(space, odeDopri5, term, [x, new Float64Array(n)], t0, ode.tMax, {
    rtol: options.rtol ?? DEFAULT_TOLERANCE,
    atol: options.atol ?? DEFAULT_TOLERANCE,
    ...(options.maxSteps === undefined ? {} : { maxSteps: options.maxSteps }),
  });
  return E.map((solution: AdaptiveSolution<readonly [Tensor64, Float64Array]>): LikelihoodResult => {
    const [latent, delta] = solution.y;
    const prior = logPrior(latent);
    const logLikelihood = prior.map((lp, r) => lp + delta[r]);
    return {
      logLikelihood,
      bitsPerDim: logLikelihood.map((lp) => bitsPerDim(lp, d)),
      logPrior: prior,
      latent,
      nfe: 1 + solution.nfe * (1 + divergenceCalls),
      steps: solution.steps,
    };
  })(solved);
};

/**
 * The log-density of the prior N(0, σ_p²·I) of a linear SDE at every row of a batch ({@link priorLogDensity}
 * row by row).
 *
 * @param sde - the linear SDE.
 * @param latent - points, shape [n, d].
 * @returns log p_T per row, length n.
 * @category Likelihood
 */
export const priorLogDensities = (sde: LinearSde, latent: Tensor64): Float64Array => {
  const n = latent.shape[0];
  const d = latent.data.length / n;
  return Float64Array.from({ length: n }, (_, r) =>
    priorLogDensity(sde, latent.data.subarray(r * d, (r + 1) * d)),
  );
};

/**
 * The log-likelihood of every row of x under a score model of a linear SDE through its probability-flow ODE
 * dx/dt = f(t)·x − ½g(t)²·s(x, t) (Song et al. 2021, eq. 13 and App. D.2): {@link odeLikelihood} on
 * `probabilityFlow` with the prior N(0, σ_p²·I) of the SDE as p_T (score_sde's `prior_logp`). The result is
 * log p_{t₀} of the model's marginal at t₀ (default `sde.tMin`); it differs from the model's exact log p_{t₀} by
 * the solver tolerance, the divergence estimator, and the mismatch log p_T − log prior at T (p_T is the prior
 * only as T → ∞: e.g. for the VP SDE, p_T = N(s(T)·μ, s(T)²Σ + σ(T)²I) with s(T) ≈ 6.6·10⁻³).
 *
 * @param sde - the linear SDE; T = `sde.tMax`.
 * @param score - the score model s(x, t) ≈ ∇ log p_t(x), acting row by row on [n, d].
 * @param x - the data, shape [n, d].
 * @param options - divergence method (an analytic one is the divergence of the whole flow: see
 * `probabilityFlowDivergence`), t₀, tolerances.
 * @category Likelihood
 */
export const probabilityFlowLikelihood = (
  sde: LinearSde,
  score: BatchField,
  x: Tensor64,
  options: LikelihoodOptions = {},
): E.Either<SolveError, LikelihoodResult> => {
  const space = tensorSpace<Float64Array>();
  return odeLikelihood(
    probabilityFlow(space, toSde(space)(sde), score),
    (latent) => priorLogDensities(sde, latent),
    x,
    options,
  );
};
