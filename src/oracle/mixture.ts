/**
 * The Gaussian mixture p(x) = Σ_k w_k·N(x; μ_k, Σ_k) as plain data, its validating constructor and its first two
 * moments in closed form. The record stores the Cholesky factors and log-determinants of the covariances, so
 * that densities, scores and posterior means cost two triangular solves per component and point.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { isFiniteNumber, isNonNegative, isPositive } from "../core/validate.js";
import { cholesky, hasPositivePivots } from "./linalg.js";

/**
 * A Gaussian mixture in ℝ^d with K components, p(x) = Σ_k w_k·N(x; μ_k, Σ_k) (Bishop 2006, "Pattern Recognition
 * and Machine Learning", eq. 2.188). Plain data; every array is flat and row-major, component-major. Build it
 * with {@link gaussianMixture} (or {@link mixtureAtNoise}), which guarantees w_k ≥ 0, Σ_k w_k = 1, and
 * Σ_k symmetric positive definite with Σ_k = L_k·L_kᵀ.
 *
 * @category Oracle
 */
export interface GaussianMixture {
  /** The dimension d ≥ 1 of the space. */
  readonly dim: number;
  /** The number of components K ≥ 1. */
  readonly components: number;
  /** The weights w_k ≥ 0, length K, summing to 1. */
  readonly weights: Float64Array;
  /** ln w_k, length K (−∞ for a zero weight, whose component then never contributes). */
  readonly logWeights: Float64Array;
  /** The means μ_k, length K·d: μ_k[i] at index k·d + i. */
  readonly means: Float64Array;
  /** The covariances Σ_k, length K·d·d: Σ_k[i][j] at index k·d·d + i·d + j; symmetric positive definite. */
  readonly covariances: Float64Array;
  /** The lower Cholesky factors L_k of the covariances (Σ_k = L_k·L_kᵀ), laid out like `covariances`. */
  readonly choleskyFactors: Float64Array;
  /** ln det Σ_k = 2·Σ_i ln (L_k)_ii, length K. */
  readonly logDeterminants: Float64Array;
}

/**
 * A covariance matrix as given to {@link gaussianMixture}: d × d, either a flat row-major array of length d² or
 * d rows of length d.
 *
 * @category Oracle
 */
export type CovarianceInput = ArrayLike<number> | ReadonlyArray<ArrayLike<number>>;

/**
 * The parameters of {@link gaussianMixture}. Give exactly one of `covariances` and `variances`.
 *
 * @category Oracle
 */
export interface GaussianMixtureParams {
  /** The weights w_k: K ≥ 1 finite numbers ≥ 0 summing to 1 within 1e-9 (then renormalized exactly). */
  readonly weights: ArrayLike<number>;
  /** The means μ_k: K arrays of one length d ≥ 1, finite. */
  readonly means: ReadonlyArray<ArrayLike<number>>;
  /** Full covariances Σ_k: K symmetric positive-definite d × d matrices (flat row-major or nested rows). */
  readonly covariances?: ReadonlyArray<CovarianceInput>;
  /**
   * Axis-aligned covariances instead: one number v > 0 for Σ_k = v·I for every k, or, per component k, either a
   * number v_k > 0 (Σ_k = v_k·I) or d numbers > 0 (Σ_k = diag(v_k)).
   */
  readonly variances?: number | ReadonlyArray<number | ArrayLike<number>>;
}

/** The context named in the errors of {@link gaussianMixture}. */
const CONTEXT = "Gaussian mixture";
/** How far the weights may sum from 1. */
const WEIGHT_SUM_TOLERANCE = 1e-9;
/** Relative tolerance of the symmetry check |Σ_ij − Σ_ji| ≤ tol·max(|Σ_ii|, |Σ_jj|). */
const SYMMETRY_TOLERANCE = 1e-10;

/**
 * Copies `length` finite numbers of `v` into `out` at `offset`, or names the first entry that is not; `shape`
 * words the expected shape in the error.
 */
