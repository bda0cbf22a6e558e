/**
 * The float32 tolerance of the kernel tests: a float32 result of a float64-accumulated expression is off by
 * ≤ 2⁻²⁴·|value| from the rounding of the result plus ≤ k·2⁻²⁴·Σ|terms| from float32 accumulation (k terms); every
 * component is bounded by tol·(|ref| + scale), `scale` the sum of the magnitudes of the terms, plus the float32
 * denormal spacing 2⁻¹⁴⁹.
 *
 * @module
 */

/** Whether every component of `a` is within tol·(|ref| + scale) + 2⁻¹⁴⁹ of `ref` (and the lengths agree). */
export const closeInFloat32 = (
  a: ArrayLike<number>,
  ref: ArrayLike<number>,
  scale: ArrayLike<number>,
  tol: number,
): boolean => {
  if (a.length !== ref.length) return false;
  for (let i = 0; i < ref.length; i++) {
    if (!(Math.abs(a[i] - ref[i]) <= tol * (Math.abs(ref[i]) + scale[i]) + 2 ** -149)) return false;
  }
  return true;
};
