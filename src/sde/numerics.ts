/**
 * Small float64 kernels shared by the closed-form SDEs.
 *
 * @module
 */

/**
 * log(1 + x²) without overflow for |x| > 10¹⁵⁴ and without loss of precision for small |x|:
 * log1p(x²) for |x| ≤ 1, 2·log|x| + log1p(x⁻²) otherwise.
 *
 * @category SDEs
 */
export const log1pSquare = (x: number): number => {
  const a = Math.abs(x);
  return a <= 1 ? Math.log1p(a * a) : 2 * Math.log(a) + Math.log1p(1 / (a * a));
};