const readFinite = (
  field: string,
  v: ArrayLike<number> | undefined,
  length: number,
  out: Float64Array,
  offset: number,
  shape = `an array of length ${length}`,
): E.Either<ScoreflowError, void> => {
  if (v === null || typeof v !== "object" || v.length !== length) {
    return E.left(
      scoreflowError(
        CONTEXT,
        field,
        v,
        `must be ${shape}`,
        `${field}.length=${v === null || typeof v !== "object" ? "none" : v.length}`,
      ),
    );
  }
  for (let i = 0; i < length; i++) {
    if (!isFiniteNumber.test(v[i])) {
      return E.left(scoreflowError(CONTEXT, `${field}[${i}]`, v[i], isFiniteNumber.rule));
    }
  }
  for (let i = 0; i < length; i++) out[offset + i] = v[i];
  return E.right(undefined);
};

/** Reads the K weights, checks w_k ≥ 0 and |Σ w_k − 1| ≤ 1e-9, and returns them divided by their sum. */
const readWeights = (weights: ArrayLike<number>): E.Either<ScoreflowError, Float64Array> => {
  if (weights === null || typeof weights !== "object" || !(weights.length >= 1)) {
    return E.left(scoreflowError(CONTEXT, "weights", weights, "must hold at least one weight (K ≥ 1)"));
  }
  const out = new Float64Array(weights.length);
  let sum = 0;
  for (let k = 0; k < weights.length; k++) {
    const w = weights[k];
    if (!isNonNegative.test(w))
      return E.left(scoreflowError(CONTEXT, `weights[${k}]`, w, isNonNegative.rule));
    out[k] = w;
    sum += w;
  }
  if (!(Math.abs(sum - 1) <= WEIGHT_SUM_TOLERANCE)) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "weights",
        weights,
        `must sum to 1 within ${WEIGHT_SUM_TOLERANCE}`,
        `sum=${sum}`,
      ),
    );
  }
  for (let k = 0; k < out.length; k++) out[k] /= sum;
  return E.right(out);
};

/** Reads covariance k (flat or nested) into `out` at `offset`, checking shape and finiteness. */
const readMatrix = (
  field: string,
  m: CovarianceInput,
  d: number,
  out: Float64Array,
  offset: number,
): E.Either<ScoreflowError, void> => {
  const nested = m !== null && typeof m === "object" && m.length === d && typeof m[0] === "object";
  if (!nested) {
    const shape = `a ${d} × ${d} matrix (${d * d} numbers row-major, or ${d} rows of ${d})`;
    return readFinite(field, m as ArrayLike<number>, d * d, out, offset, shape);
  }
  const rows = m as ReadonlyArray<ArrayLike<number>>;
  for (let i = 0; i < d; i++) {
    const row = readFinite(`${field}[${i}]`, rows[i], d, out, offset + i * d);
    if (E.isLeft(row)) return row;
  }
  return E.right(undefined);
};

/** Checks |Σ_ij − Σ_ji| ≤ 1e-10·max(|Σ_ii|, |Σ_jj|) and replaces Σ by (Σ + Σᵀ)/2. */
const symmetrize = (field: string, a: Float64Array, d: number): E.Either<ScoreflowError, void> => {
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      const aij = a[i * d + j];
      const aji = a[j * d + i];
      const scale = Math.max(Math.abs(a[i * d + i]), Math.abs(a[j * d + j]));
      if (!(Math.abs(aij - aji) <= SYMMETRY_TOLERANCE * scale)) {
        return E.left(
          scoreflowError(
            CONTEXT,
            `${field}[${i}][${j}]`,
            aij,
            `must equal ${field}[${j}][${i}] (symmetric, relative tolerance ${SYMMETRY_TOLERANCE})`,
            `${field}[${i}][${j}]=${aij}, ${field}[${j}][${i}]=${aji}`,
          ),
        );
      }
      const mean = (aij + aji) / 2;
      a[i * d + j] = mean;
      a[j * d + i] = mean;
    }
  }
  return E.right(undefined);
};

/** Writes the diagonal covariance given by `variances` for component k into `out` at `offset`. */
const readVariance = (
  variances: number | ReadonlyArray<number | ArrayLike<number>>,
  k: number,
  d: number,
  out: Float64Array,
  offset: number,
): E.Either<ScoreflowError, void> => {
  const field = typeof variances === "number" ? "variances" : `variances[${k}]`;
  const v = typeof variances === "number" ? variances : variances[k];
  const diagonal = new Float64Array(d);
  if (typeof v === "number") {
    if (!isPositive.test(v)) return E.left(scoreflowError(CONTEXT, field, v, isPositive.rule));
    diagonal.fill(v);
  } else {
    const read = readFinite(field, v, d, diagonal, 0);
    if (E.isLeft(read)) return read;
    const bad = diagonal.findIndex((x) => !(x > 0));
    if (bad >= 0) return E.left(scoreflowError(CONTEXT, `${field}[${bad}]`, diagonal[bad], isPositive.rule));
  }
  for (let i = 0; i < d; i++) out[offset + i * d + i] = diagonal[i];
  return E.right(undefined);
};

