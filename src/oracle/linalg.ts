/**
 * Small dense linear algebra in float64 for the Gaussian-mixture oracle: the Cholesky factorization of a
 * symmetric positive-definite matrix, triangular solves with its factor and a matrix–vector product. Matrices
 * are square, d × d, row-major `Float64Array`s (entry (i, j) at index i·d + j); vectors are `Float64Array`s of
 * length d. Inner numeric code: the functions trust their shapes and never throw.
 *
 * @module
 */

/**
 * The Cholesky factor of a symmetric positive-definite matrix: the lower-triangular L with positive diagonal
 * and A = L·Lᵀ (Golub & Van Loan 2013, "Matrix Computations", 4th ed., §4.2; computed row by row, the
 * Cholesky–Banachiewicz order):
 *
 *   L_jj = √(A_jj − Σ_{k<j} L_jk²),  L_ij = (A_ij − Σ_{k<j} L_ik·L_jk) / L_jj  (i > j).
 *
 * Only the lower triangle of `a` is read; the strict upper triangle of the result is zero. When `a` is not
 * positive definite some pivot A_jj − Σ L_jk² is ≤ 0 and the factor holds NaN or ±Infinity from there on:
 * check it with {@link hasPositivePivots}.
 *
 * @param a - symmetric d × d matrix, row-major.
 * @param d - the dimension, d ≥ 1.
 * @returns L, d × d row-major.
 * @category Oracle
 */
export const cholesky = (a: Float64Array, d: number): Float64Array => {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let acc = a[i * d + j];
      for (let k = 0; k < j; k++) acc -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = i === j ? Math.sqrt(acc) : acc / l[j * d + j];
    }
  }
  return l;
};

/**
 * True when `l = cholesky(a, d)` is a numerically sound factor: every pivot L_jj is finite and
 * L_jj² > d·ε·A_jj, with ε = 2⁻⁵² the float64 machine epsilon. A pivot below that bound means that A is singular
 * to working precision (Higham 2002, "Accuracy and Stability of Numerical Algorithms", 2nd ed., Ch. 10: in
 * floating point, Cholesky is reliable only while d·ε·κ₂(A) ≪ 1, and L_jj²/A_jj ≥ λ_min(A)/λ_max(A) = 1/κ₂(A)),
 * so the matrix is rejected as not positive definite.
 *
 * @param a - the factored matrix, d × d row-major.
 * @param l - its factor from {@link cholesky}.
 * @param d - the dimension, d ≥ 1.
 * @category Oracle
 */
export const hasPositivePivots = (a: Float64Array, l: Float64Array, d: number): boolean => {
  for (let j = 0; j < d; j++) {
    const pivot = l[j * d + j];
    if (!(Number.isFinite(pivot) && pivot * pivot > d * Number.EPSILON * a[j * d + j])) return false;
  }
  return true;
};

/**
 * Forward substitution: solves L·y = b for lower-triangular L with nonzero diagonal,
 * y_i = (b_i − Σ_{j<i} L_ij·y_j) / L_ii (Golub & Van Loan 2013, Alg. 3.1.1). `out` may be `b` itself.
 *
 * @param l - lower-triangular d × d matrix, row-major.
 * @param d - the dimension, d ≥ 1.
 * @param b - right-hand side, length d.
 * @param out - where y is written, length d.
 * @returns `out`.
 * @category Oracle
 */
export const solveLower = (l: Float64Array, d: number, b: Float64Array, out: Float64Array): Float64Array => {
  for (let i = 0; i < d; i++) {
    let acc = b[i];
    for (let j = 0; j < i; j++) acc -= l[i * d + j] * out[j];
    out[i] = acc / l[i * d + i];
  }
  return out;
};

/**
 * Back substitution with the transpose: solves Lᵀ·x = y for lower-triangular L with nonzero diagonal,
 * x_i = (y_i − Σ_{j>i} L_ji·x_j) / L_ii (Golub & Van Loan 2013, Alg. 3.1.2 applied to Lᵀ). Together with
 * {@link solveLower} it solves A·x = b from A = L·Lᵀ. `out` may be `y` itself.
 *
 * @param l - lower-triangular d × d matrix, row-major.
 * @param d - the dimension, d ≥ 1.
 * @param y - right-hand side, length d.
 * @param out - where x is written, length d.
 * @returns `out`.
 * @category Oracle
 */
export const solveLowerTransposed = (
  l: Float64Array,
  d: number,
  y: Float64Array,
  out: Float64Array,
): Float64Array => {
  for (let i = d - 1; i >= 0; i--) {
    let acc = y[i];
    for (let j = i + 1; j < d; j++) acc -= l[j * d + i] * out[j];
    out[i] = acc / l[i * d + i];
  }
  return out;
};

/**
 * The matrix–vector product (A·x)_i = Σ_j A_ij·x_j. `out` must not alias `x`.
 *
 * @param a - d × d matrix, row-major.
 * @param d - the dimension, d ≥ 1.
 * @param x - vector, length d.
 * @param out - where A·x is written, length d.
 * @returns `out`.
 * @category Oracle
 */
export const matVec = (a: Float64Array, d: number, x: Float64Array, out: Float64Array): Float64Array => {
  for (let i = 0; i < d; i++) {
    let acc = 0;
    for (let j = 0; j < d; j++) acc += a[i * d + j] * x[j];
    out[i] = acc;
  }
  return out;
};