/**
 * Assembles a mixture from weights, means and symmetric covariances without checking them: factors every
 * Σ_k = L_k·L_kᵀ (Golub & Van Loan 2013, §4.2) and stores ln det Σ_k = 2·Σ_i ln (L_k)_ii. The inputs must
 * already satisfy the invariants of {@link GaussianMixture} except positive definiteness, which
 * {@link checkPositiveDefinite} then verifies. Shared by the constructors of this folder; not re-exported from
 * the package.
 *
 * @param dim - the dimension d ≥ 1.
 * @param weights - K weights ≥ 0 summing to 1.
 * @param means - K·d finite means, component-major.
 * @param covariances - K·d·d finite symmetric matrices, component-major, row-major.
 * @category Oracle
 */
export const factorMixture = (
  dim: number,
  weights: Float64Array,
  means: Float64Array,
  covariances: Float64Array,
): GaussianMixture => {
  const K = weights.length;
  const dd = dim * dim;
  const choleskyFactors = new Float64Array(K * dd);
  const logDeterminants = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const l = cholesky(covariances.subarray(k * dd, (k + 1) * dd), dim);
    choleskyFactors.set(l, k * dd);
    let logDet = 0;
    for (let i = 0; i < dim; i++) logDet += 2 * Math.log(l[i * dim + i]);
    logDeterminants[k] = logDet;
  }
  return {
    dim,
    components: K,
    weights,
    logWeights: weights.map(Math.log),
    means,
    covariances,
    choleskyFactors,
    logDeterminants,
  };
};

/**
 * Checks that every covariance of a mixture from {@link factorMixture} is numerically positive definite
 * ({@link hasPositivePivots}: its Cholesky factor has finite pivots above d·ε·Σ_jj); the error names
 * `field[k]` in `context` for the first that is not. Not re-exported from the package.
 *
 * @param context - the constructor named in errors.
 * @param field - the field named in errors, indexed by component.
 * @param gm - the assembled mixture.
 * @category Oracle
 */
export const checkPositiveDefinite = (
  context: string,
  field: string,
  gm: GaussianMixture,
): E.Either<ScoreflowError, GaussianMixture> => {
  const dd = gm.dim * gm.dim;
  for (let k = 0; k < gm.components; k++) {
    const sigma = gm.covariances.subarray(k * dd, (k + 1) * dd);
    if (!hasPositivePivots(sigma, gm.choleskyFactors.subarray(k * dd, (k + 1) * dd), gm.dim)) {
      return E.left(
        scoreflowError(
          context,
          `${field}[${k}]`,
          sigma,
          "must be symmetric positive definite (Cholesky failed)",
        ),
      );
    }
  }
  return E.right(gm);
};

/**
 * Builds a {@link GaussianMixture} p(x) = Σ_k w_k·N(x; μ_k, Σ_k) (Bishop 2006, eq. 2.188) after validating every
 * field: K ≥ 1 weights, finite and ≥ 0, summing to 1 within 1e-9 (they are then divided by their sum, so the
 * stored weights sum to 1 to rounding); K means of one length d ≥ 1, finite; exactly one of `covariances`
 * (K finite d × d matrices, symmetric to a relative 1e-10 — stored as (Σ + Σᵀ)/2 — and positive definite, i.e.
 * Cholesky succeeds with pivots above d·ε·Σ_jj) and `variances` (isotropic or diagonal, every variance > 0).
 * Errors name the field and index, e.g. «Gaussian mixture: covariances[1] must be symmetric positive definite
 * (Cholesky failed), got covariances[1]=[1, 2, 2, 1]».
 *
 * @param params - weights, means and covariances or variances; see {@link GaussianMixtureParams}.
 * @category Oracle
 */
export const gaussianMixture = (params: GaussianMixtureParams): E.Either<ScoreflowError, GaussianMixture> => {
  const { weights: rawWeights, means: rawMeans, covariances: rawCovariances, variances } = params;
  const checkedWeights = readWeights(rawWeights);
  if (E.isLeft(checkedWeights)) return checkedWeights;
  const weights = checkedWeights.right;
  const K = weights.length;
  if (rawMeans === null || typeof rawMeans !== "object" || rawMeans.length !== K) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "means",
        rawMeans,
        `must hold one mean per weight (K = ${K})`,
        `means.length=${rawMeans?.length}`,
      ),
    );
  }
  const d = rawMeans[0]?.length;
  if (!(typeof d === "number" && Number.isSafeInteger(d) && d >= 1)) {
    return E.left(scoreflowError(CONTEXT, "means[0]", rawMeans[0], "must be an array of length d ≥ 1"));
  }
  const means = new Float64Array(K * d);
  for (let k = 0; k < K; k++) {
    const read = readFinite(`means[${k}]`, rawMeans[k], d, means, k * d);
    if (E.isLeft(read)) return read;
  }
  if ((rawCovariances === undefined) === (variances === undefined)) {
    return E.left(
      scoreflowError(
        CONTEXT,
        "covariances",
        rawCovariances,
        "or variances must be given (exactly one of the two)",
        `covariances ${rawCovariances === undefined ? "absent" : "given"}, variances ${variances === undefined ? "absent" : "given"}`,
      ),
    );
  }
  const dd = d * d;
  const covariances = new Float64Array(K * dd);
  const field = rawCovariances === undefined ? "variances" : "covariances";
  const given = rawCovariances ?? variances;
  if (typeof given !== "number" && (given === null || typeof given !== "object" || given.length !== K)) {
    return E.left(
      scoreflowError(
        CONTEXT,
        field,
        given,
        `must hold one entry per weight (K = ${K})`,
        `${field}.length=${given?.length}`,
      ),
    );
  }
  for (let k = 0; k < K; k++) {
    if (rawCovariances !== undefined) {
      const read = readMatrix(`covariances[${k}]`, rawCovariances[k], d, covariances, k * dd);
      if (E.isLeft(read)) return read;
      const symmetric = symmetrize(`covariances[${k}]`, covariances.subarray(k * dd, (k + 1) * dd), d);
      if (E.isLeft(symmetric)) return symmetric;
    } else if (variances !== undefined) {
      const read = readVariance(variances, k, d, covariances, k * dd);
      if (E.isLeft(read)) return read;
    }
  }
  return checkPositiveDefinite(CONTEXT, field, factorMixture(d, weights, means, covariances));
};

/**
 * The mean of the mixture, E[x] = Σ_k w_k·μ_k (Bishop 2006, eq. 2.188 and §9.2).
 *
 * @returns a `Float64Array` of length d.
 * @category Oracle
 */
export const mixtureMean = (gm: GaussianMixture): Float64Array => {
  const { dim: d, components: K, weights, means } = gm;
  const mean = new Float64Array(d);
  for (let k = 0; k < K; k++) for (let i = 0; i < d; i++) mean[i] += weights[k] * means[k * d + i];
  return mean;
};

/**
 * The covariance of the mixture by the law of total covariance,
 * Cov[x] = Σ_k w_k·(Σ_k + (μ_k − m)(μ_k − m)ᵀ) with m = E[x] (Bishop 2006, §9.2; centred form, which avoids
 * the cancellation of Σ_k w_k·(Σ_k + μ_kμ_kᵀ) − m·mᵀ).
 *
 * @returns a d × d row-major `Float64Array`.
 * @category Oracle
 */
export const mixtureCovariance = (gm: GaussianMixture): Float64Array => {
  const { dim: d, components: K, weights, means, covariances } = gm;
  const mean = mixtureMean(gm);
  const cov = new Float64Array(d * d);
  for (let k = 0; k < K; k++) {
    const w = weights[k];
    for (let i = 0; i < d; i++) {
      const ci = means[k * d + i] - mean[i];
      for (let j = 0; j < d; j++) {
        cov[i * d + j] += w * (covariances[k * d * d + i * d + j] + ci * (means[k * d + j] - mean[j]));
      }
    }
  }
  return cov;
};
